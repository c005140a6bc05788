package provider

// The single-sign-on session from the login pages' side (about 480 lines,
// one idea): the hand-off API the pages call (LoginRequest, ResumeSession,
// Complete), the finishing of a request into its code, and the browser's
// session cookie with its absolute and idle lifetimes. Session ids, ending
// sessions everywhere and back-channel logout are in sessions.go and
// backchannel.go.

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
	"github.com/zitadel/oidc/v3/pkg/op"

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
	UILocales   string   // ui_locales: space-separated BCP 47 tags, most wanted first
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
	// SID is the session's id (sid in ID tokens and logout tokens): it stays
	// when the same person signs in again in this browser, and is never the
	// cookie's value (sessions.go).
	SID string `json:"sid,omitempty"`
	// LastUsed is when the session last served a request, to within
	// sessionTouchEvery: unused for SessionIdleTTL, it has ended. Zero in a
	// record written before the idle timeout existed (taken as now).
	LastUsed time.Time `json:"last_used,omitzero"`
}

// sessionTouchEvery is how stale LastUsed may grow before a use rewrites the
// record: most requests of a sign-in read the session without writing it.
const sessionTouchEvery = time.Minute

// LoginRequest returns the pending sign-in with this id, when r comes from
// the browser that started it (ErrOtherBrowser otherwise). A finished request
// is ErrUnknownAuthRequest: it cannot start a journey.
func (p *Provider) LoginRequest(r *http.Request, authRequestID string) (*LoginRequest, error) {
	ctx := r.Context()
	ar, _, err := p.boundRequest(r, authRequestID)
	if err != nil {
		return nil, err
	}
	if ar.IsDone {
		return nil, ErrUnknownAuthRequest
	}
	c, err := p.client(ctx, ar.ClientID)
	if err != nil {
		return nil, err
	}
	lr := &LoginRequest{
		ID: ar.ID, ClientID: ar.ClientID, ClientName: c.Name, LoginHint: ar.LoginHint, UILocales: ar.UILocales,
		Prompt: ar.Prompt, RedirectURI: ar.RedirectURI, Scopes: ar.Scopes,
	}
	if ar.MaxAge != nil {
		d := time.Duration(*ar.MaxAge) * time.Second
		lr.MaxAge = &d
	}
	return lr, nil
}

// boundRequest loads a request for the browser of r: ErrOtherBrowser when
// another browser started it.
func (p *Provider) boundRequest(r *http.Request, id string) (*authRequest, int64, error) {
	ar, version, err := p.authRequestByID(r.Context(), id)
	if err != nil {
		return nil, 0, err
	}
	if !boundTo(r, ar) {
		return nil, 0, ErrOtherBrowser
	}
	return ar, version, nil
}

// ResumeSession completes the sign-in from the browser's IdP session when
// that session satisfies prompt and max_age (ok=true, redirect to follow: the
// client's redirect URI with the code). With prompt=none and no usable
// session it returns the client's redirect carrying error=login_required
// (ok=true). Otherwise ok=false: the login journey must run and finish with
// Complete. A request started in another browser is ErrOtherBrowser.
func (p *Provider) ResumeSession(w http.ResponseWriter, r *http.Request, authRequestID string) (string, bool, error) {
	ctx := r.Context()
	ar, version, err := p.boundRequest(r, authRequestID)
	if err != nil {
		return "", false, err
	}
	if ar.IsDone {
		to, err := p.finishedResponse(ctx, ar)
		return to, err == nil, err
	}
	sess, err := p.browserSession(ctx, r)
	if err != nil {
		return "", false, err
	}
	if sess != nil && p.sessionSatisfies(ar, sess) {
		to, err := p.finish(ctx, ar, version, sess.UserID, sess.AMR, sess.AuthTime, sess.SID)
		if err != nil {
			return "", false, err
		}
		return to, true, nil
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
// and returns the URL to send the browser to: the client's redirect URI with
// the authorization code, made in this call. Only the browser that started
// the request may complete it (ErrOtherBrowser). Completing a request that
// this browser has just completed (a double click, a retry after a lost
// response) returns the same redirect while its code is unused.
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
	ar, version, err := p.boundRequest(r, authRequestID)
	if err != nil {
		return "", err
	}
	if ar.IsDone {
		if ar.UserID != a.UserID {
			return "", ErrUnknownAuthRequest
		}
		return p.finishedResponse(ctx, ar)
	}
	if err := p.userMaySignIn(ctx, a.UserID); err != nil {
		return "", err
	}
	// The same person signing in again keeps their session's id (so form apps
	// holding its tokens stay in it); anyone else's session in this browser
	// ends everywhere first (a shared office computer).
	old, err := p.endBrowserSession(ctx, w, r, a.UserID)
	if err != nil {
		return "", err
	}
	sid := ""
	if old != nil && old.UserID == a.UserID {
		sid = old.SID
	}
	sid, err = p.startSession(ctx, w, a, sid)
	if err != nil {
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
	return p.finish(ctx, ar, version, a.UserID, a.AMR, a.AuthTime, sid)
}

// finish makes the request's authorization code and marks the request done,
// in one step: the code is stored first, then the request's record is
// replaced (compare-and-set on the version loaded) by the done request with
// the sealed response, for the code's lifetime. If another request of the
// same browser finished it first, this one's code is dropped and that one's
// response is returned; if the record cannot be written, the code is dropped
// and the request stays as it was, so trying again works.
func (p *Provider) finish(ctx context.Context, ar *authRequest, version int64, userID string, amr []string, authTime time.Time, sid string) (string, error) {
	ar.IsDone, ar.UserID, ar.AMR, ar.AuthTime, ar.SessionID = true, userID, amr, authTime, sid
	// The session remembers the form app before the code exists, so that a
	// logout always reaches every form app that could hold its tokens.
	if err := p.joinSession(ctx, sid, ar.ClientID); err != nil {
		return "", err
	}
	to, err := op.BuildAuthResponseCallbackURL(context.WithValue(ctx, finishingKey{}, ar), ar, p.op)
	if err != nil {
		return "", fmt.Errorf("provider: make authorization code: %w", err)
	}
	to, _ = addIssuerParam(to, p.cfg.Issuer)
	ar.Response = p.sealer.seal(ar.ID, to)
	raw, err := json.Marshal(ar)
	if err != nil {
		return "", fmt.Errorf("provider: encode auth request: %w", err)
	}
	_, err = p.eph.CompareAndSet(ctx, keyAuthRequest+ar.ID, version, raw, CodeTTL)
	if err == nil {
		return to, nil
	}
	p.dropCode(ctx, to)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", ErrUnknownAuthRequest
	case errors.Is(err, store.ErrConflict):
		won, _, lerr := p.authRequestByID(ctx, ar.ID)
		if lerr != nil {
			return "", lerr
		}
		if !won.IsDone || won.UserID != userID {
			return "", ErrUnknownAuthRequest
		}
		return p.finishedResponse(ctx, won)
	default:
		return "", fmt.Errorf("provider: finish auth request: %w", err)
	}
}

// finishedResponse is the response a done request was finished with, while
// its code is still unredeemed.
func (p *Provider) finishedResponse(ctx context.Context, ar *authRequest) (string, error) {
	to, err := p.sealer.open(ar.ID, ar.Response)
	if err != nil {
		return "", ErrUnknownAuthRequest
	}
	code := responseCode(to)
	if code == "" {
		return "", ErrUnknownAuthRequest
	}
	if _, _, err := p.eph.Get(ctx, keyCode+hashToken(code)); errors.Is(err, store.ErrNotFound) {
		return "", ErrUnknownAuthRequest
	} else if err != nil {
		return "", fmt.Errorf("provider: look up code: %w", err)
	}
	return to, nil
}

// dropCode deletes the code carried by an authorization response that will
// not be sent.
func (p *Provider) dropCode(ctx context.Context, to string) {
	if code := responseCode(to); code != "" {
		if err := p.eph.Delete(ctx, keyCode+hashToken(code)); err != nil {
			p.log.WarnContext(ctx, "drop unsent authorization code", "err", err)
		}
	}
}

func responseCode(to string) string {
	u, err := url.Parse(to)
	if err != nil {
		return ""
	}
	return u.Query().Get("code")
}

// startSession stores a new session record under a fresh cookie and sets
// the cookie. sid is the session id to keep (the same person signing in
// again), or empty for a new one; it returns the session's id.
func (p *Provider) startSession(ctx context.Context, w http.ResponseWriter, a Authentication, sid string) (string, error) {
	value := randomToken(32)
	if sid == "" {
		sid = randomID(16)
	}
	key := keySession + hashToken(value)
	now := p.now()
	raw, err := json.Marshal(sessionRecord{UserID: a.UserID, AMR: a.AMR, AuthTime: a.AuthTime, CreatedAt: now, LastUsed: now, SID: sid})
	if err != nil {
		return "", fmt.Errorf("provider: encode session: %w", err)
	}
	if err := p.eph.Create(ctx, key, raw, p.cfg.SessionTTL); err != nil {
		return "", fmt.Errorf("provider: store session: %w", err)
	}
	if err := p.indexSession(ctx, sid, a.UserID, key); err != nil {
		return "", err
	}
	// No Max-Age: the cookie goes when the browser closes (shared office
	// computers); the server-side record ends it after SessionTTL anyway.
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: value, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	return sid, nil
}

// browserSession returns the live IdP session of this browser, or nil. A
// session unused for SessionIdleTTL has ended (its record is deleted); a use
// is recorded at most once a minute, and never keeps the record past the
// session's absolute lifetime (SessionTTL from its start).
func (p *Provider) browserSession(ctx context.Context, r *http.Request) (*sessionRecord, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	key := keySession + hashToken(ck.Value)
	var sess sessionRecord
	version, err := getJSON(ctx, p.eph, key, &sess)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("provider: load session: %w", err)
	}
	now := p.now()
	left := sess.CreatedAt.Add(p.cfg.SessionTTL).Sub(now)
	if left <= 0 || (!sess.LastUsed.IsZero() && now.Sub(sess.LastUsed) > p.cfg.SessionIdleTTL) {
		if err := p.eph.Delete(ctx, key); err != nil {
			return nil, fmt.Errorf("provider: delete ended session: %w", err)
		}
		return nil, nil
	}
	revoked, err := p.revokedBefore(ctx, sess.UserID, "", sess.CreatedAt, sess.SID)
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
	if now.Sub(sess.LastUsed) >= min(sessionTouchEvery, p.cfg.SessionIdleTTL/2) {
		used := sess
		used.LastUsed = now
		raw, err := json.Marshal(used)
		if err != nil {
			return nil, fmt.Errorf("provider: encode session: %w", err)
		}
		// A conflict is another request of this browser recording the same
		// use; not found is a sign-out that came first.
		_, err = p.eph.CompareAndSet(ctx, key, version, raw, left)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		} else if err != nil && !errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("provider: record session use: %w", err)
		}
	}
	return &sess, nil
}

// endBrowserSession ends this browser's IdP session and clears its cookie;
// it returns the session record that was there, if any. The session ends
// everywhere (endSSOSession: its form apps are told and its tokens revoked)
// unless it is keepUser's, who is signing in again and keeps it; its record
// is deleted only after that, so a failure leaves it to be ended by a retry.
func (p *Provider) endBrowserSession(ctx context.Context, w http.ResponseWriter, r *http.Request, keepUser string) (*sessionRecord, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	key := keySession + hashToken(ck.Value)
	var sess *sessionRecord
	var rec sessionRecord
	switch _, err := getJSON(ctx, p.eph, key, &rec); {
	case err == nil:
		sess = &rec
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("provider: load session: %w", err)
	}
	if sess != nil && sess.UserID != keepUser {
		if err := p.endSSOSession(ctx, sess.UserID, sess.SID); err != nil {
			return nil, err
		}
	}
	if err := p.eph.Delete(ctx, key); err != nil {
		return nil, fmt.Errorf("provider: delete session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	return sess, nil
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
	if err := p.endUserSessions(ctx, userID); err != nil {
		return err
	}
	if err := p.db.RevokeUserRefreshTokens(ctx, userID, "", p.now()); err != nil {
		return fmt.Errorf("provider: revoke refresh tokens of %s: %w", userID, err)
	}
	if err := p.markRevoked(ctx, userID, ""); err != nil {
		return err
	}
	p.audit(ctx, "tokens.revoked", userID, "", "all tokens and sessions revoked")
	return nil
}
