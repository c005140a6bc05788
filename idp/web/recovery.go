package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/councilforms/idp/factors/messages"
	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/store"
)

// The self-service change of a lost phone number (journey.Policy.PhoneRecovery):
// the journey proves the account's email address and the new number; here the
// change is kept as pending until its wait is over, then made the account's
// phone at the next sign-in.

// actPhoneRecovery is the lost-phone page's 'Change your phone number yourself'.
const actPhoneRecovery = PathLogin + "/phone-recovery"

// offersPhoneRecovery reports whether the lost-phone page offers the route to
// the browser's journey: only when the council has turned it on, and only in a
// sign-in whose password was accepted, at its phone check.
func (h *Handler) offersPhoneRecovery(r *http.Request) bool {
	if !h.Machine.Policy().PhoneRecovery {
		return false
	}
	j, ok, err := h.load(r)
	if err != nil || !ok {
		return false
	}
	s := j.s
	switch s.Step {
	case journey.StepChallenge, journey.StepChallengeSMSCode, journey.StepChallengeCallWait:
		return s.Kind == journey.KindSignIn && s.Proved(journey.AMRPassword)
	}
	return false
}

// requestPhoneChange stores the pending change with its audit event and the
// email that announces it to the account, in one transaction (writeWithNotice).
// It is safe to repeat: a retry after a failure stores the same change and
// sends again.
func (h *Handler) requestPhoneChange(ctx context.Context, r *http.Request, e journey.RequestPhoneChange, lang string) error {
	u, err := h.Store.UserByID(ctx, e.UserID)
	if err != nil {
		return wrapf(err, "phone change: account")
	}
	ending := journey.PhoneEnding(e.Number)
	p := &store.PendingPhone{UserID: u.ID, Phone: e.Number, PhoneType: string(e.Type), RequestedAt: h.now(), EffectiveAt: e.EffectiveAt}
	audit := &store.AuditEvent{Time: h.now(), Kind: "phone.recovery_requested", UserID: u.ID, IP: h.clientIP(r),
		Detail: "number ending " + ending + " from " + e.EffectiveAt.UTC().Format("2006-01-02T15:04Z")}
	if err := h.writeWithNotice(ctx, u.Email, lang, messages.PhoneChangePending{Ending: ending, At: e.EffectiveAt},
		func(notice *store.OutboxMessage) error { return h.Store.RequestPhoneChange(ctx, p, notice, audit) }); err != nil {
		return wrapf(err, "phone change: store")
	}
	return nil
}

// cancelPhoneChange drops a pending change; the store audits it when there was one.
func (h *Handler) cancelPhoneChange(ctx context.Context, r *http.Request, e journey.CancelPhoneChange) error {
	if _, err := h.Store.CancelPhoneChange(ctx, e.UserID, &store.AuditEvent{Time: h.now(),
		Kind: "phone.recovery_cancelled", UserID: e.UserID, IP: h.clientIP(r), Detail: e.Reason}); err != nil {
		return wrapf(err, "cancel phone change")
	}
	return nil
}

// pendingPhone brings a pending change into the account a right password
// found: once its wait is over it becomes the account's phone (audited, and
// its owner told, in the same transaction), else the journey learns that one
// is pending.
func (h *Handler) pendingPhone(ctx context.Context, r *http.Request, u *store.User, a *journey.Account) error {
	p, err := h.Store.PendingPhoneChange(ctx, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return wrapf(err, "pending phone")
	}
	now := h.now()
	if now.Before(p.EffectiveAt) {
		a.PhoneChangePending = true
		return nil
	}
	ending := journey.PhoneEnding(p.Phone)
	audit := &store.AuditEvent{Time: now, Kind: "phone.recovery_applied", UserID: u.ID, IP: h.clientIP(r), Detail: "number ending " + ending}
	err = h.writeWithNotice(ctx, u.Email, u.Locale, messages.PhoneChanged{Ending: ending},
		func(notice *store.OutboxMessage) error { return h.Store.ApplyPhoneChange(ctx, p, now, notice, audit) })
	if errors.Is(err, store.ErrNotFound) {
		return nil // cancelled or applied by another request meanwhile
	}
	if err != nil {
		return wrapf(err, "apply phone change")
	}
	a.Phone, a.PhoneType, a.PhoneVerified = p.Phone, phone.Type(p.PhoneType), true
	return nil
}
