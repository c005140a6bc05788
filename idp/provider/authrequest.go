package provider

// Auth requests and codes: the stored /authorize request, the code that
// redeems it once, and the grant record that lets a second use revoke what
// the first one issued.

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

	"github.com/councilforms/idp/idp/amr"
	"github.com/councilforms/idp/store"
)

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
	// UILocales is the request's ui_locales, space-separated, as sent: the
	// pages' language follows it.
	UILocales   string `json:"ui_locales,omitempty"`
	HintSubject string `json:"hint_subject,omitempty"` // sub of a valid id_token_hint
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
func (a *authRequest) GetACR() string                     { return amr.ACR(a.AMR) }
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
		UILocales: uiLocales(req.UILocales),
		Binding:   bindBrowser(hc.w, hc.r),
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
	ar.familyID = randomID(16)
	ar.accessTokenID = newAccessTokenID(ar.ClientID, ar.familyID, ar.SessionID)
	grant, _ := json.Marshal(grantRecord{
		ClientID: ar.ClientID, UserID: ar.UserID, AccessTokenIDs: []string{ar.accessTokenID}, FamilyID: ar.familyID,
	})
	if err := p.eph.Create(ctx, keyGrant+h, grant, p.grantTTL()); err != nil {
		return nil, fmt.Errorf("provider: record grant: %w", err)
	}
	ar.grantKey = keyGrant + h
	if hc := httpFromContext(ctx); hc != nil {
		hc.codeUserID = ar.UserID
	}
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

// DeleteAuthRequest is the library's call once a code has been exchanged.
// The request's record is left to expire instead: finish shortened its life
// to the code's (CodeTTL), and with its code taken it gives nothing again
// (finishedResponse answers only while the code exists; a finished request
// starts no journey and makes no other code). Deleting it would cost every
// code exchange a round trip to the ephemeral store.
func (s *opStorage) DeleteAuthRequest(context.Context, string) error { return nil }

// uiLocales writes ui_locales back as the space-separated tags it came as.
func uiLocales(l oidc.Locales) string {
	tags := make([]string, 0, len(l))
	for _, t := range l {
		tags = append(tags, t.String())
	}
	return strings.Join(tags, " ")
}
