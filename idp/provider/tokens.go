package provider

// Token issue: access tokens (opaque, revocable records in the ephemeral
// store) and refresh tokens (durable, rotated: refresh.go), and the
// checks a presented access token passes.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/councilforms/idp/store"
)

// refreshRequest is a validated refresh token presented at the token endpoint.
type refreshRequest struct {
	token  *store.RefreshToken
	scopes []string // may be narrowed by the request
	// retry: the presented token was rotated moments ago and its own client
	// presents it again; token is the successor that rotation made, which
	// the grant gives again instead of rotating (refresh.go).
	retry bool
	// failure is a store error met while validating, reported by
	// CreateAccessAndRefreshTokens (refreshFailed).
	failure *oidc.Error
}

func (r *refreshRequest) GetAMR() []string            { return r.token.AMR }
func (r *refreshRequest) GetAudience() []string       { return r.token.Audience }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.token.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.token.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.token.UserID }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

// accessToken is the record behind an opaque access token. The token the
// client holds is the encrypted "id:subject"; this record makes it revocable.
type accessToken struct {
	ID        string    `json:"id"`
	ClientID  string    `json:"client_id"`
	UserID    string    `json:"user_id"`
	Scopes    []string  `json:"scopes"`
	Audience  []string  `json:"aud"`
	AMR       []string  `json:"amr,omitempty"`
	AuthTime  time.Time `json:"auth_time"`
	IssuedAt  time.Time `json:"iat"`
	ExpiresAt time.Time `json:"exp"`
	FamilyID  string    `json:"family_id,omitempty"`
	SessionID string    `json:"sid,omitempty"` // the IdP session it was issued in
}

func (s *opStorage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	ar, ok := req.(*authRequest)
	if !ok {
		return "", time.Time{}, fmt.Errorf("provider: unsupported token request %T", req)
	}
	at := s.p.newAccessToken(ar.ClientID, ar.UserID, ar.Scopes, ar.AMR, ar.AuthTime, "", ar.SessionID)
	at.ID = ar.accessTokenID
	if err := s.p.issueFromCode(ctx, ar, at, nil); err != nil {
		return "", time.Time{}, err
	}
	return at.ID, at.ExpiresAt, nil
}

func (s *opStorage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	p := s.p
	now := p.now()
	switch r := req.(type) {
	case *authRequest:
		value := randomToken(32)
		rt := &store.RefreshToken{
			Hash: hashToken(value), FamilyID: r.familyID, ClientID: r.ClientID, UserID: r.UserID, SessionID: r.SessionID,
			Scopes: r.Scopes, Audience: r.GetAudience(), AMR: r.AMR, AuthTime: r.AuthTime, CreatedAt: now,
			ExpiresAt: now.Add(p.cfg.RefreshTokenTTL), IdleExpiresAt: now.Add(p.cfg.RefreshTokenIdleTTL),
		}
		at := p.newAccessToken(r.ClientID, r.UserID, r.Scopes, r.AMR, r.AuthTime, rt.FamilyID, r.SessionID)
		at.ID = r.accessTokenID
		if err := p.issueFromCode(ctx, r, at, rt); err != nil {
			return "", "", time.Time{}, err
		}
		return at.ID, value, at.ExpiresAt, nil
	case *refreshRequest:
		// Why the steps come in this order: refresh.go.
		if r.failure != nil {
			return "", "", time.Time{}, r.failure
		}
		tok := r.token // the presented token; for a retry, its successor
		value := p.successorValue(currentRefreshToken)
		want := hashToken(currentRefreshToken)
		if r.retry {
			want = hashToken(value)
		}
		if tok.Hash != want {
			return "", "", time.Time{}, errors.New("provider: refresh request for another token than the one presented")
		}
		at := p.newAccessToken(tok.ClientID, tok.UserID, r.scopes, tok.AMR, tok.AuthTime, tok.FamilyID, tok.SessionID)
		if err := p.storeAccessToken(ctx, at); err != nil {
			return "", "", time.Time{}, refreshServerError(err)
		}
		if r.retry {
			return at.ID, value, at.ExpiresAt, nil
		}
		next := &store.RefreshToken{
			Hash: hashToken(value), FamilyID: tok.FamilyID, ClientID: tok.ClientID, UserID: tok.UserID,
			SessionID: tok.SessionID, Scopes: tok.Scopes, Audience: tok.Audience, AMR: tok.AMR, AuthTime: tok.AuthTime, CreatedAt: now,
			ExpiresAt: tok.ExpiresAt, IdleExpiresAt: minTime(now.Add(p.cfg.RefreshTokenIdleTTL), tok.ExpiresAt),
		}
		err := p.db.RotateRefreshToken(ctx, tok.Hash, next, now)
		switch {
		case errors.Is(err, store.ErrConflict):
			// Another presentation of the same token rotated it first; nil
			// when that was this client's retry, made the same successor.
			err = p.refreshAfterLostRace(ctx, tok, currentRefreshToken)
		case errors.Is(err, store.ErrNotFound):
			err = oidc.ErrInvalidGrant().WithDescription("The refresh token is not valid.")
		case err != nil:
			err = refreshServerError(fmt.Errorf("provider: rotate refresh token: %w", err))
		}
		if err != nil {
			p.discardAccessToken(ctx, at)
			return "", "", time.Time{}, err
		}
		return at.ID, value, at.ExpiresAt, nil
	}
	return "", "", time.Time{}, fmt.Errorf("provider: unsupported token request %T", req)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (p *Provider) newAccessToken(clientID, userID string, scopes, amr []string, authTime time.Time, familyID, sessionID string) *accessToken {
	now := p.now()
	return &accessToken{
		ID: newAccessTokenID(clientID, familyID, sessionID), ClientID: clientID, UserID: userID, Scopes: scopes, Audience: []string{clientID},
		AMR: amr, AuthTime: authTime, IssuedAt: now, ExpiresAt: now.Add(p.cfg.AccessTokenTTL), FamilyID: familyID, SessionID: sessionID,
	}
}

// issueFromCode stores the tokens for a redeemed code under the ids its grant
// already names, so a reuse of the code can find and revoke them.
func (p *Provider) issueFromCode(ctx context.Context, ar *authRequest, at *accessToken, rt *store.RefreshToken) error {
	familyID := ""
	if rt != nil {
		familyID = rt.FamilyID
	}
	if ar.grantKey == "" || ar.accessTokenID == "" || at.ID != ar.accessTokenID || (rt != nil && familyID != ar.familyID) {
		return errors.New("provider: tokens requested for an auth request that was not redeemed by code")
	}
	if rt != nil {
		if err := p.createRefreshToken(ctx, rt); err != nil {
			return fmt.Errorf("provider: store refresh token: %w", err)
		}
	}
	if err := p.storeAccessToken(ctx, at); err != nil {
		return err
	}
	if err := p.grantStillValid(ctx, ar.grantKey); err != nil {
		_ = p.revokeIssued(ctx, []string{at.ID}, familyID)
		return err
	}
	return nil
}

// createRefreshToken stores the refresh token of a code exchange; unless the
// request has read the account already (with its client: Provider.client),
// the account comes back in the same round trip, for the ID token's claims
// (userByID).
func (p *Provider) createRefreshToken(ctx context.Context, rt *store.RefreshToken) error {
	hc := httpFromContext(ctx)
	if hc == nil || (hc.user != nil && hc.user.ID == rt.UserID) {
		return p.db.CreateRefreshToken(ctx, rt)
	}
	u, err := p.db.CreateRefreshTokenAndUser(ctx, rt)
	if u != nil {
		hc.user = u
	}
	return err
}

// discardAccessToken deletes an access token that was stored for a grant that
// then failed. It was never handed out; a failure to delete it is only logged.
func (p *Provider) discardAccessToken(ctx context.Context, at *accessToken) {
	if err := p.eph.Delete(ctx, keyAccessToken+at.ID); err != nil {
		p.log.WarnContext(ctx, "refresh: discarding an unissued access token failed", "err", err)
	}
}

func (p *Provider) storeAccessToken(ctx context.Context, at *accessToken) error {
	raw, err := json.Marshal(at)
	if err != nil {
		return fmt.Errorf("provider: encode access token: %w", err)
	}
	if err := p.eph.Create(ctx, keyAccessToken+at.ID, raw, p.cfg.AccessTokenTTL); err != nil {
		return fmt.Errorf("provider: store access token: %w", err)
	}
	return nil
}

// TokenRequestByRefreshToken validates a presented refresh token. A token
// that was already rotated is reuse: the whole family is revoked (RFC 9700),
// unless it is its own client's retry within the reuse interval (refresh.go).
func (s *opStorage) TokenRequestByRefreshToken(ctx context.Context, value string) (op.RefreshTokenRequest, error) {
	p := s.p
	// The token and its account in one read (with the client, when the
	// client's read brought them: Provider.client); the account serves the
	// checks and the claims of this request (userByID).
	rt, u, err := p.presentedRefreshToken(ctx, value)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errors.New("provider: unknown refresh token, or its account no longer exists")
	}
	if err != nil {
		return p.refreshFailed(ctx, fmt.Errorf("provider: load refresh token: %w", err)), nil
	}
	if hc := httpFromContext(ctx); hc != nil {
		hc.user = u
	}
	now := p.now()
	retry := false
	switch {
	case !rt.RevokedAt.IsZero():
		return nil, errors.New("provider: refresh token revoked")
	case !rt.UsedAt.IsZero():
		next, err := p.retriedRotation(ctx, rt, value, now)
		if err != nil {
			return p.refreshFailed(ctx, err), nil
		}
		if next == nil {
			p.refreshReuse(ctx, rt)
			return nil, errors.New("provider: refresh token reused")
		}
		// The checks below are the successor's: it is what the client gets.
		rt, retry = next, true
	}
	switch {
	case !now.Before(rt.ExpiresAt):
		return nil, errors.New("provider: refresh token past its absolute lifetime")
	case !now.Before(rt.IdleExpiresAt):
		return nil, errors.New("provider: refresh token idle too long")
	}
	if err := p.userMaySignIn(ctx, rt.UserID); err != nil {
		return nil, err
	}
	return &refreshRequest{token: rt, scopes: rt.Scopes, retry: retry}, nil
}

// presentedRefreshToken is the refresh token whose value is value with its
// account: what the client's read brought (Provider.client), else read now.
// ErrNotFound when either is absent.
func (p *Provider) presentedRefreshToken(ctx context.Context, value string) (*store.RefreshToken, *store.User, error) {
	if hc := httpFromContext(ctx); hc != nil && hc.refresh != nil && hc.refreshToken == value {
		if hc.refresh.rt == nil || hc.refresh.user == nil {
			return nil, nil, store.ErrNotFound
		}
		return hc.refresh.rt, hc.refresh.user, nil
	}
	return p.db.RefreshTokenAndUser(ctx, hashToken(value))
}

func (p *Provider) refreshReuse(ctx context.Context, rt *store.RefreshToken) {
	p.reuses.Inc()
	if err := p.revokeFamily(ctx, rt.FamilyID); err != nil {
		p.log.ErrorContext(ctx, "refresh reuse: revoking family failed", "err", err)
	}
	p.audit(ctx, "refresh.reuse", rt.UserID, rt.ClientID, "a rotated refresh token was presented again; its family was revoked")
}

// revokeFamily revokes every refresh token of a family and the access tokens
// issued with them.
func (p *Provider) revokeFamily(ctx context.Context, familyID string) error {
	if err := p.db.RevokeRefreshFamily(ctx, familyID, p.now()); err != nil {
		return fmt.Errorf("provider: revoke refresh family: %w", err)
	}
	if err := p.eph.Put(ctx, keyRevokedFamily+familyID, []byte("1"), p.cfg.AccessTokenTTL); err != nil {
		return fmt.Errorf("provider: mark family revoked: %w", err)
	}
	return nil
}

// accessTokenByID returns a live access token record, or an error when it is
// unknown, expired or revoked (directly, with its refresh family or its IdP
// session, or by a "revoke everything before" marker for its user). One
// round trip: the token's id names its client, family and session
// (newAccessTokenID), so the token and every marker that could revoke it are
// read at once. The record decides which markers count; a marker it names
// that the id did not (an id made before ids named them) is read in a second
// round trip.
func (p *Provider) accessTokenByID(ctx context.Context, id, subject string) (*accessToken, error) {
	named, _ := markersNamedByID(id, subject)
	vals, err := p.eph.GetMany(ctx, append([]string{keyAccessToken + id}, named...)...)
	if err != nil {
		dependencyFailed(ctx, err)
		return nil, fmt.Errorf("provider: access token: %w", err)
	}
	if vals[0] == nil {
		return nil, fmt.Errorf("provider: access token: %w", store.ErrNotFound)
	}
	var at accessToken
	if err := json.Unmarshal(vals[0], &at); err != nil {
		return nil, fmt.Errorf("provider: decode access token record: %w", err)
	}
	if at.UserID != subject || !p.now().Before(at.ExpiresAt) {
		return nil, errors.New("provider: access token invalid or expired")
	}
	keys, n := tokenMarkerKeys(at.UserID, at.ClientID, at.FamilyID, at.SessionID)
	markers := make([][]byte, len(keys))
	var missing []int
	for i, k := range keys {
		if j := slices.Index(named, k); j >= 0 {
			markers[i] = vals[1+j]
		} else {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		more := make([]string, len(missing))
		for i, m := range missing {
			more[i] = keys[m]
		}
		got, err := p.eph.GetMany(ctx, more...)
		if err != nil {
			dependencyFailed(ctx, err)
			return nil, fmt.Errorf("provider: load revocation markers: %w", err)
		}
		for i, m := range missing {
			markers[m] = got[i]
		}
	}
	for _, m := range markers[n:] {
		if m != nil {
			return nil, errors.New("provider: access token revoked with its refresh family or its session")
		}
	}
	revoked, err := revokedBy(markers[:n], at.IssuedAt)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, errors.New("provider: access token revoked")
	}
	return &at, nil
}

// newAccessTokenID is the id of a new access token: 16 random bytes, then
// the refresh family, the IdP session and the client its record names (each
// may be empty), joined by dots, so that a presented token's revocation
// markers can be read with it (accessTokenByID). Random ids never contain a
// dot; a client id may, so it comes last. None contains the ':' the library
// joins the id and the subject with.
func newAccessTokenID(clientID, familyID, sessionID string) string {
	return randomID(16) + "." + familyID + "." + sessionID + "." + clientID
}

// markersNamedByID are the revocation markers of a token whose id is id and
// subject subject, as newAccessTokenID named them; none for another id.
func markersNamedByID(id, subject string) ([]string, int) {
	parts := strings.SplitN(id, ".", 4)
	if len(parts) != 4 {
		return nil, 0
	}
	return tokenMarkerKeys(subject, parts[3], parts[1], parts[2])
}

// tokenMarkerKeys are the markers that revoke an access token: the first n
// are "revoked before" times for its user (revocationKeys), the rest
// presence markers of its refresh family and its IdP session.
func tokenMarkerKeys(userID, clientID, familyID, sessionID string) (keys []string, n int) {
	keys = revocationKeys(userID, clientID)
	n = len(keys)
	if familyID != "" {
		keys = append(keys, keyRevokedFamily+familyID)
	}
	if sessionID != "" {
		keys = append(keys, keyRevokedSession+sessionID)
	}
	return keys, n
}
