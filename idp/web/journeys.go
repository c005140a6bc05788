package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/store"
)

// A loaded journey: the state and the version it was read at, for compare-and-set.
type loaded struct {
	s       *journey.State
	version int64
}

// A journey's id is the SHA-256 of its cookie's value: the ephemeral store (and
// anything else that records the id, such as a call in flight) holds only the
// hash, so a listing of its keys or values is not a set of journeys to take over.
func journeyKey(id string) string { return store.KeyJourney + id }

// JourneyKey is the ephemeral-store key of the journey whose cookie holds
// cookieValue (for tools and tests that inspect a journey).
func JourneyKey(cookieValue string) string { return journeyKey(journeyID(cookieValue)) }

func journeyID(cookieValue string) string {
	sum := sha256.Sum256([]byte(cookieValue))
	return hex.EncodeToString(sum[:])
}

// load reads the browser's journey; ok is false when it has none (no cookie, an
// expired journey, or one written by an incompatible release).
func (h *Handler) load(r *http.Request) (loaded, bool, error) {
	c, err := r.Cookie(JourneyCookie)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return loaded{}, false, nil
	}
	return h.loadID(r.Context(), journeyID(c.Value))
}

func (h *Handler) loadID(ctx context.Context, id string) (loaded, bool, error) {
	b, v, err := h.Ephemeral.Get(ctx, journeyKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return loaded{}, false, nil
	}
	if err != nil {
		return loaded{}, false, wrapf(err, "load journey")
	}
	s, err := journey.Unmarshal(b)
	if err != nil || s.ID != id {
		// Another release's layout: start again rather than misbehave.
		return loaded{}, false, nil
	}
	return loaded{s: s, version: v}, true, nil
}

// newJourney makes a journey's cookie value and the id it is stored under.
func newJourney() (cookieValue, id string, err error) {
	v, err := journey.NewID()
	if err != nil {
		return "", "", err
	}
	return v, journeyID(v), nil
}

// create stores a new journey, whose ID newJourney made with cookieValue, and
// gives the browser its cookie.
func (h *Handler) create(w http.ResponseWriter, r *http.Request, cookieValue string, s *journey.State) error {
	s.SeenAt = h.now().UTC()
	b, err := s.Marshal()
	if err != nil {
		return err
	}
	if err := h.Ephemeral.Create(r.Context(), journeyKey(s.ID), b, h.cfg.JourneyTTL); err != nil {
		return wrapf(err, "create journey")
	}
	// No Max-Age: closing the browser ends an unfinished journey, so on a shared
	// computer it does not pass to the next person. Lax: the journey must survive
	// the top-level redirect back from the provider's /authorize.
	http.SetCookie(w, &http.Cookie{Name: JourneyCookie, Value: cookieValue, Path: "/",
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return nil
}

// save writes s over the version that was loaded. store.ErrConflict means another
// request (a double click, a second tab) moved the journey on first. The journey's
// lifetime starts again at every save.
func (h *Handler) save(ctx context.Context, j loaded, s *journey.State) (loaded, error) {
	s.SeenAt = h.now().UTC()
	b, err := s.Marshal()
	if err != nil {
		return j, err
	}
	v, err := h.Ephemeral.CompareAndSet(ctx, journeyKey(s.ID), j.version, b, h.cfg.JourneyTTL)
	if err != nil {
		return j, err
	}
	return loaded{s: s, version: v}, nil
}

// finish removes an ended journey and its cookie.
func (h *Handler) finish(w http.ResponseWriter, r *http.Request, s *journey.State) {
	if err := h.Ephemeral.Delete(r.Context(), journeyKey(s.ID)); err != nil {
		h.Log.WarnContext(r.Context(), "delete finished journey", "err", err)
	}
	h.clearCookie(w)
}

func (h *Handler) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: JourneyCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// waitForWinner is for a request that lost a race it can see (a double-submitted
// 'Create'): it waits briefly for the winning request to save the journey, so the
// person is shown the step reached rather than the form they already sent.
func (h *Handler) waitForWinner(ctx context.Context, j loaded) {
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		_, v, err := h.Ephemeral.Get(ctx, journeyKey(j.s.ID))
		if err != nil || v != j.version {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}
