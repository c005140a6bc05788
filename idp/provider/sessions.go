package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/councilforms/idp/store"
)

// An IdP session has an id, sid, besides its cookie: ID tokens and logout
// tokens carry it, so a form app can tell which of its sessions a logout
// ends. The ephemeral store keeps, for each sid, where its record is and the
// form apps given a code in it, and for each person the sids of their
// sessions; refresh tokens keep their sid durably, so a form app holding one
// is found even when the ephemeral store has been flushed.
//
// Ending a session (endSSOSession) first queues a logout notice in the
// durable outbox for every such form app that registered a back-channel
// logout URI (backchannel.go), then revokes the session's tokens for every
// form app, then deletes its records: a failure part way leaves the session
// to be ended again by trying again, and a notice is never lost (at worst a
// form app is told twice).

const (
	// maxSessionClients bounds the form apps remembered per session.
	maxSessionClients = 64
	// maxUserSessions bounds the sessions remembered per person; a session
	// pushed out of the list still ends when the person's tokens are revoked
	// (its refresh tokens are found by sid in the database).
	maxUserSessions = 32
)

// sessionRef is the record under keySessionByID: where the session is.
type sessionRef struct {
	Key    string `json:"key"` // keySession + hash of the cookie
	UserID string `json:"user_id"`
}

// indexSession records a session's record key under its sid and the sid in
// its user's list of sessions.
func (p *Provider) indexSession(ctx context.Context, sid, userID, key string) error {
	raw, err := json.Marshal(sessionRef{Key: key, UserID: userID})
	if err != nil {
		return fmt.Errorf("provider: encode session reference: %w", err)
	}
	if err := p.eph.Put(ctx, keySessionByID+sid, raw, p.cfg.SessionTTL); err != nil {
		return fmt.Errorf("provider: store session reference: %w", err)
	}
	if _, err := p.eph.PushCapped(ctx, keyUserSessions+userID, []byte(sid), maxUserSessions, p.cfg.SessionTTL); err != nil {
		return fmt.Errorf("provider: list the session: %w", err)
	}
	return nil
}

// joinSession records that clientID is being given a code in session sid.
func (p *Provider) joinSession(ctx context.Context, sid, clientID string) error {
	if sid == "" {
		return nil
	}
	if _, err := p.eph.PushCapped(ctx, keySessionClients+sid, []byte(clientID), maxSessionClients, p.cfg.SessionTTL); err != nil {
		return fmt.Errorf("provider: record the form app in the session: %w", err)
	}
	return nil
}

// sessionClients is every form app that may hold tokens of session sid: those
// given a code in it, and those holding a live refresh token of it.
func (p *Provider) sessionClients(ctx context.Context, userID, sid string) ([]string, error) {
	listed, err := p.eph.List(ctx, keySessionClients+sid)
	if err != nil {
		return nil, fmt.Errorf("provider: load the session's form apps: %w", err)
	}
	held, err := p.db.SessionClients(ctx, userID, sid, p.now())
	if err != nil {
		return nil, fmt.Errorf("provider: load the session's form apps: %w", err)
	}
	return union(listed, held, func(sc store.SessionClient) string { return sc.ClientID }), nil
}

// union is the sorted distinct values of an ephemeral list and of one field of
// the durable store's session clients.
func union(listed [][]byte, held []store.SessionClient, field func(store.SessionClient) string) []string {
	out := make([]string, 0, len(listed)+len(held))
	for _, v := range listed {
		out = append(out, string(v))
	}
	for _, sc := range held {
		out = append(out, field(sc))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// endSSOSession ends session sid of userID everywhere: every form app of the
// session with a back-channel logout URI is owed a logout notice, the
// session's tokens are revoked for every form app, and its records go. A
// session without an id (made before sessions had them) has nothing to tell.
func (p *Provider) endSSOSession(ctx context.Context, userID, sid string) error {
	if sid == "" {
		return nil
	}
	clients, err := p.sessionClients(ctx, userID, sid)
	if err != nil {
		return err
	}
	told, err := p.queueLogouts(ctx, userID, sid, clients)
	if err != nil {
		return err
	}
	if err := p.db.RevokeSessionRefreshTokens(ctx, userID, sid, p.now()); err != nil {
		return fmt.Errorf("provider: revoke the session's refresh tokens: %w", err)
	}
	if err := p.eph.Put(ctx, keyRevokedSession+sid, []byte("1"), p.cfg.revocationMarkerTTL()); err != nil {
		return fmt.Errorf("provider: store session revocation marker: %w", err)
	}
	var ref sessionRef
	switch _, err := getJSON(ctx, p.eph, keySessionByID+sid, &ref); {
	case err == nil && ref.UserID == userID:
		if err := p.eph.Delete(ctx, ref.Key); err != nil {
			return fmt.Errorf("provider: delete session: %w", err)
		}
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("provider: load session reference: %w", err)
	}
	for _, k := range []string{keySessionByID + sid, keySessionClients + sid} {
		if err := p.eph.Delete(ctx, k); err != nil {
			return fmt.Errorf("provider: delete session: %w", err)
		}
	}
	p.audit(ctx, "session.ended", userID, "", fmt.Sprintf("IdP session ended: %d form apps had tokens, %d told by back-channel logout", len(clients), told))
	return nil
}

// endUserSessions ends every session of userID (password reset or change).
func (p *Provider) endUserSessions(ctx context.Context, userID string) error {
	listed, err := p.eph.List(ctx, keyUserSessions+userID)
	if err != nil {
		return fmt.Errorf("provider: load the person's sessions: %w", err)
	}
	held, err := p.db.SessionClients(ctx, userID, "", p.now())
	if err != nil {
		return fmt.Errorf("provider: load the person's sessions: %w", err)
	}
	for _, sid := range union(listed, held, func(sc store.SessionClient) string { return sc.SessionID }) {
		if err := p.endSSOSession(ctx, userID, sid); err != nil {
			return err
		}
	}
	if err := p.eph.Delete(ctx, keyUserSessions+userID); err != nil {
		return fmt.Errorf("provider: delete the person's sessions: %w", err)
	}
	return nil
}

// endSessionByHint ends the session an ID token hint names, when it is the
// hint subject's: a logout request that carries no session cookie (a
// cross-site form POST sends no SameSite=Lax cookie) but proves, by a valid
// hint, that the form app was given tokens of that session.
func (p *Provider) endSessionByHint(ctx context.Context, subject, sid string) error {
	if subject == "" || sid == "" {
		return nil
	}
	var ref sessionRef
	switch _, err := getJSON(ctx, p.eph, keySessionByID+sid, &ref); {
	case errors.Is(err, store.ErrNotFound):
		// Gone already; its refresh tokens may not be.
	case err != nil:
		return fmt.Errorf("provider: load session reference: %w", err)
	case ref.UserID != subject:
		return nil
	}
	return p.endSSOSession(ctx, subject, sid)
}
