package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/councilforms/idp/store"
)

// opStorage adapts the store to the library. It is a separate type so the
// library's method set never becomes part of Provider's API.
type opStorage struct{ p *Provider }

var (
	_ op.Storage                        = (*opStorage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*opStorage)(nil)
	_ op.CanTerminateSessionFromRequest = (*opStorage)(nil)
	_ op.AuthRequest                    = (*authRequest)(nil)
	_ op.RefreshTokenRequest            = (*refreshRequest)(nil)
)

// Ephemeral record keys.
const (
	keyAuthRequest   = "oidc:authreq:"  // + auth request id
	keyCode          = "oidc:code:"     // + sha256(code): the redeemable auth request
	keyGrant         = "oidc:grant:"    // + sha256(code): what was issued from a redeemed code
	keyAccessToken   = "oidc:at:"       // + token id
	keySession       = "oidc:session:"  // + sha256(cookie value)
	keyRevokedFamily = "oidc:rvk:fam:"  // + family id: access tokens of the family are void
	keyRevokedUser   = "oidc:rvk:user:" // + user id [+ ":" + client id]: tokens issued before the stored time are void
	// IdP sessions by their sid (sessions.go).
	keySessionByID    = "oidc:sid:"        // + sid: the session record's key and its user
	keySessionClients = "oidc:sidclients:" // + sid: a list of the clients given a code in the session
	keyUserSessions   = "oidc:usersids:"   // + user id: a list of the sids of the user's sessions
	keyRevokedSession = "oidc:rvk:sid:"    // + sid: tokens issued in the session are void
)

// ACR values: what strength of sign-in the amr proves.
const (
	// ACRMultiFactor: a password and a phone (SMS code or voice call).
	ACRMultiFactor = "urn:councilforms:acr:mfa"
	// ACRSingleFactor: one factor only.
	ACRSingleFactor = "urn:councilforms:acr:sfa"
)

func acrFor(amr []string) string {
	hasPwd := slices.Contains(amr, "pwd")
	hasPhone := slices.Contains(amr, "sms") || slices.Contains(amr, "tel") || slices.Contains(amr, "otp")
	if hasPwd && hasPhone {
		return ACRMultiFactor
	}
	return ACRSingleFactor
}

// authRequest is a stored /authorize request, then (once done) who signed in.
type authRequest struct {
	ID                  string    `json:"id"`
	CreatedAt           time.Time `json:"created_at"`
	ClientID            string    `json:"client_id"`
	RedirectURI         string    `json:"redirect_uri"`
	Scopes              []string  `json:"scopes"`
	State               string    `json:"state,omitempty"`
	Nonce               string    `json:"nonce,omitempty"`
	ResponseMode        string    `json:"response_mode,omitempty"`
	CodeChallenge       string    `json:"code_challenge,omitempty"`
	CodeChallengeMethod string    `json:"code_challenge_method,omitempty"`
	Prompt              []string  `json:"prompt,omitempty"`
	MaxAge              *uint     `json:"max_age,omitempty"`
	LoginHint           string    `json:"login_hint,omitempty"`
	HintSubject         string    `json:"hint_subject,omitempty"` // sub of a valid id_token_hint
	// Binding is the hash of the starting browser's BrowserCookie.
	Binding string `json:"binding"`
	IsDone  bool   `json:"done"`
	// Response, once done, is the sealed authorization response (the
	// client's redirect with the code), kept as long as the code lives.
	Response string    `json:"response,omitempty"`
	UserID   string    `json:"user_id,omitempty"`
	AMR      []string  `json:"amr,omitempty"`
	AuthTime time.Time `json:"auth_time"`
	// SessionID is the sid of the IdP session the request was finished in.
	SessionID string `json:"sid,omitempty"`
	grantKey  string // set when loaded by code: where issued tokens are recorded
	// Set when loaded by code: the ids the tokens issued from the code will
	// have, recorded in the grant before they exist.
	accessTokenID, familyID string
}

func (a *authRequest) GetID() string                      { return a.ID }
func (a *authRequest) GetACR() string                     { return acrFor(a.AMR) }
func (a *authRequest) GetAMR() []string                   { return a.AMR }
func (a *authRequest) GetAudience() []string              { return []string{a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time             { return a.AuthTime }
func (a *authRequest) GetClientID() string                { return a.ClientID }
func (a *authRequest) GetNonce() string                   { return a.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.RedirectURI }
func (a *authRequest) GetScopes() []string                { return a.Scopes }
func (a *authRequest) GetState() string                   { return a.State }
func (a *authRequest) GetSubject() string                 { return a.UserID }
func (a *authRequest) Done() bool                         { return a.IsDone }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseTypeCode }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.ResponseMode) }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: oidc.CodeChallengeMethod(a.CodeChallengeMethod)}
}

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

// grantRecord remembers what was issued from one authorization code, for as
// long as those tokens can live in the ephemeral store, so that a second use
// of the code can revoke them.
type grantRecord struct {
	Revoked        bool     `json:"revoked"`
	ClientID       string   `json:"client_id"`
	UserID         string   `json:"user_id"`
	AccessTokenIDs []string `json:"access_token_ids,omitempty"`
	FamilyID       string   `json:"family_id,omitempty"`
}

func getJSON(ctx context.Context, eph store.Ephemeral, key string, v any) (int64, error) {
	raw, version, err := eph.Get(ctx, key)
	if err != nil {
		return 0, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return 0, fmt.Errorf("provider: decode %s record: %w", strings.SplitN(key, ":", 3)[1], err)
	}
	return version, nil
}

// ---- auth requests and codes ----

func (s *opStorage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, hintSubject string) (op.AuthRequest, error) {
	p := s.p
	hc := httpFromContext(ctx)
	if hc == nil {
		return nil, errors.New("provider: an auth request is created only by a browser's /authorize")
	}
	if err := repeatedParameter(hc.r); err != nil {
		return nil, err
	}
	if hc.r.URL.Query().Get("request_uri") != "" {
		return nil, &oidc.Error{ErrorType: "request_uri_not_supported", Description: "The request_uri parameter is not supported."}
	}
	if req.ResponseType != oidc.ResponseTypeCode {
		return nil, &oidc.Error{ErrorType: "unsupported_response_type", Description: "Only the authorization code flow (response_type=code) is supported."}
	}
	if req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery {
		// form_post needs an auto-submitting script, which the strict
		// Content-Security-Policy forbids.
		return nil, oidc.ErrInvalidRequest().WithDescription("Only response_mode=query is supported.")
	}
	if !slices.Contains(req.Scopes, oidc.ScopeOpenID) {
		return nil, oidc.ErrInvalidScope().WithDescription("The openid scope is required.")
	}
	client, err := p.client(ctx, req.ClientID)
	if err != nil {
		dependencyFailed(ctx, err)
		return nil, oidc.ErrServerError().WithParent(err)
	}
	var scopes []string
	for _, sc := range req.Scopes {
		if slices.Contains(supportedScopes, sc) && !slices.Contains(scopes, sc) &&
			(len(client.Scopes) == 0 || sc == oidc.ScopeOpenID || slices.Contains(client.Scopes, sc)) {
			scopes = append(scopes, sc)
		}
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE must use code_challenge_method=S256.")
	}
	if client.Public && req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("This client must use PKCE (code_challenge with S256).")
	}
	ar := &authRequest{
		ID: randomID(16), CreatedAt: p.now(), ClientID: req.ClientID, RedirectURI: req.RedirectURI,
		Scopes: scopes, State: req.State, Nonce: req.Nonce, ResponseMode: string(req.ResponseMode),
		CodeChallenge: req.CodeChallenge, CodeChallengeMethod: string(req.CodeChallengeMethod),
		Prompt: req.Prompt, MaxAge: req.MaxAge, LoginHint: req.LoginHint, HintSubject: hintSubject,
		Binding: bindBrowser(hc.w, hc.r),
	}
	raw, err := json.Marshal(ar)
	if err != nil {
		return nil, fmt.Errorf("provider: encode auth request: %w", err)
	}
	if err := p.eph.Create(ctx, keyAuthRequest+ar.ID, raw, p.cfg.AuthRequestTTL); err != nil {
		dependencyFailed(ctx, err)
		return nil, fmt.Errorf("provider: store auth request: %w", err)
	}
	return ar, nil
}

func (s *opStorage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	ar, _, err := s.p.authRequestByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return ar, nil
}

func (p *Provider) authRequestByID(ctx context.Context, id string) (*authRequest, int64, error) {
	if id == "" {
		return nil, 0, ErrUnknownAuthRequest
	}
	var ar authRequest
	version, err := getJSON(ctx, p.eph, keyAuthRequest+id, &ar)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, ErrUnknownAuthRequest
	}
	if err != nil {
		return nil, 0, fmt.Errorf("provider: load auth request: %w", err)
	}
	return &ar, version, nil
}

// SaveAuthCode stores the code of the request being finished in this call
// (finish, through the library's response builder). A code is made nowhere
// else: no endpoint turns a stored request into a code, so nobody can poll
// for one. The request's own record is marked done by finish afterwards.
func (s *opStorage) SaveAuthCode(ctx context.Context, id, code string) error {
	ar, ok := ctx.Value(finishingKey{}).(*authRequest)
	if !ok || ar.ID != id || !ar.IsDone {
		return oidc.ErrInvalidRequest().WithDescription("This sign-in is not being completed.")
	}
	raw, err := json.Marshal(ar)
	if err != nil {
		return fmt.Errorf("provider: encode auth request: %w", err)
	}
	if err := s.p.eph.Create(ctx, keyCode+hashToken(code), raw, CodeTTL); err != nil {
		return fmt.Errorf("provider: store code: %w", err)
	}
	return nil
}

// finishingKey carries, in finish's context, the request whose code is being made.
type finishingKey struct{}

// AuthRequestByCode redeems a code: only the first caller gets the request.
// A later presentation of the same code revokes everything issued from it.
func (s *opStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	p := s.p
	h := hashToken(code)
	raw, err := p.eph.Take(ctx, keyCode+h)
	if errors.Is(err, store.ErrNotFound) {
		if rerr := p.revokeGrant(ctx, keyGrant+h); rerr != nil {
			p.log.ErrorContext(ctx, "code reuse: revoking tokens failed", "err", rerr)
		}
		return nil, errors.New("provider: unknown, expired or used code")
	}
	if err != nil {
		return nil, fmt.Errorf("provider: take code: %w", err)
	}
	var ar authRequest
	if err := json.Unmarshal(raw, &ar); err != nil {
		return nil, fmt.Errorf("provider: decode auth request: %w", err)
	}
	// The grant names the tokens before they are issued, so a reuse of the
	// code from now on revokes them whenever they appear (issueFromCode
	// checks the grant again once they exist). A family named here whose
	// refresh token is never issued costs a reuse one empty revocation.
	ar.accessTokenID, ar.familyID = randomID(16), randomID(16)
	grant, _ := json.Marshal(grantRecord{
		ClientID: ar.ClientID, UserID: ar.UserID, AccessTokenIDs: []string{ar.accessTokenID}, FamilyID: ar.familyID,
	})
	if err := p.eph.Create(ctx, keyGrant+h, grant, p.grantTTL()); err != nil {
		return nil, fmt.Errorf("provider: record grant: %w", err)
	}
	ar.grantKey = keyGrant + h
	return &ar, nil
}

func (p *Provider) grantTTL() time.Duration { return CodeTTL + p.cfg.AccessTokenTTL + time.Minute }

// revokeGrant handles a reused code: it marks the grant revoked (so tokens
// still being issued from it are refused) and revokes what was issued.
func (p *Provider) revokeGrant(ctx context.Context, key string) error {
	for range 10 {
		var g grantRecord
		version, err := getJSON(ctx, p.eph, key, &g)
		if errors.Is(err, store.ErrNotFound) {
			return nil // never redeemed, or long ago: nothing to revoke
		}
		if err != nil {
			return err
		}
		if !g.Revoked {
			g.Revoked = true
			raw, _ := json.Marshal(g)
			if _, err := p.eph.CompareAndSet(ctx, key, version, raw, p.grantTTL()); errors.Is(err, store.ErrConflict) {
				continue
			} else if err != nil {
				return fmt.Errorf("provider: mark grant revoked: %w", err)
			}
			p.audit(ctx, "code.reuse", g.UserID, g.ClientID, "authorization code presented twice; tokens issued from it revoked")
		}
		return p.revokeIssued(ctx, g.AccessTokenIDs, g.FamilyID)
	}
	return errors.New("provider: grant record kept changing")
}

func (p *Provider) revokeIssued(ctx context.Context, accessTokenIDs []string, familyID string) error {
	for _, id := range accessTokenIDs {
		if err := p.eph.Delete(ctx, keyAccessToken+id); err != nil {
			return fmt.Errorf("provider: delete access token: %w", err)
		}
	}
	if familyID != "" {
		return p.revokeFamily(ctx, familyID)
	}
	return nil
}

// grantStillValid closes the race where a code is reused between its
// redemption and the creation of the tokens.
func (p *Provider) grantStillValid(ctx context.Context, key string) error {
	var g grantRecord
	if _, err := getJSON(ctx, p.eph, key, &g); err != nil {
		return fmt.Errorf("provider: load grant: %w", err)
	}
	if g.Revoked {
		return oidc.ErrInvalidGrant().WithDescription("The authorization code was used more than once.")
	}
	return nil
}

func (s *opStorage) DeleteAuthRequest(ctx context.Context, id string) error {
	if err := s.p.eph.Delete(ctx, keyAuthRequest+id); err != nil {
		return fmt.Errorf("provider: delete auth request: %w", err)
	}
	return nil
}

// ---- tokens ----

func (s *opStorage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	ar, ok := req.(*authRequest)
	if !ok {
		return "", time.Time{}, fmt.Errorf("provider: unsupported token request %T", req)
	}
	at := s.p.newAccessToken(ar.ClientID, ar.UserID, ar.Scopes, ar.AMR, ar.AuthTime, "")
	at.ID, at.SessionID = ar.accessTokenID, ar.SessionID
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
		at := p.newAccessToken(r.ClientID, r.UserID, r.Scopes, r.AMR, r.AuthTime, rt.FamilyID)
		at.ID, at.SessionID = r.accessTokenID, r.SessionID
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
		at := p.newAccessToken(tok.ClientID, tok.UserID, r.scopes, tok.AMR, tok.AuthTime, tok.FamilyID)
		at.SessionID = tok.SessionID
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

func (p *Provider) newAccessToken(clientID, userID string, scopes, amr []string, authTime time.Time, familyID string) *accessToken {
	now := p.now()
	return &accessToken{
		ID: randomID(16), ClientID: clientID, UserID: userID, Scopes: scopes, Audience: []string{clientID},
		AMR: amr, AuthTime: authTime, IssuedAt: now, ExpiresAt: now.Add(p.cfg.AccessTokenTTL), FamilyID: familyID,
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
		if err := p.db.CreateRefreshToken(ctx, rt); err != nil {
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
	// The token and its account in one read; the account serves the checks and
	// the claims of this request (userByID).
	rt, u, err := p.db.RefreshTokenAndUser(ctx, hashToken(value))
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

func (p *Provider) refreshReuse(ctx context.Context, rt *store.RefreshToken) {
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

// userMaySignIn refuses tokens for users who are gone or disabled.
func (p *Provider) userMaySignIn(ctx context.Context, userID string) error {
	u, err := p.userByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return errors.New("provider: user no longer exists")
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(fmt.Errorf("provider: load user: %w", err))
	}
	if u.Status != store.UserActive {
		return errors.New("provider: user is disabled")
	}
	return nil
}

// userByID reads a user once per HTTP request: the row read at the start of
// a token request is the one its checks and claims agree on. Nothing is kept
// beyond the request, so a disabled account or a changed name is seen by the
// next one.
func (p *Provider) userByID(ctx context.Context, userID string) (*store.User, error) {
	hc := httpFromContext(ctx)
	if hc != nil && hc.user != nil && hc.user.ID == userID {
		return hc.user, nil
	}
	u, err := p.db.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if hc != nil {
		hc.user = u
	}
	return u, nil
}

// accessTokenByID returns a live access token record, or an error when it is
// unknown, expired or revoked (directly, with its refresh family, or by a
// "revoke everything before" marker for its user). Two round trips: the
// token, then every marker that could revoke it at once.
func (p *Provider) accessTokenByID(ctx context.Context, id, subject string) (*accessToken, error) {
	var at accessToken
	if _, err := getJSON(ctx, p.eph, keyAccessToken+id, &at); err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			dependencyFailed(ctx, err)
		}
		return nil, fmt.Errorf("provider: access token: %w", err)
	}
	if at.UserID != subject || !p.now().Before(at.ExpiresAt) {
		return nil, errors.New("provider: access token invalid or expired")
	}
	keys := revocationKeys(at.UserID, at.ClientID)
	n := len(keys)
	// Presence markers: the token's refresh family, its IdP session.
	for _, k := range []string{keyRevokedFamily + at.FamilyID, keyRevokedSession + at.SessionID} {
		if !strings.HasSuffix(k, ":") {
			keys = append(keys, k)
		}
	}
	markers, err := p.eph.GetMany(ctx, keys...)
	if err != nil {
		dependencyFailed(ctx, err)
		return nil, fmt.Errorf("provider: load revocation markers: %w", err)
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

// revocationKeys are the markers RevokeUserTokens and logouts leave for a user:
// everything, and (when clientID is given) one client's.
func revocationKeys(userID, clientID string) []string {
	keys := make([]string, 0, 3)
	keys = append(keys, keyRevokedUser+userID)
	if clientID != "" {
		keys = append(keys, keyRevokedUser+userID+":"+clientID)
	}
	return keys
}

// revokedBefore reports whether something issued at t to the user (and
// client, if given) has been revoked by RevokeUserTokens or a logout, or its
// IdP session sid (if given) has ended.
func (p *Provider) revokedBefore(ctx context.Context, userID, clientID string, t time.Time, sid string) (bool, error) {
	keys := revocationKeys(userID, clientID)
	if sid != "" {
		keys = append(keys, keyRevokedSession+sid)
	}
	markers, err := p.eph.GetMany(ctx, keys...)
	if err != nil {
		return false, fmt.Errorf("provider: load revocation markers: %w", err)
	}
	if sid != "" {
		if markers[len(markers)-1] != nil {
			return true, nil
		}
		markers = markers[:len(markers)-1]
	}
	return revokedBy(markers, t)
}

// revokedBy reports whether any revocation marker (a cut-off time; nil when
// absent) covers something issued at t.
func revokedBy(markers [][]byte, t time.Time) (bool, error) {
	for _, raw := range markers {
		if raw == nil {
			continue
		}
		var cut time.Time
		if err := cut.UnmarshalText(raw); err != nil {
			return false, fmt.Errorf("provider: decode revocation marker: %w", err)
		}
		if !t.After(cut) {
			return true, nil
		}
	}
	return false, nil
}

func (p *Provider) markRevoked(ctx context.Context, userID, clientID string) error {
	key := keyRevokedUser + userID
	if clientID != "" {
		key += ":" + clientID
	}
	raw, _ := p.now().MarshalText()
	if err := p.eph.Put(ctx, key, raw, p.cfg.revocationMarkerTTL()); err != nil {
		return fmt.Errorf("provider: store revocation marker: %w", err)
	}
	return nil
}

func (s *opStorage) TerminateSession(ctx context.Context, userID, clientID string) error {
	_, err := s.TerminateSessionFromRequest(ctx, &op.EndSessionRequest{UserID: userID, ClientID: clientID})
	return err
}

// TerminateSessionFromRequest ends the browser's IdP session everywhere (its
// form apps are told by back-channel logout and its tokens revoked), or,
// without a session cookie, the session a valid id_token_hint names; and it
// revokes the person's tokens for the client that asked (RP-initiated
// logout). The library has already checked that the redirect is a
// registered post-logout URI.
func (s *opStorage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	p := s.p
	// Every failure here is the database's or the ephemeral store's: the
	// person gets the try-again page, and trying again ends what is left.
	failed := func(err error) (string, error) {
		dependencyFailed(ctx, err)
		return "", err
	}
	userID := req.UserID
	ended := false
	if hc := httpFromContext(ctx); hc != nil {
		if sess, err := p.endBrowserSession(ctx, hc.w, hc.r, ""); err != nil {
			return failed(err)
		} else if sess != nil {
			ended = true
			if userID == "" {
				userID = sess.UserID
			}
		}
	}
	if hint := req.IDTokenHintClaims; !ended && hint != nil && hint.SessionID != "" {
		if err := p.endSessionByHint(ctx, hint.GetSubject(), hint.SessionID); err != nil {
			return failed(err)
		}
	}
	if userID != "" && req.ClientID != "" {
		if err := p.db.RevokeUserRefreshTokens(ctx, userID, req.ClientID, p.now()); err != nil {
			return failed(fmt.Errorf("provider: revoke refresh tokens: %w", err))
		}
		if err := p.markRevoked(ctx, userID, req.ClientID); err != nil {
			return failed(err)
		}
	}
	if userID != "" {
		p.audit(ctx, "logout", userID, req.ClientID, "signed out (RP-initiated logout)")
	}
	return req.RedirectURI, nil
}

const refreshTokenIDPrefix = "rt:"

// GetRefreshTokenInfo identifies a refresh token for the revocation endpoint.
func (s *opStorage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	rt, err := s.p.db.RefreshTokenByHash(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return "", "", op.ErrInvalidRefreshToken
	}
	if err != nil {
		return "", "", fmt.Errorf("provider: load refresh token: %w", err)
	}
	return rt.UserID, refreshTokenIDPrefix + rt.Hash, nil
}

// RevokeToken revokes a refresh token (with its family) or an access token.
// Unknown tokens are not an error (RFC 7009 section 2.2); a token of another
// client is refused.
func (s *opStorage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	p := s.p
	if hash, ok := strings.CutPrefix(tokenOrID, refreshTokenIDPrefix); ok {
		rt, err := p.db.RefreshTokenByHash(ctx, hash)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		if rt.ClientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("The token was not issued to this client.")
		}
		if err := p.revokeFamily(ctx, rt.FamilyID); err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		p.audit(ctx, "token.revoked", rt.UserID, clientID, "refresh token family revoked by the client")
		return nil
	}
	var at accessToken
	if _, err := getJSON(ctx, p.eph, keyAccessToken+tokenOrID, &at); errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if at.ClientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("The token was not issued to this client.")
	}
	if err := p.eph.Delete(ctx, keyAccessToken+tokenOrID); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

// ---- keys ----

type signingKey struct{ jwk *jose.JSONWebKey }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.jwk.Algorithm)
}
func (k signingKey) Key() any   { return k.jwk.Key }
func (k signingKey) ID() string { return k.jwk.KeyID }

type publicKey struct{ jwk jose.JSONWebKey }

func (k publicKey) ID() string { return k.jwk.KeyID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.jwk.Algorithm)
}
func (k publicKey) Use() string { return "sig" }
func (k publicKey) Key() any    { return k.jwk.Key }

// SigningKey is the key for the client of the token request being served:
// the library asks with only a context, so GetClientByClientID, which the
// library calls with the client id it authenticates (Basic or form) before
// it creates any token, notes that client's algorithm on the request. The
// library takes the at_hash and c_hash algorithm from the same key. Outside
// a token request it is the default algorithm's key.
func (s *opStorage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	alg := ""
	if hc := httpFromContext(ctx); hc != nil {
		alg = hc.signingAlg
	}
	jwk, err := s.p.signingKeyFor(ctx, alg)
	if err != nil {
		return nil, err
	}
	return signingKey{jwk: jwk}, nil
}

// SignatureAlgorithms are every algorithm a client may choose, the default
// first (discovery's id_token_signing_alg_values_supported).
func (s *opStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return slices.Clone(s.p.keys.algs), nil
}

func (s *opStorage) KeySet(ctx context.Context) ([]op.Key, error) {
	keys, err := s.p.keys.published(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, len(keys))
	for i, k := range keys {
		out[i] = publicKey{jwk: k}
	}
	return out, nil
}

// ---- clients ----

func (s *opStorage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := s.p.client(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("provider: unknown client %q", clientID)
	}
	if err != nil {
		dependencyFailed(ctx, err)
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if hc := httpFromContext(ctx); hc != nil {
		hc.clientID, hc.signingAlg = c.ID, clientSigningAlg(c)
	}
	return &oidcClient{c: c, p: s.p, askedResponseType: askedResponseType(ctx)}, nil
}

// AuthorizeClientIDSecret checks a client's secret, after the limits on
// failed attempts (limits.ClientSecrets): a caller past them is refused
// before any secret is checked, and withClientThrottle answers 429.
func (s *opStorage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	p := s.p
	network := networkOf(p.clientIP(ctx))
	if err := p.throttle.checkNetwork(ctx, network); err != nil {
		return p.clientAuthRefused(ctx, err)
	}
	// An unknown client id or a public client has no secret to guess, and
	// client ids are not secret: such requests cost no hashing and are not
	// counted, so made-up ids from ever new addresses write nothing.
	c, err := p.client(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return errors.New("provider: unknown client")
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if c.Public || c.SecretHash == "" {
		return errors.New("provider: public client presented a secret")
	}
	if err := p.throttle.checkClient(ctx, c.ID, network); err != nil {
		return p.clientAuthRefused(ctx, err)
	}
	ok, err := p.verifyClientSecret(ctx, c, secret)
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if !ok {
		s.p.audit(ctx, "client.auth_failed", "", clientID, "wrong client secret")
		return p.clientAuthFailed(ctx, c.ID, network, errors.New("provider: wrong client secret"))
	}
	if err := p.throttle.succeeded(ctx, c.ID, network); err != nil {
		p.log.WarnContext(ctx, "client authentication: could not record the network as known", "client_id", c.ID, "err", err)
	}
	return nil
}

// clientAuthFailed counts a failed client authentication and returns fail;
// when the count cannot be recorded the request fails as a server error
// rather than go uncounted.
func (p *Provider) clientAuthFailed(ctx context.Context, clientID, network string, fail error) error {
	locked, err := p.throttle.failed(ctx, clientID, network)
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if locked != "" {
		// Once per lock, not per refused request: a guesser cannot flood the log.
		p.log.WarnContext(ctx, "client authentication locked after too many failed attempts",
			"locked", locked, "client_id", clientID, "ip", p.clientIP(ctx))
	}
	return fail
}

// clientAuthRefused turns a throttle refusal into the 429 answer; any other
// error (the counters could not be read) fails closed as a server error.
func (p *Provider) clientAuthRefused(ctx context.Context, err error) error {
	var t errThrottled
	if !errors.As(err, &t) {
		return oidc.ErrServerError().WithParent(err)
	}
	if hc := httpFromContext(ctx); hc != nil {
		hc.throttled = &t
	}
	return t
}

// ---- claims ----

func (s *opStorage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil // superseded by SetUserinfoFromRequest
}

// SetUserinfoFromRequest fills an ID token's claims: the user's, and sid, the
// IdP session the grant came from (Back-Channel Logout 1.0 section 2.1).
func (s *opStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.p.setUserinfo(ctx, info, req.GetSubject(), scopes); err != nil {
		return err
	}
	var sid string
	switch r := req.(type) {
	case *authRequest:
		sid = r.SessionID
	case *refreshRequest:
		sid = r.token.SessionID
	}
	if sid != "" {
		info.AppendClaims("sid", sid)
	}
	return nil
}

func (s *opStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	at, err := s.p.accessTokenByID(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	return s.p.setUserinfo(ctx, info, at.UserID, at.Scopes)
}

func (s *opStorage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	at, err := s.p.accessTokenByID(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	if !slices.Contains(at.Audience, clientID) {
		return errors.New("provider: token not issued to the introspecting client")
	}
	info := new(oidc.UserInfo)
	if err := s.p.setUserinfo(ctx, info, at.UserID, at.Scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope = at.Scopes
	resp.ClientID = at.ClientID
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(at.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(at.IssuedAt)
	resp.AuthTime = oidc.FromTime(at.AuthTime)
	resp.AuthenticationMethodsReferences = at.AMR
	resp.Audience = at.Audience
	resp.Issuer = s.p.cfg.Issuer
	resp.JWTID = at.ID
	return nil
}

// setUserinfo fills the claims the scopes allow; sub is always set.
func (p *Provider) setUserinfo(ctx context.Context, info *oidc.UserInfo, userID string, scopes []string) error {
	u, err := p.userByID(ctx, userID)
	if err != nil {
		return fmt.Errorf("provider: load user: %w", err)
	}
	if u.Status != store.UserActive {
		return errors.New("provider: user is disabled")
	}
	info.Subject = u.ID
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			info.GivenName = u.GivenName
			info.FamilyName = u.FamilyName
			info.Name = strings.TrimSpace(u.GivenName + " " + u.FamilyName)
		case oidc.ScopeEmail:
			info.Email = u.Email
			info.EmailVerified = oidc.Bool(u.EmailVerified)
		case oidc.ScopePhone:
			if u.Phone != "" {
				info.PhoneNumber = u.Phone
				info.PhoneNumberVerified = oidc.Bool(u.PhoneVerified)
			}
		}
	}
	return nil
}

func (s *opStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *opStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("provider: JWT client authentication is not supported")
}

func (s *opStorage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("provider: the JWT profile grant is not supported")
}

func (s *opStorage) Health(ctx context.Context) error {
	if err := s.p.db.Ping(ctx); err != nil {
		return err
	}
	return s.p.eph.Ping(ctx)
}
