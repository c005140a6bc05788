package web

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/limits"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui"
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
			if err := h.updateUser(ctx, e.UserID, func(u *store.User) {
				u.Phone, u.PhoneType, u.PhoneVerified = e.Number, string(e.Type), true
			}); err != nil {
				return "", wrapf(err, "set phone")
			}
		case journey.SetPassword:
			hash, err := h.Passwords.Hash(ctx, e.Password)
			if err != nil {
				return "", wrapf(err, "hash password")
			}
			if err := h.updateUser(ctx, e.UserID, func(u *store.User) { u.PasswordHash = hash }); err != nil {
				return "", wrapf(err, "set password")
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
	var problems []ui.FieldError
	var notSent *textNotSent
	for _, e := range res.Effects {
		switch e := e.(type) {
		case journey.SendEmailCode:
			m, err := h.Messages.VerificationEmail(e.To, e.Code, pol.EmailCodeTTL)
			if e.Purpose == journey.EmailResetPassword {
				m, err = h.Messages.PasswordResetEmail(e.To, e.Code, pol.EmailCodeTTL)
			}
			if err == nil {
				err = h.Email.SendEmail(ctx, m)
			}
			if err != nil {
				h.Log.ErrorContext(ctx, "send email code", "err", err)
				problems = append(problems, ui.FieldError{Message: msgEmailNotSent})
			}
		case journey.SendAccountExistsEmail:
			m, err := h.Messages.AccountExistsEmail(e.To)
			if err == nil {
				err = h.Email.SendEmail(ctx, m)
			}
			if err != nil {
				// The page must look the same as for a new address.
				h.Log.ErrorContext(ctx, "send account-exists email", "err", err)
				problems = append(problems, ui.FieldError{Message: msgEmailNotSent})
			}
		case journey.SendSMSCode:
			m, err := h.Messages.CodeSMS(e.To, e.Code, pol.SMSCodeTTL)
			if err == nil {
				m.Verified = e.Verified
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
			problem, err := h.placeCall(ctx, res.State.ID, e)
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

func (h *Handler) updateUser(ctx context.Context, id string, change func(*store.User)) error {
	u, err := h.Store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	change(u)
	u.UpdatedAt = h.now()
	return h.Store.UpdateUser(ctx, u)
}

// Calls in flight: "call:<id>" names the journey a call belongs to, and
// "callresult:<id>" holds its outcome once reported.
func callKey(id string) string   { return "call:" + id }
func resultKey(id string) string { return "callresult:" + id }

// callRecordTTL keeps a call's records a while after it may last, so that a late
// webhook still finds its call (and is then refused as finished).
func (h *Handler) callRecordTTL() time.Duration {
	return h.Machine.Policy().CallTimeout + 10*time.Minute
}

// placeCall records the call, then asks the caller to place it. A call that cannot
// be placed is recorded as failed at once, so the waiting page offers another way;
// one the daily ceiling stopped is recorded as such, and the problem to show says
// so at once.
func (h *Handler) placeCall(ctx context.Context, journeyID string, e journey.PlaceCall) (string, error) {
	if err := h.Ephemeral.Put(ctx, callKey(e.CallID), []byte(journeyID), h.callRecordTTL()); err != nil {
		return "", wrapf(err, "record call")
	}
	script, err := h.Messages.CallScript()
	if err != nil {
		return "", err
	}
	err = h.Caller.PlaceCall(ctx, factors.Call{ID: e.CallID, To: e.To, Script: script, Verified: e.Verified})
	switch {
	case err == nil:
		return "", nil
	case errors.Is(err, factors.ErrSendCeiling):
		h.Log.WarnContext(ctx, "place call", "ending", journey.PhoneEnding(e.To), "err", err)
		return h.msgCeiling(e.Verified), h.RecordCallOutcome(ctx, e.CallID, factors.CallCeilingReached)
	default:
		h.Log.WarnContext(ctx, "place call", "ending", journey.PhoneEnding(e.To), "err", err)
		return "", h.RecordCallOutcome(ctx, e.CallID, factors.CallFailed)
	}
}

// msgCeiling says that the daily ceiling of texts and calls (or the share of it
// for new numbers) is spent, until the UTC day ends.
func (h *Handler) msgCeiling(verified bool) string {
	return journey.MsgSendCeiling(verified, limits.WindowLeft(limits.Day, h.now()), h.Machine.Policy().ContactText)
}

// RecordCallOutcome implements factors.CallOutcomes: the call simulator and the
// voice webhook report how a call ended. Only the first outcome of a call counts.
func (h *Handler) RecordCallOutcome(ctx context.Context, callID string, result factors.CallResult) error {
	if callID == "" {
		return factors.ErrUnknownCall
	}
	if _, _, err := h.Ephemeral.Get(ctx, callKey(callID)); errors.Is(err, store.ErrNotFound) {
		return factors.ErrUnknownCall
	} else if err != nil {
		return err
	}
	err := h.Ephemeral.Create(ctx, resultKey(callID), []byte(result), h.callRecordTTL())
	if errors.Is(err, store.ErrConflict) {
		return factors.ErrUnknownCall // already finished
	}
	return err
}

// callEvent is the event a call-waiting page applies: the call's recorded outcome,
// or, when the call is overdue (or the person pressed 'Continue'), Continue, which
// ends an unanswered call. nil while the call is still ringing.
func (h *Handler) callEvent(ctx context.Context, s *journey.State, pressedContinue bool) journey.Event {
	if !s.Step.IsCallWaitStep() || s.Call == nil {
		return nil
	}
	b, _, err := h.Ephemeral.Get(ctx, resultKey(s.Call.ID))
	if err == nil {
		return journey.CallOutcome{CallID: s.Call.ID, Result: factors.CallResult(b)}
	}
	if !errors.Is(err, store.ErrNotFound) {
		h.Log.WarnContext(ctx, "read call outcome", "err", err)
	}
	if pressedContinue || h.now().After(s.Call.ExpiresAt) {
		return journey.Continue{}
	}
	return nil
}
