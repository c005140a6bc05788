package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/councilforms/idp/store"
)

// UserSession is one of a person's live sessions at the idp (one browser
// signed in), as the operators' console shows it.
type UserSession struct {
	SID      string
	Started  time.Time
	LastUsed time.Time // zero in a session made before uses were recorded
	AMR      []string
	// ClientIDs are the form apps given a code in it or holding its refresh
	// tokens, sorted.
	ClientIDs []string
}

// UserSessions lists the live sessions of userID, newest first, from the
// person's list of sessions (at most maxUserSessions): a few reads of the
// ephemeral store a session and one query for the form apps holding tokens.
// A session that has ended (expired, idle too long, or ended) is left out.
func (p *Provider) UserSessions(ctx context.Context, userID string) ([]UserSession, error) {
	listed, err := p.eph.List(ctx, keyUserSessions+userID)
	if err != nil {
		return nil, fmt.Errorf("provider: load the person's sessions: %w", err)
	}
	now := p.now()
	held, err := p.db.SessionClients(ctx, userID, "", now)
	if err != nil {
		return nil, fmt.Errorf("provider: load the person's sessions: %w", err)
	}
	var out []UserSession
	seen := map[string]bool{}
	for _, v := range listed {
		sid := string(v)
		if seen[sid] {
			continue
		}
		seen[sid] = true
		var ref sessionRef
		if _, err := getJSON(ctx, p.eph, keySessionByID+sid, &ref); errors.Is(err, store.ErrNotFound) || (err == nil && ref.UserID != userID) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("provider: load session reference: %w", err)
		}
		var sess sessionRecord
		if _, err := getJSON(ctx, p.eph, ref.Key, &sess); errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("provider: load session: %w", err)
		}
		if !now.Before(sess.CreatedAt.Add(p.cfg.SessionTTL)) || (!sess.LastUsed.IsZero() && now.Sub(sess.LastUsed) > p.cfg.SessionIdleTTL) {
			continue
		}
		clients, err := p.eph.List(ctx, keySessionClients+sid)
		if err != nil {
			return nil, fmt.Errorf("provider: load the session's form apps: %w", err)
		}
		var mine []store.SessionClient
		for _, sc := range held {
			if sc.SessionID == sid {
				mine = append(mine, sc)
			}
		}
		out = append(out, UserSession{SID: sid, Started: sess.CreatedAt, LastUsed: sess.LastUsed, AMR: sess.AMR,
			ClientIDs: union(clients, mine, func(sc store.SessionClient) string { return sc.ClientID })})
	}
	slices.SortStableFunc(out, func(a, b UserSession) int { return b.Started.Compare(a.Started) })
	return out, nil
}
