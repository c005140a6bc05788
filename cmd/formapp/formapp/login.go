package formapp

import (
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// pendingLoginTTL bounds how long a person may spend at the identity
// provider (signing up, waiting for an email) before the callback is refused.
const pendingLoginTTL = time.Hour

// startLogin is the 'Login or Register' button: it remembers where to come
// back to and sends the browser to the provider's authorization endpoint
// with PKCE (S256), state and nonce.
func (a *App) startLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		a.badRequest(w, r)
		return
	}
	next := returnPath(r.PostForm.Get("next"))
	d, err := a.issuer.get(r.Context())
	if err != nil {
		a.log.Error("identity provider unavailable", "err", err)
		a.loginFailed(w, r, http.StatusServiceUnavailable, next,
			"Sorry, the sign-in service is not available",
			"Your answers have been kept. Try again in a few minutes.")
		return
	}
	sess := a.sessionOrNew(r)
	p := &PendingLogin{
		State:    rand.Text(),
		Nonce:    rand.Text(),
		Verifier: oauth2.GenerateVerifier(),
		ReturnTo: next,
		Started:  a.now(),
	}
	sess.Pending = p
	a.save(w, sess)
	target := d.oauth.AuthCodeURL(p.State, oidc.Nonce(p.Nonce), oauth2.S256ChallengeOption(p.Verifier))
	http.Redirect(w, r, target, http.StatusFound)
}

// callback finishes the sign-in: it checks the state against the pending
// login, exchanges the code (with the PKCE verifier), verifies the ID token
// and its nonce, and returns the person to the page they were going to with
// every answer kept. Any failure is a page with 'Try again', never a 500.
func (a *App) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sess := a.session(r)
	if sess == nil || sess.Pending == nil || a.now().Sub(sess.Pending.Started) > pendingLoginTTL {
		a.log.Warn("sign-in callback refused", "err", errNoPendingLogin)
		a.loginFailed(w, r, http.StatusBadRequest, pathConcern,
			"Your sign-in could not be completed",
			"The sign-in took too long or was started in another browser. Your answers may not have been kept.")
		return
	}
	pending := sess.Pending
	if q.Get("state") != pending.State {
		a.log.Warn("sign-in callback refused: state does not match")
		a.loginFailed(w, r, http.StatusBadRequest, pending.ReturnTo,
			"Your sign-in could not be completed",
			"Your answers have been kept. Try signing in again.")
		return
	}
	// The state is single use, whatever happens next.
	sess.Pending = nil
	a.save(w, sess)

	// RFC 9207: a provider that names itself in the response must be the
	// one the request went to (defence against mix-up attacks).
	if iss := q.Get("iss"); iss != "" && iss != a.cfg.Issuer {
		a.log.Warn("sign-in callback refused: iss does not match the issuer", "iss", iss)
		a.loginFailed(w, r, http.StatusBadRequest, pending.ReturnTo,
			"Your sign-in could not be completed", "Your answers have been kept. Try signing in again.")
		return
	}

	if e := q.Get("error"); e != "" {
		a.log.Info("identity provider returned an error", "error", e, "error_description", q.Get("error_description"))
		title, msg := "You have not signed in", "Your answers have been kept. You need to log in or register to continue with this form."
		switch e {
		case "access_denied":
			title = "You did not finish signing in"
		case "login_required", "interaction_required", "consent_required":
			title = "You need to sign in again"
		case "temporarily_unavailable", "server_error":
			title, msg = "Sorry, the sign-in service is not available", "Your answers have been kept. Try again in a few minutes."
		}
		a.loginFailed(w, r, http.StatusOK, pending.ReturnTo, title, msg)
		return
	}
	code := q.Get("code")
	if code == "" {
		a.log.Warn("sign-in callback without a code")
		a.loginFailed(w, r, http.StatusBadRequest, pending.ReturnTo, "Your sign-in could not be completed", "Your answers have been kept. Try signing in again.")
		return
	}
	d, err := a.issuer.get(r.Context())
	if err != nil {
		a.log.Error("identity provider unavailable", "err", err)
		a.loginFailed(w, r, http.StatusServiceUnavailable, pending.ReturnTo,
			"Sorry, the sign-in service is not available", "Your answers have been kept. Try again in a few minutes.")
		return
	}
	ctx := a.issuer.clientContext(r.Context())
	tok, err := d.oauth.Exchange(ctx, code, oauth2.VerifierOption(pending.Verifier))
	if err != nil {
		a.log.Error("exchange authorization code", "err", err)
		a.loginFailed(w, r, http.StatusBadGateway, pending.ReturnTo,
			"Sorry, there is a problem with the sign-in service", "Your answers have been kept. Try signing in again.")
		return
	}
	person, sid, rawIDToken, err := a.verify(r, d, tok, pending.Nonce)
	if err != nil {
		a.log.Error("ID token refused", "err", err)
		a.loginFailed(w, r, http.StatusBadGateway, pending.ReturnTo,
			"Sorry, there is a problem with the sign-in service", "Your answers have been kept. Try signing in again.")
		return
	}

	// A new session id at sign-in, so an id known before it (fixation)
	// is worth nothing after.
	a.sessions.delete(sess.ID)
	sess.ID = newSessionID()
	sess.Person = person
	sess.IDToken = rawIDToken
	sess.ProviderSession = sid
	a.save(w, sess)
	a.log.Info("signed in", "sub", person.Subject, "sid", sid)
	http.Redirect(w, r, pending.ReturnTo, http.StatusSeeOther)
}

// verify checks the ID token in tok (signature, issuer, audience, expiry)
// and that it carries the nonce sent, and reads the person's claims and the
// provider's session id (sid, which back-channel logout tokens name). It
// returns the person, the sid ("" when there is none) and the raw ID token.
func (a *App) verify(r *http.Request, d *discovered, tok *oauth2.Token, nonce string) (*Person, string, string, error) {
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, "", "", errors.New("token response has no id_token")
	}
	idt, err := d.verifier.Verify(a.issuer.clientContext(r.Context()), raw)
	if err != nil {
		return nil, "", "", err
	}
	if idt.Nonce != nonce {
		return nil, "", "", errors.New("ID token nonce does not match the one sent")
	}
	var claims struct {
		Person
		SessionID string `json:"sid"`
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, "", "", err
	}
	person := claims.Person
	person.Subject = idt.Subject
	return &person, claims.SessionID, raw, nil
}

// loginFailed shows a sign-in problem with a 'Try again' button that starts
// a new sign-in for the same page.
func (a *App) loginFailed(w http.ResponseWriter, r *http.Request, status int, next, title, message string) {
	a.render(w, r, status, "login-failed", &view{
		Title:   title,
		Message: message,
		Next:    returnPath(next),
		Session: a.session(r),
	})
}

// signOut ends the local session and then the provider's (RP-initiated
// logout with id_token_hint). A sign-out started from another site (a
// link or image elsewhere) is asked to confirm with a button instead.
func (a *App) signOut(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
			a.render(w, r, http.StatusOK, "sign-out", &view{Title: "Sign out", Session: a.session(r)})
			return
		}
	}
	sess := a.session(r)
	a.end(w, sess)
	target := a.cfg.PostLogoutRedirectURL
	if sess != nil && sess.IDToken != "" {
		d, err := a.issuer.get(r.Context())
		switch {
		case err != nil:
			a.log.Warn("signed out locally only: identity provider unavailable", "err", err)
		case d.endSession == "":
			a.log.Warn("signed out locally only: identity provider has no end_session_endpoint")
		default:
			u, err := url.Parse(d.endSession)
			if err != nil {
				a.log.Warn("signed out locally only: bad end_session_endpoint", "err", err)
				break
			}
			q := u.Query()
			q.Set("id_token_hint", sess.IDToken)
			q.Set("client_id", a.cfg.ClientID)
			q.Set("post_logout_redirect_uri", a.cfg.PostLogoutRedirectURL)
			// /signed-out only shows a message, so nothing there depends on
			// the state coming back; it is sent because providers expect it.
			q.Set("state", rand.Text())
			u.RawQuery = q.Encode()
			target = u.String()
		}
	}
	if sess != nil && sess.Person != nil {
		a.log.Info("signed out", "sub", sess.Person.Subject)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}
