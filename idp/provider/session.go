package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/councilforms/idp/store"
)

// SessionCookie names the IdP session cookie. The __Host- prefix makes the
// browser insist on Secure, Path=/ and no Domain.
const SessionCookie = "__Host-idp_session"

// ErrUnknownAuthRequest: the sign-in request does not exist, has expired or
// was already finished.
var ErrUnknownAuthRequest = errors.New("provider: sign-in request not found or expired")

// LoginRequest is what the login pages need to know about a pending sign-in.
type LoginRequest struct {
	ID          string
	ClientID    string
	ClientName  string
	LoginHint   string   // login_hint, e.g. an email address; a suggestion only
	Prompt      []string // prompt values: none, login, ...
	MaxAge      *time.Duration
	RedirectURI string // the client's redirect URI: not for display
	Scopes      []string
}

// ForceLogin reports whether the person must sign in again even with a live
// session (prompt=login or max_age=0).
func (l *LoginRequest) ForceLogin() bool {
	return slices.Contains(l.Prompt, oidc.PromptLogin) || (l.MaxAge != nil && *l.MaxAge == 0)
}

// Authentication is what the login journey proved.
type Authentication struct {
	UserID   string
	AMR      []string  // e.g. ["pwd","sms"] or ["pwd","tel"]
	AuthTime time.Time // when the person authenticated; zero means now
}

// sessionRecord is the IdP session referenced by the session cookie.
type sessionRecord struct {
	UserID    string    `json:"user_id"`
	AMR       []string  `json:"amr"`
	AuthTime  time.Time `json:"auth_time"`
	CreatedAt time.Time `json:"created_at"`
}

// LoginRequest returns the pending sign-in with this id.
func (p *Provider) LoginRequest(ctx context.Context, authRequestID string) (*LoginRequest, error) {
	ar, _, err := p.authRequestByID(ctx, authRequestID)
	if err != nil {
		return nil, err
	}
	c, err := p.client(ctx, ar.ClientID)
	if err != nil {
		return nil, err
	}
	lr := &LoginRequest{
		ID: ar.ID, ClientID: ar.ClientID, ClientName: c.Name, LoginHint: ar.LoginHint,
		Prompt: ar.Prompt, RedirectURI: ar.RedirectURI, Scopes: ar.Scopes,
	}
	if ar.MaxAge != nil {
		d := time.Duration(*ar.MaxAge) * time.Second
		lr.MaxAge = &d
	}
	return lr, nil
}

// ResumeSession completes the sign-in from the browser's IdP session when
// that session satisfies prompt and max_age (ok=true, redirect to follow).
// With prompt=none and no usable session it returns the client's redirect
// carrying error=login_required (ok=true). Otherwise ok=false: the login
// journey must run and finish with Complete.
func (p *Provider) ResumeSession(w http.ResponseWriter, r *http.Request, authRequestID string) (string, bool, error) {
	ctx := r.Context()
	ar, version, err := p.authRequestByID(ctx, authRequestID)
	if err != nil {
		return "", false, err
	}
	sess, err := p.browserSession(ctx, r)
	if err != nil {
		return "", false, err
	}
	if sess != nil && p.sessionSatisfies(ar, sess) {
		if err := p.finish(ctx, ar, version, sess.UserID, sess.AMR, sess.AuthTime); err != nil {
			return "", false, err
		}
		return p.authorizeCallbackURL(ar.ID), true, nil
	}
	if slices.Contains(ar.Prompt, oidc.PromptNone) {
		if err := p.eph.Delete(ctx, keyAuthRequest+ar.ID); err != nil {
			return "", false, fmt.Errorf("provider: delete auth request: %w", err)
		}
		return p.clientErrorURL(ar, oidc.ErrLoginRequired().WithDescription("The person is not signed in.")), true, nil
	}
	return "", false, nil
}

func (p *Provider) sessionSatisfies(ar *authRequest, sess *sessionRecord) bool {
	if slices.Contains(ar.Prompt, oidc.PromptLogin) || slices.Contains(ar.Prompt, oidc.PromptSelectAccount) {
		return false
	}
	if ar.MaxAge != nil && p.now().Sub(sess.AuthTime) > time.Duration(*ar.MaxAge)*time.Second {
		return false
	}
	if ar.HintSubject != "" && ar.HintSubject != sess.UserID {
		return false
	}
	return true
}

// clientErrorURL is an authorization error response to the client's
// (already validated) redirect URI, with iss (RFC 9207).
func (p *Provider) clientErrorURL(ar *authRequest, e *oidc.Error) string {
	u, err := url.Parse(ar.RedirectURI)
	if err != nil {
		return ar.RedirectURI
	}
	q := u.Query()
	q.Set("error", string(e.ErrorType))
	if e.Description != "" {
		q.Set("error_description", e.Description)
	}
	if ar.State != "" {
		q.Set("state", ar.State)
	}
	q.Set("iss", p.cfg.Issuer)
	u.RawQuery = q.Encode()
	return u.String()
}

// Complete records that the person was authenticated, starts a new IdP
// session (a fresh cookie, so a session id is never reused across sign-ins)
// and returns the URL to send the browser to.
func (p *Provider) Complete(w http.ResponseWriter, r *http.Request, authRequestID string, a Authentication) (string, error) {
	ctx := r.Context()
	if a.UserID == "" || strings.Contains(a.UserID, ":") {
		return "", fmt.Errorf("provider: complete: invalid user id %q", a.UserID)
	}
	if len(a.AMR) == 0 {
		return "", errors.New("provider: complete: amr is required")
	}
	if a.AuthTime.IsZero() {
		a.AuthTime = p.now()
	}
	a.AuthTime = a.AuthTime.UTC().Truncate(time.Second)
	ar, version, err := p.authRequestByID(ctx, authRequestID)
	if err != nil {
		return "", err
	}
	if err := p.userMaySignIn(ctx, a.UserID); err != nil {
		return "", err
	}
	if _, err := p.endBrowserSession(ctx, w, r); err != nil {
		return "", err
	}
	if err := p.startSession(ctx, w, a); err != nil {
		return "", err
	}
	p.audit(ctx, "login.completed", a.UserID, ar.ClientID, "signed in with "+strings.Join(a.AMR, "+"))
	if ar.HintSubject != "" && ar.HintSubject != a.UserID {
		// The client asked for a particular person (id_token_hint) and someone
		// else signed in: tell the client rather than switch identities.
		if err := p.eph.Delete(ctx, keyAuthRequest+ar.ID); err != nil {
			return "", fmt.Errorf("provider: delete auth request: %w", err)
		}
		return p.clientErrorURL(ar, oidc.ErrLoginRequired().WithDescription("A different person signed in.")), nil
	}
	if err := p.finish(ctx, ar, version, a.UserID, a.AMR, a.AuthTime); err != nil {
		return "", err
	}
	return p.authorizeCallbackURL(ar.ID), nil
}

// finish marks the auth request done. Compare-and-set: a double submission
// that lost the race still ends at the same callback.
func (p *Provider) finish(ctx context.Context, ar *authRequest, version int64, userID string, amr []string, authTime time.Time) error {
	ar.IsDone, ar.UserID, ar.AMR, ar.AuthTime = true, userID, amr, authTime
	raw, err := json.Marshal(ar)
	if err != nil {
		return fmt.Errorf("provider: encode auth request: %w", err)
	}
	_, err = p.eph.CompareAndSet(ctx, keyAuthRequest+ar.ID, version, raw, p.cfg.AuthRequestTTL)
	if errors.Is(err, store.ErrNotFound) {
		return ErrUnknownAuthRequest
	}
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("provider: finish auth request: %w", err)
	}
	return nil
}

func (p *Provider) startSession(ctx context.Context, w http.ResponseWriter, a Authentication) error {
	value := randomToken(32)
	raw, err := json.Marshal(sessionRecord{UserID: a.UserID, AMR: a.AMR, AuthTime: a.AuthTime, CreatedAt: p.now()})
	if err != nil {
		return fmt.Errorf("provider: encode session: %w", err)
	}
	if err := p.eph.Create(ctx, keySession+hashToken(value), raw, p.cfg.SessionTTL); err != nil {
		return fmt.Errorf("provider: store session: %w", err)
	}
	// No Max-Age: the cookie goes when the browser closes (shared office
	// computers); the server-side record ends it after SessionTTL anyway.
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: value, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// browserSession returns the live IdP session of this browser, or nil.
func (p *Provider) browserSession(ctx context.Context, r *http.Request) (*sessionRecord, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	var sess sessionRecord
	if _, err := getJSON(ctx, p.eph, keySession+hashToken(ck.Value), &sess); errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("provider: load session: %w", err)
	}
	revoked, err := p.revokedBefore(ctx, sess.UserID, "", sess.CreatedAt)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, nil
	}
	if err := p.userMaySignIn(ctx, sess.UserID); err != nil {
		var oe *oidc.Error
		if errors.As(err, &oe) {
			return nil, err // a server fault, not a gone user
		}
		return nil, nil
	}
	return &sess, nil
}

// endBrowserSession deletes this browser's session record and cookie; it
// returns the session that was ended, if any.
func (p *Provider) endBrowserSession(ctx context.Context, w http.ResponseWriter, r *http.Request) (*sessionRecord, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	key := keySession + hashToken(ck.Value)
	var sess sessionRecord
	_, gerr := getJSON(ctx, p.eph, key, &sess)
	if err := p.eph.Delete(ctx, key); err != nil {
		return nil, fmt.Errorf("provider: delete session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	if gerr != nil {
		return nil, nil
	}
	return &sess, nil
}

// SessionUser returns the user signed in to the IdP in this browser, for
// pages that need a signed-in person (change phone number).
func (p *Provider) SessionUser(r *http.Request) (string, bool) {
	sess, err := p.browserSession(r.Context(), r)
	if err != nil {
		p.log.ErrorContext(r.Context(), "session lookup failed", "err", err)
		return "", false
	}
	if sess == nil {
		return "", false
	}
	return sess.UserID, true
}

// RevokeUserTokens ends everything issued to the user so far: refresh tokens,
// access tokens and IdP sessions in every browser (password reset or change).
// A sign-in completed afterwards is unaffected.
func (p *Provider) RevokeUserTokens(ctx context.Context, userID string) error {
	if err := p.db.RevokeUserRefreshTokens(ctx, userID, "", p.now()); err != nil {
		return fmt.Errorf("provider: revoke refresh tokens of %s: %w", userID, err)
	}
	if err := p.markRevoked(ctx, userID, ""); err != nil {
		return err
	}
	p.audit(ctx, "tokens.revoked", userID, "", "all tokens and sessions revoked")
	return nil
}
