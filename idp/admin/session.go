package admin

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/councilforms/idp/store"
)

// SessionCookie holds the id of an operator's console session. Like the
// login pages' cookies it is Secure, HttpOnly, SameSite=Lax, Path=/ and
// host-only (__Host-; browsers accept Secure cookies from http://localhost).
const SessionCookie = "__Host-idp_console"

// consoleSession is a signed-in operator's session, in the ephemeral store
// (Redis, so every instance of the console shares it).
type consoleSession struct {
	ID       string    `json:"-"`
	Sub      string    `json:"sub"`
	Email    string    `json:"email"`
	AuthTime time.Time `json:"auth_time"`
	Expires  time.Time `json:"expires"`
	// LastSeen is when the session last served a request, to within
	// sessionTouchEvery: unused for Config.IdleTimeout, it has ended. Zero in
	// a session stored before the idle timeout existed (taken as now).
	LastSeen time.Time `json:"seen,omitzero"`
	// IDToken is the hint of the sign-out at the idp (RP-initiated logout).
	IDToken string `json:"id_token"`
}

// sessionTouchEvery is how stale LastSeen may grow before a request rewrites
// the session: most requests read it without writing it.
const sessionTouchEvery = time.Minute

func sessionKey(id string) string { return "console:session:" + id }

var errNoSession = errors.New("admin: no console session")

// session reads the request's console session: errNoSession when it has
// none, or one that has ended (Config.SessionTTL after its sign-in, or
// Config.IdleTimeout after its last request). A request keeps it going.
func (c *Console) session(r *http.Request) (*consoleSession, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return nil, errNoSession
	}
	raw, _, err := c.deps.Ephemeral.Get(r.Context(), sessionKey(ck.Value))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("read console session: %w", err)
	}
	var s consoleSession
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("read console session: %w", err)
	}
	s.ID = ck.Value
	now := c.deps.Now()
	if s.LastSeen.IsZero() {
		s.LastSeen = now.Add(-sessionTouchEvery)
	}
	if !now.Before(s.Expires) || now.Sub(s.LastSeen) >= c.cfg.IdleTimeout {
		_ = c.deps.Ephemeral.Delete(r.Context(), sessionKey(s.ID))
		return nil, errNoSession
	}
	if now.Sub(s.LastSeen) >= sessionTouchEvery {
		s.LastSeen = now
		if err := c.saveSession(r.Context(), &s); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// saveSession stores s until it would end if unused: IdleTimeout after its
// last request, and never past its absolute expiry.
func (c *Console) saveSession(ctx context.Context, s *consoleSession) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	ttl := min(c.cfg.IdleTimeout, s.Expires.Sub(s.LastSeen))
	if err := c.deps.Ephemeral.Put(ctx, sessionKey(s.ID), raw, ttl); err != nil {
		return fmt.Errorf("store console session: %w", err)
	}
	return nil
}

// startSession stores a new session (a new id at every sign-in, so an id
// known before it is worth nothing after) and sets its cookie; the session a
// fresh sign-in replaces is ended.
func (c *Console) startSession(w http.ResponseWriter, r *http.Request, s *consoleSession) error {
	if old, err := c.session(r); err == nil {
		_ = c.deps.Ephemeral.Delete(r.Context(), sessionKey(old.ID))
	}
	s.ID = rand.Text()
	s.LastSeen = c.deps.Now()
	s.Expires = s.LastSeen.Add(c.cfg.SessionTTL)
	if err := c.saveSession(r.Context(), s); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: s.ID, Path: "/", MaxAge: int(c.cfg.SessionTTL / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return nil
}

// endSession deletes the session and its cookie.
func (c *Console) endSession(w http.ResponseWriter, r *http.Request, id string) {
	if err := c.deps.Ephemeral.Delete(r.Context(), sessionKey(id)); err != nil {
		c.log.Warn("console session not deleted; it ends at its expiry", "err", err)
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}
