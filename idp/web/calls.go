package web

// Calls: the records that tie a placed call to its journey, the outcome a
// call's webhook (or the dev simulator) reports, and the event the waiting
// page turns it into.

import (
	"context"
	"errors"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/store"
)

// Calls in flight: "call:<id>" names the journey a call belongs to, and
// "callresult:<id>" holds its outcome once reported.
func callKey(id string) string   { return store.KeyCall + id }
func resultKey(id string) string { return store.KeyCallResult + id }

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
