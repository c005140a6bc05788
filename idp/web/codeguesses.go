package web

import (
	"context"
	"net/http"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/store"
)

// Wrong one-time codes across journeys. The journey asks before it checks a
// code whether the factor is locked (CheckCodeGuesses), asks for a wrong code
// to be counted (RecordWrongCode) and says when a right one ends the count
// (ResetWrongCodes); these answer from the durable store, whose runs of
// consecutive failures a flush of the ephemeral store does not reset, under
// cfg.CodeGuesses.

// codeGuessKeys are the runs a code for f counts in: its destination (the email
// address folded to lower case, as the durable stores fold it for their
// uniqueness rule, so another spelling of it is the same address; the number in
// E.164), as a keyed hash (personal), and, when the journey knows it, the account.
func (h *Handler) codeGuessKeys(f journey.CodeFactor) []string {
	keys := []string{store.KeyCodeFailDestination + string(f.Channel) + ":" + h.personal(f.To)}
	if f.UserID != "" {
		keys = append(keys, store.KeyCodeFailAccount+string(f.Channel)+":"+f.UserID)
	}
	return keys
}

// checkCodeGuesses answers whether f's destination or account is locked, and
// until when (the later of the two), in the time zone people read.
func (h *Handler) checkCodeGuesses(ctx context.Context, r *http.Request, q journey.CheckCodeGuesses) (journey.Event, error) {
	now := h.now()
	var until time.Time
	for _, key := range h.codeGuessKeys(q.Factor) {
		n, last, err := h.Store.Failures(ctx, key)
		if err != nil {
			return nil, err
		}
		if u := h.cfg.CodeGuesses.LockedUntil(n, last); now.Before(u) && u.After(until) {
			until = u
		}
	}
	if until.IsZero() {
		return journey.CodeGuessesChecked{}, nil
	}
	h.audit(ctx, r, "code.refused", q.Factor.UserID, codeGuessDetail(q.Factor, "code not checked: too many wrong codes"))
	return journey.CodeGuessesChecked{LockedUntil: until.In(h.cfg.Location)}, nil
}

// recordWrongCode counts a wrong code against f's destination and account, and
// says whether that locked either.
func (h *Handler) recordWrongCode(ctx context.Context, r *http.Request, q journey.RecordWrongCode) (journey.Event, error) {
	now := h.now()
	var until time.Time
	for _, key := range h.codeGuessKeys(q.Factor) {
		n, err := h.Store.RecordFailure(ctx, key, now)
		if err != nil {
			return nil, err
		}
		if u := h.cfg.CodeGuesses.LockedUntil(n, now); u.After(until) {
			until = u
		}
	}
	if until.IsZero() {
		return journey.WrongCodeRecorded{}, nil
	}
	h.audit(ctx, r, "code.guesses_locked", q.Factor.UserID, codeGuessDetail(q.Factor, "codes locked: too many wrong codes"))
	h.metrics.codeLocks.WithLabelValues(string(q.Factor.Channel)).Inc()
	return journey.WrongCodeRecorded{LockedUntil: until.In(h.cfg.Location)}, nil
}

// resetWrongCodes ends the runs of f's destination and account: a right code.
func (h *Handler) resetWrongCodes(ctx context.Context, f journey.CodeFactor) error {
	for _, key := range h.codeGuessKeys(f) {
		if err := h.Store.ResetFailures(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

// codeGuessDetail is an audit detail naming the channel and, for a number, its
// last digits; never the address or the code.
func codeGuessDetail(f journey.CodeFactor, what string) string {
	if f.Channel == factors.ChannelEmail {
		return what + " (email)"
	}
	return what + " (text message to the number ending " + journey.PhoneEnding(f.To) + ")"
}
