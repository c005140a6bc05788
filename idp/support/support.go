// Package support is what operators do to people's accounts: unlock, disable,
// enable, reset phone, end sessions and delete (erasure), and the audit log's
// export. The admin commands (cmd/idp: idp users ..., idp audit export) and
// the operators' console (idp/admin) both call it, so both change accounts,
// audit (operator, address, reason) and tell the person (a notice email after
// a phone reset or a disable) the same way.
package support

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/messages"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui/locale"
)

// Actor is who does an action, for its audit event.
type Actor struct {
	// Operator names them as audit events do: "cli:<name>" or
	// store.ConsoleOperator(email, sub).
	Operator string
	IP       string // their address; empty for an admin command
	Reason   string // why, as they gave it
	// Via ends the audit event's detail: "with the admin command", "in the
	// operators' console".
	Via string
	// Again is what to do after a half-done change: "run the command again",
	// "try again".
	Again string
}

// Service does the actions against the database.
type Service struct {
	Store store.Durable
	// Notices sends the email that tells a person what changed (the durable
	// outbox); nil when there is no way to send email.
	Notices     factors.EmailSender
	Messages    *messages.Catalogue // needed with Notices
	ContactText string
	// ContactTextWelsh is ContactText for a person who reads Welsh: the
	// council's IDP_CONTACT_TEXT_CY, or the Welsh of the built-in text
	// (app.ContactTextWelsh); empty uses ContactText.
	ContactTextWelsh string
	Now              func() time.Time // nil: time.Now
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// NoticeState is what became of the email telling the person.
type NoticeState int

const (
	NoNotice     NoticeState = iota // the action sends none
	NoticeNoMail                    // no way to send email is configured
	NoticeQueued                    // queued in the outbox (or captured by the dev inbox)
	NoticeFailed                    // not queued: Result.NoticeErr says why
)

// Result is what an action did.
type Result struct {
	// Changed is false when there was nothing to do (already unlocked,
	// disabled, enabled, no phone): nothing was written or audited.
	Changed bool
	// FailedLogins is how many failed logins an unlock cleared.
	FailedLogins int
	// Removed names the phone a reset removed ("phone number ending 123").
	Removed string
	// PendingCancelled: a phone reset cancelled a new number the person gave
	// themselves that was still waiting to take effect.
	PendingCancelled bool
	// Pseudonym is what the audit log calls an erased person.
	Pseudonym string
	// AwaitingMigration: the account was imported and has not signed in here,
	// so another import may undo the change.
	AwaitingMigration bool
	Notice            NoticeState
	NoticeErr         error
	// AuditErr is set when the change was made but its audit event could not
	// be recorded.
	AuditErr error
}

func (s *Service) audit(ctx context.Context, a Actor, kind, userID, detail string) error {
	err := s.Store.AppendAudit(ctx, &store.AuditEvent{Time: s.now(), Kind: kind, UserID: userID, IP: a.IP,
		Detail: detail, Operator: a.Operator, Reason: a.Reason})
	if err != nil {
		return fmt.Errorf("audit event %s not recorded: %w", kind, err)
	}
	return nil
}

// notify tells the account's owner what changed, through the outbox.
func (s *Service) notify(ctx context.Context, u *store.User, ch messages.Change, r *Result) {
	if s.Notices == nil || s.Messages == nil {
		r.Notice = NoticeNoMail
		return
	}
	contact := s.ContactText
	if locale.Or(u.Locale) == locale.Welsh && s.ContactTextWelsh != "" {
		contact = s.ContactTextWelsh
	}
	m, err := s.Messages.In(u.Locale).AccountChangedEmail(u.Email, ch, s.now(), contact)
	if err == nil {
		err = s.Notices.SendEmail(ctx, m)
	}
	if err != nil {
		r.Notice, r.NoticeErr = NoticeFailed, err
		return
	}
	r.Notice = NoticeQueued
}

// Unlock clears the failed logins and the lock.
func (s *Service) Unlock(ctx context.Context, u *store.User, a Actor) (Result, error) {
	r := Result{FailedLogins: u.FailedLogins}
	if u.FailedLogins == 0 && u.LockedUntil.IsZero() {
		return r, nil
	}
	if err := s.Store.ResetLoginFailures(ctx, u.ID); err != nil {
		return r, fmt.Errorf("unlock user: %w", err)
	}
	r.Changed = true
	r.AuditErr = s.audit(ctx, a, "admin.unlock", u.ID, fmt.Sprintf("unlocked %s (%d failed logins cleared)", a.Via, u.FailedLogins))
	return r, nil
}

// Disable stops a person signing in: the login pages answer as for a wrong
// password, and the provider refuses tokens and single sign-on for a disabled
// account. Their refresh tokens are revoked too, so that enabling the account
// later does not bring old grants back; the running servers end their
// sessions and tell their form apps. The person is told by email.
func (s *Service) Disable(ctx context.Context, u *store.User, a Actor) (Result, error) {
	r := Result{AwaitingMigration: u.AwaitingMigration()}
	if u.Status == store.UserDisabled {
		return r, nil
	}
	now := s.now()
	u.Status, u.UpdatedAt = store.UserDisabled, now
	if err := s.Store.UpdateUser(ctx, u); err != nil {
		return r, fmt.Errorf("disable user: %w", err)
	}
	r.Changed = true
	r.AuditErr = s.audit(ctx, a, "admin.disable", u.ID, "disabled "+a.Via)
	// A durable request, queued before anything is revoked here, so that a
	// failure leaves nothing revoked unannounced.
	if err := provider.QueueEndSessions(ctx, s.Store, u.ID, now); err != nil {
		return r, fmt.Errorf("user %s is disabled, but ending their sessions failed (%s): %w", u.Email, a.Again, err)
	}
	if err := s.Store.RevokeUserRefreshTokens(ctx, u.ID, "", now); err != nil {
		return r, fmt.Errorf("user %s is disabled, but revoking their refresh tokens failed (%s): %w", u.Email, a.Again, err)
	}
	s.notify(ctx, u, messages.DisabledByCouncil{}, &r)
	return r, nil
}

// Enable lets a disabled person sign in again.
func (s *Service) Enable(ctx context.Context, u *store.User, a Actor) (Result, error) {
	r := Result{AwaitingMigration: u.AwaitingMigration()}
	if u.Status == store.UserActive {
		return r, nil
	}
	u.Status, u.UpdatedAt = store.UserActive, s.now()
	if err := s.Store.UpdateUser(ctx, u); err != nil {
		return r, fmt.Errorf("enable user: %w", err)
	}
	r.Changed = true
	r.AuditErr = s.audit(ctx, a, "admin.enable", u.ID, "enabled "+a.Via)
	return r, nil
}

// ResetPhone is for someone who lost their phone: without a verified phone the
// sign-in journey resumes at phone enrolment once the password is accepted.
// The person is told by email (a phone reset is the usual route of an
// impostor on the helpdesk's phone).
func (s *Service) ResetPhone(ctx context.Context, u *store.User, a Actor) (Result, error) {
	r := Result{AwaitingMigration: u.AwaitingMigration()}
	// A number they gave themselves and still waiting to take effect goes too:
	// the helpdesk's reset replaces the self-service route.
	cancelled, err := s.Store.CancelPhoneChange(ctx, u.ID, &store.AuditEvent{Time: s.now(), Kind: "phone.recovery_cancelled",
		UserID: u.ID, Detail: "pending phone change cancelled by a phone reset " + a.Via, Operator: a.Operator, IP: a.IP, Reason: a.Reason})
	if err != nil {
		return r, fmt.Errorf("reset phone: cancel the pending change: %w", err)
	}
	r.PendingCancelled = cancelled
	if u.Phone == "" && u.PhoneType == "" && !u.PhoneVerified {
		return r, nil
	}
	r.Removed = "phone number"
	if ending := journey.PhoneEnding(u.Phone); ending != "" {
		r.Removed += " ending " + ending
	}
	u.Phone, u.PhoneType, u.PhoneVerified, u.UpdatedAt = "", "", false, s.now()
	if err := s.Store.UpdateUser(ctx, u); err != nil {
		return r, fmt.Errorf("reset phone: %w", err)
	}
	r.Changed = true
	r.AuditErr = s.audit(ctx, a, "admin.reset_phone", u.ID, r.Removed+" removed "+a.Via)
	s.notify(ctx, u, messages.PhoneRemovedByCouncil{}, &r)
	return r, nil
}

// EndSessions signs a person out everywhere without disabling the account (a
// lost or shared device): the running servers end their sessions in every
// browser, revoke their tokens at every form app and tell the form apps by
// back-channel logout. Their next sign-in asks for the password and phone.
func (s *Service) EndSessions(ctx context.Context, u *store.User, a Actor) (Result, error) {
	if err := provider.QueueEndSessions(ctx, s.Store, u.ID, s.now()); err != nil {
		return Result{}, fmt.Errorf("end the sessions of %s: %w", u.Email, err)
	}
	r := Result{Changed: true}
	r.AuditErr = s.audit(ctx, a, "admin.end_sessions", u.ID, "every session ended "+a.Via)
	return r, nil
}

// Delete erases a person (UK GDPR erasure, or an account nobody uses): their
// account, tokens and personal data go at once, the audit log keeps a
// pseudonymous trail, and the running servers end their sessions in every
// browser and tell their form apps. Their email address can sign up again as
// a new account, with a new sub.
func (s *Service) Delete(ctx context.Context, u *store.User, a Actor) (Result, error) {
	r := Result{Pseudonym: store.ErasedPseudonym(u.ID)}
	// The request first: if the erasure then fails, doing it again finds the
	// account and does it; sessions end either way.
	if err := provider.QueueErasure(ctx, s.Store, u.ID, r.Pseudonym, s.now()); err != nil {
		return r, fmt.Errorf("delete user %s: %w", u.Email, err)
	}
	if _, err := s.Store.EraseUser(ctx, u.ID, u.Email, r.Pseudonym); err != nil {
		return r, fmt.Errorf("delete user %s (%s): %w", u.Email, a.Again, err)
	}
	r.Changed = true
	r.AuditErr = s.audit(ctx, a, "user.erased", r.Pseudonym, "account and personal data erased "+a.Via)
	return r, nil
}

// ErrNoAccount is a person looked up who has no account.
var ErrNoAccount = errors.New("support: no such account")
