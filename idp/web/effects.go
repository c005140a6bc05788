package web

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"net/http"
	"strings"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/messages"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/limits"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui"
	"github.com/councilforms/idp/ui/locale"
)

// newUserID returns a stable opaque user id (the OIDC sub): 128 random bits.
func newUserID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

// performWrites carries out a transition's durable effects, in order, before the
// journey is saved as moved on: the account changes, the end of a run of wrong
// codes, the audit events and the end of the sign-in. Each is safe to repeat, so a retry after a failure completes
// them. It returns the URL to send the browser to when the journey is over.
func (h *Handler) performWrites(w http.ResponseWriter, r *http.Request, res journey.Result) (string, error) {
	ctx := r.Context()
	var redirect string
	for _, e := range res.Effects {
		switch e := e.(type) {
		case journey.SetPhone:
			var notice messages.Change
			var to string
			if err := h.updateUser(ctx, e.UserID, func(u *store.User) {
				if u.PhoneVerified && u.Phone != "" && u.Phone != e.Number {
					// A verified number replaced (not a first enrolment): its owner is told.
					notice, to = messages.PhoneChanged{Ending: journey.PhoneEnding(e.Number)}, u.Email
				}
				u.Phone, u.PhoneType, u.PhoneVerified = e.Number, string(e.Type), true
			}); err != nil {
				return "", wrapf(err, "set phone")
			}
			if err := h.notify(ctx, to, res.State.Lang, notice); err != nil {
				return "", err
			}
		case journey.RequestPhoneChange:
			if err := h.requestPhoneChange(ctx, r, e, res.State.Lang); err != nil {
				return "", err
			}
		case journey.CancelPhoneChange:
			if err := h.cancelPhoneChange(ctx, r, e); err != nil {
				return "", err
			}
		case journey.SetPassword:
			hash, err := h.Passwords.Hash(ctx, e.Password)
			if err != nil {
				return "", wrapf(err, "hash password")
			}
			migrated := false
			var to string
			if err := h.updateUser(ctx, e.UserID, func(u *store.User) {
				u.PasswordHash, to = hash, u.Email
				// An imported account's first password of its own (a reset, or
				// the new password its first sign-in asked for).
				if u.AwaitingMigration() {
					u.MigratedAt, migrated = h.now(), true
				}
			}); err != nil {
				return "", wrapf(err, "set password")
			}
			// A first password of an imported account is not a change to tell of.
			if migrated {
				h.audit(ctx, r, "user.password_migrated", e.UserID, "new password set")
				h.metrics.migrated.WithLabelValues("new_password").Inc()
			} else if err := h.notify(ctx, to, res.State.Lang, messages.PasswordChanged{}); err != nil {
				return "", err
			}
		case journey.ResetWrongCodes:
			if err := h.resetWrongCodes(ctx, e.Factor); err != nil {
				return "", wrapf(err, "reset wrong codes")
			}
		case journey.UnlockAccount:
			if err := h.Store.ResetLoginFailures(ctx, e.UserID); err != nil {
				return "", wrapf(err, "unlock account")
			}
		case journey.RevokeRefreshTokens:
			if err := h.Provider.RevokeUserTokens(ctx, e.UserID); err != nil {
				return "", wrapf(err, "revoke tokens")
			}
		case journey.Audit:
			h.audit(ctx, r, e.Kind, e.UserID, e.Detail)
		case journey.CompleteAuth:
			if e.AuthRequestID == "" {
				redirect = noticeAccount("phone-changed")
			} else {
				u, err := h.Provider.Complete(w, r, e.AuthRequestID, provider.Authentication{
					UserID: e.UserID, AMR: e.AMR, AuthTime: e.AuthTime,
				})
				if err != nil {
					return "", err
				}
				redirect = u
				// A sign-in to a form app, not a change of phone from the account
				// pages. When the person last signed in (users show, users export)
				// is a record, not a rule: a failure to keep it does not stop it.
				if err := h.Store.RecordSignIn(ctx, e.UserID, h.now()); err != nil {
					h.Log.WarnContext(ctx, "record sign-in", "user", e.UserID, "err", err)
				}
				// The language of this sign-in is the account's from now on: its
				// notices and the locale claim follow it. Like the time above, a
				// record: a failure to keep it does not stop the sign-in.
				if err := h.rememberLocale(ctx, e.UserID, res.State.Lang); err != nil {
					h.Log.WarnContext(ctx, "record locale", "user", e.UserID, "err", err)
				}
			}
			// Both factors proven in this browser: it is known to the account
			// from now on (its wrong passwords have their own budget).
			h.rememberBrowser(w, r, e.UserID)
			h.metrics.complete(res.State.Kind, e.AMR)
		}
	}
	return redirect, nil
}

// performSends sends a saved transition's messages and places its calls. It
// returns problems to show on the page (an email that could not be sent), and,
// when a text message could not be sent, why (for journey.SMSNotSent).
func (h *Handler) performSends(r *http.Request, res journey.Result) ([]ui.FieldError, *textNotSent, error) {
	ctx := r.Context()
	pol := h.Machine.Policy()
	msgs := h.Messages.In(res.State.Lang)
	var problems []ui.FieldError
	var notSent *textNotSent
	for _, e := range res.Effects {
		switch e := e.(type) {
		case journey.SendEmailCode:
			m, err := msgs.VerificationEmail(e.To, e.Code, pol.EmailCodeTTL)
			switch e.Purpose {
			case journey.EmailResetPassword:
				m, err = msgs.PasswordResetEmail(e.To, e.Code, pol.EmailCodeTTL)
			case journey.EmailRecoverPhone:
				m, err = msgs.PhoneRecoveryEmail(e.To, e.Code, pol.EmailCodeTTL)
			}
			if err == nil {
				err = h.Email.SendEmail(ctx, m)
			}
			if err != nil {
				h.Log.ErrorContext(ctx, "send email code", "err", err)
				problems = append(problems, ui.FieldError{Message: msgEmailNotSent})
			}
		case journey.SendAccountExistsEmail:
			m, err := msgs.AccountExistsEmail(e.To)
			if err == nil {
				err = h.Email.SendEmail(ctx, m)
			}
			if err != nil {
				// The page must look the same as for a new address.
				h.Log.ErrorContext(ctx, "send account-exists email", "err", err)
				problems = append(problems, ui.FieldError{Message: msgEmailNotSent})
			}
		case journey.SendSMSCode:
			m, err := msgs.CodeSMSFor(e.To, e.Code, pol.SMSCodeTTL, purposeOf(res.State))
			if err == nil {
				m.Verified, m.ClientID = e.Verified, h.journeyClient(r, res.State)
				err = h.SMS.SendSMS(ctx, m)
			}
			if err != nil {
				h.Log.WarnContext(ctx, "send text message", "ending", journey.PhoneEnding(e.To), "err", err)
				msg := msgTextsDown
				switch {
				case errors.Is(err, factors.ErrSendCeiling):
					msg = h.msgCeiling(e.Verified)
				case errors.Is(err, factors.ErrUndeliverable):
					msg = msgTextNotAllowed
				}
				notSent = &textNotSent{message: msg, to: e.To, verified: e.Verified}
			}
		case journey.PlaceCall:
			problem, err := h.placeCall(ctx, res.State, h.journeyClient(r, res.State), e)
			if err != nil {
				return nil, nil, err
			}
			if problem != "" {
				problems = append(problems, ui.FieldError{Message: problem})
			}
		}
	}
	return problems, notSent, nil
}

// textNotSent is a text message that could not be sent: what to tell the
// person, and the send to give back to the budgets.
type textNotSent struct {
	message  string
	to       string
	verified bool
}

func noticeAccount(name string) string { return PathAccount + "?notice=" + name }

// notify queues the notice of a change to an account for its owner (to; none
// when ch is nil). It goes through the durable outbox before the journey moves
// on: a step that fails here is repeated, and at worst the notice goes twice.
func (h *Handler) notify(ctx context.Context, to, lang string, ch messages.Change) error {
	if ch == nil || to == "" {
		return nil
	}
	m, err := h.Messages.In(lang).AccountChangedEmail(to, ch, h.now(), h.Pages.Contact(lang).Text)
	if err != nil {
		return wrapf(err, "account notice")
	}
	switch err := h.Email.SendEmail(ctx, m); {
	case errors.Is(err, factors.ErrUndeliverable):
		// An address no message can reach: nothing to retry.
		h.Log.WarnContext(ctx, "account notice not sent: the address cannot take email", "err", err)
	case err != nil:
		return wrapf(err, "queue the account notice")
	}
	return nil
}

// durableEmail is an email sender that queues in the durable outbox
// (*email.Outbox): it gives the outbox row of an email, for a store method that
// writes it in one transaction with the change it announces.
type durableEmail interface {
	Message(m factors.Email) (*store.OutboxMessage, error)
	Queued(ctx context.Context, msg *store.OutboxMessage)
}

// writeWithNotice makes a durable change (write) and queues the notice of it to
// its owner (to, ch; as notify) in the same transaction: write is given the
// notice's outbox row to store with the change, so that both are stored or
// neither, and a change is never kept that its owner was not told of. An email
// sender without a durable outbox (the dev inbox, which keeps nothing across a
// restart) is given the notice once write has succeeded. write's error is
// returned as it is.
func (h *Handler) writeWithNotice(ctx context.Context, to, lang string, ch messages.Change, write func(notice *store.OutboxMessage) error) error {
	outbox, ok := h.Email.(durableEmail)
	if !ok {
		if err := write(nil); err != nil {
			return err
		}
		return h.notify(ctx, to, lang, ch)
	}
	m, err := h.Messages.In(lang).AccountChangedEmail(to, ch, h.now(), h.Machine.Policy().ContactText)
	if err != nil {
		return wrapf(err, "account notice")
	}
	notice, err := outbox.Message(m)
	if errors.Is(err, factors.ErrUndeliverable) {
		// An address no message can reach: the change is made all the same.
		h.Log.WarnContext(ctx, "account notice not sent: the address cannot take email", "err", err)
		notice = nil
	} else if err != nil {
		return wrapf(err, "account notice")
	}
	if err := write(notice); err != nil {
		return err
	}
	if notice != nil {
		outbox.Queued(ctx, notice)
	}
	return nil
}

func (h *Handler) updateUser(ctx context.Context, id string, change func(*store.User)) error {
	u, err := h.Store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	change(u)
	u.UpdatedAt = h.now()
	return h.Store.UpdateUser(ctx, u)
}

// msgCeiling says that the daily ceiling of texts and calls (or the share of it
// for new numbers) is spent, until the UTC day ends.
func (h *Handler) msgCeiling(verified bool) string {
	return journey.MsgSendCeiling(verified, limits.WindowLeft(limits.Day, h.now()), h.Machine.Policy().ContactText)
}

// journeyClient is the form app the journey s signs in to, for the daily
// counts of texts and calls; "" when it has none (the account pages). A
// journey saved before it kept the id reads it from its sign-in request ("" if
// that is gone).
func (h *Handler) journeyClient(r *http.Request, s *journey.State) string {
	if s == nil || s.AuthRequestID == "" {
		return ""
	}
	if s.ClientID != "" {
		return s.ClientID
	}
	lr, err := h.Provider.LoginRequest(r, s.AuthRequestID)
	if err != nil {
		return ""
	}
	return lr.ClientID
}

// purposeOf is what the phone code or call the journey asks for is for, so
// the text message and the call script say so: adding a phone, confirming
// it, signing in or resetting a password.
func purposeOf(s *journey.State) messages.Purpose {
	switch s.Step {
	case journey.StepPhoneSMSCode, journey.StepPhoneCallWait, journey.StepPhoneEnter:
		return messages.PurposeAddPhone
	case journey.StepPhoneConfirm, journey.StepPhoneConfirmSMSCode, journey.StepPhoneConfirmCallWait:
		return messages.PurposeConfirmPhone
	}
	if s.Kind == journey.KindForgotPassword {
		return messages.PurposeResetPassword
	}
	return messages.PurposeSignIn
}

// rememberLocale keeps lang on the account when it is not already there.
func (h *Handler) rememberLocale(ctx context.Context, userID, lang string) error {
	lang = locale.Or(lang)
	u, err := h.Store.UserByID(ctx, userID)
	if err != nil || u.Locale == lang {
		return err
	}
	return h.updateUser(ctx, userID, func(u *store.User) { u.Locale = lang })
}
