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

// Calls keeps the records of calls in flight in the ephemeral store:
// store.KeyCall + id names the journey a call belongs to, and
// store.KeyCallResult + id holds its outcome once reported. It is the
// factors.CallOutcomes the call simulator and the voice webhook report to; the
// login pages record the calls they place and read the outcomes. Built on its
// own, before the senders and the pages, which both use it.
type Calls struct {
	eph store.Ephemeral
	// ttl keeps a call's records a while after it may last, so that a late
	// webhook still finds its call (and is then refused as finished).
	ttl time.Duration
}

var _ factors.CallOutcomes = (*Calls)(nil)

// NewCalls keeps call records in eph for calls that last up to the policy's
// call timeout.
func NewCalls(eph store.Ephemeral, p journey.Policy) *Calls {
	return &Calls{eph: eph, ttl: p.CallTimeout + 10*time.Minute}
}

func callKey(id string) string   { return store.KeyCall + id }
func resultKey(id string) string { return store.KeyCallResult + id }

// placed records that call callID belongs to journeyID.
func (c *Calls) placed(ctx context.Context, callID, journeyID string) error {
	return c.eph.Put(ctx, callKey(callID), []byte(journeyID), c.ttl)
}

// RecordCallOutcome implements factors.CallOutcomes: the call simulator and the
// voice webhook report how a call ended. Only the first outcome of a call counts.
func (c *Calls) RecordCallOutcome(ctx context.Context, callID string, result factors.CallResult) error {
	if callID == "" {
		return factors.ErrUnknownCall
	}
	if _, _, err := c.eph.Get(ctx, callKey(callID)); errors.Is(err, store.ErrNotFound) {
		return factors.ErrUnknownCall
	} else if err != nil {
		return err
	}
	err := c.eph.Create(ctx, resultKey(callID), []byte(result), c.ttl)
	if errors.Is(err, store.ErrConflict) {
		return factors.ErrUnknownCall // already finished
	}
	return err
}

// outcome is the recorded outcome of a call; found is false while none is.
func (c *Calls) outcome(ctx context.Context, callID string) (result factors.CallResult, found bool, err error) {
	b, _, err := c.eph.Get(ctx, resultKey(callID))
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return factors.CallResult(b), true, nil
}

// placeCall records the call, then asks the caller to place it. A call that cannot
// be placed is recorded as failed at once, so the waiting page offers another way;
// one the daily ceiling stopped is recorded as such, and the problem to show says
// so at once.
func (h *Handler) placeCall(ctx context.Context, s *journey.State, clientID string, e journey.PlaceCall) (string, error) {
	if err := h.calls.placed(ctx, e.CallID, s.ID); err != nil {
		return "", wrapf(err, "record call")
	}
	script, err := h.Messages.In(s.Lang).CallScriptFor(purposeOf(s))
	if err != nil {
		return "", err
	}
	err = h.Caller.PlaceCall(ctx, factors.Call{ID: e.CallID, To: e.To, Script: script, Verified: e.Verified, ClientID: clientID})
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

// RecordCallOutcome records how a call ended (Calls.RecordCallOutcome).
func (h *Handler) RecordCallOutcome(ctx context.Context, callID string, result factors.CallResult) error {
	return h.calls.RecordCallOutcome(ctx, callID, result)
}

// callEvent is the event a call-waiting page applies: the call's recorded outcome,
// or, when the call is overdue, Continue, which ends an unanswered call. nil while
// the call is still ringing (and on any other step).
func (h *Handler) callEvent(ctx context.Context, s *journey.State) journey.Event {
	if !s.Step.IsCallWaitStep() || s.Call == nil {
		return nil
	}
	result, found, err := h.calls.outcome(ctx, s.Call.ID)
	if found {
		return journey.CallOutcome{CallID: s.Call.ID, Result: result}
	}
	if err != nil {
		h.Log.WarnContext(ctx, "read call outcome", "err", err)
	}
	if h.now().After(s.Call.ExpiresAt) {
		return journey.Continue{}
	}
	return nil
}
