package admin

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/councilforms/idp/idp/server"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui"
)

// The console signs operators in as an OpenID Connect client of the idp
// (authorization code flow with PKCE S256, state and nonce): the browser goes
// to the public issuer's /authorize, through the normal sign-in journey with
// its phone check, and back to /callback; the code is exchanged, and the ID
// token's keys fetched, in this process (inProcess).

// loginTTL is how long a sign-in started at the console may take.
const loginTTL = 15 * time.Minute

// LoginCookie binds a sign-in in progress to the browser that started it.
const LoginCookie = "__Host-idp_console_login"

// pendingLogin is a sign-in in progress, in the ephemeral store under its state.
type pendingLogin struct {
	Verifier string `json:"verifier"`
	Nonce    string `json:"nonce"`
	Return   string `json:"return"`
	Fresh    bool   `json:"fresh"` // max_age asked for: the sign-in must be new
}

func loginKey(state string) string { return "console:login:" + state }

// issuer is the idp as the console's client knows it: discovered in process
// on first use, and again after a failure.
type issuer struct {
	cfg    Config
	client *http.Client

	mu    sync.Mutex
	ready *discovered
}

type discovered struct {
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
	endSess  string
}

func newIssuer(cfg Config, t http.RoundTripper) *issuer {
	return &issuer{cfg: cfg, client: &http.Client{Transport: t, Timeout: 10 * time.Second}}
}

func (is *issuer) get(ctx context.Context) (*discovered, error) {
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.ready != nil {
		return is.ready, nil
	}
	ctx = oidc.ClientContext(ctx, is.client)
	p, err := oidc.NewProvider(ctx, is.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("admin: discover the idp: %w", err)
	}
	var meta struct {
		EndSession string   `json:"end_session_endpoint"`
		Algs       []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("admin: discovery document: %w", err)
	}
	algs := []string{}
	for _, a := range meta.Algs {
		if a == oidc.RS256 || a == oidc.ES256 {
			algs = append(algs, a)
		}
	}
	// The key set outlives this request: a background context with the
	// in-process client.
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), is.client), jwksURI(p))
	is.ready = &discovered{
		oauth: &oauth2.Config{
			ClientID: ClientID, ClientSecret: is.cfg.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: is.cfg.URL + PathCallback, Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
		},
		verifier: oidc.NewVerifier(is.cfg.Issuer, keys, &oidc.Config{ClientID: ClientID, SupportedSigningAlgs: algs}),
		endSess:  meta.EndSession,
	}
	return is.ready, nil
}

// jwksURI is the provider's jwks_uri.
func jwksURI(p *oidc.Provider) string {
	var meta struct {
		JWKS string `json:"jwks_uri"`
	}
	_ = p.Claims(&meta)
	return meta.JWKS
}

// startSignIn sends the browser to the idp to sign in, and back to returnTo
// afterwards; fresh asks for a sign-in within FreshFor (max_age).
func (c *Console) startSignIn(w http.ResponseWriter, r *http.Request, returnTo string, fresh bool) {
	d, err := c.issuer.get(r.Context())
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	state, nonce := rand.Text(), rand.Text()
	pl := pendingLogin{Verifier: oauth2.GenerateVerifier(), Nonce: nonce, Return: safeReturn(returnTo), Fresh: fresh}
	raw, _ := json.Marshal(pl)
	if err := c.deps.Ephemeral.Put(r.Context(), loginKey(state), raw, loginTTL); err != nil {
		c.unavailable(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: LoginCookie, Value: state, Path: "/", MaxAge: int(loginTTL / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(pl.Verifier), oidc.Nonce(nonce)}
	if fresh {
		// max_age says what the console needs; prompt=login makes the idp ask
		// even if its own clock finds its session recent enough (the console
		// has already found it too old).
		opts = append(opts, oauth2.SetAuthURLParam("max_age", strconv.Itoa(int(FreshFor/time.Second))),
			oauth2.SetAuthURLParam("prompt", "login"))
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, d.oauth.AuthCodeURL(state, opts...), http.StatusSeeOther)
}

// safeReturn keeps a return path on the console: a path, never another site.
func safeReturn(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.HasPrefix(p, PathCallback) {
		return "/"
	}
	return p
}

// signIn (GET /sign-in) starts a sign-in, coming back to the start page.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	c.startSignIn(w, r, "/", false)
}

// callback (GET /callback) finishes a sign-in: the state must be this
// browser's, the code is exchanged with the PKCE verifier, and the ID token
// must be the idp's, for the console, with the sign-in's nonce (and recent
// enough when max_age was asked for).
func (c *Console) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	ck, err := r.Cookie(LoginCookie)
	if state == "" || err != nil || ck.Value != state {
		c.message(w, r, http.StatusBadRequest, "Sign in again",
			"This sign-in was not started in this browser, or it took too long.", "Go to the console's start page to sign in again.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: LoginCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	raw, err := c.deps.Ephemeral.Take(r.Context(), loginKey(state))
	if errors.Is(err, store.ErrNotFound) {
		c.message(w, r, http.StatusBadRequest, "Sign in again", "This sign-in took too long, or was finished already.")
		return
	}
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	var pl pendingLogin
	if err := json.Unmarshal(raw, &pl); err != nil {
		c.unavailable(w, r, err)
		return
	}
	if e := q.Get("error"); e != "" {
		server.RequestLogger(r.Context(), c.log).Info("console sign-in refused by the idp", "error", e)
		c.message(w, r, http.StatusForbidden, "You are not signed in", "The sign-in did not finish. Go to the console's start page to try again.")
		return
	}
	d, err := c.issuer.get(r.Context())
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	ctx := oidc.ClientContext(r.Context(), c.issuer.client)
	tok, err := d.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pl.Verifier))
	if err != nil {
		server.RequestLogger(r.Context(), c.log).Warn("console sign-in: code exchange failed", "err", err)
		c.message(w, r, http.StatusBadRequest, "Sign in again", "The sign-in could not be finished. Go to the console's start page to try again.")
		return
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := d.verifier.Verify(ctx, rawID)
	var claims struct {
		Nonce    string `json:"nonce"`
		AuthTime int64  `json:"auth_time"`
	}
	if err == nil {
		err = idt.Claims(&claims)
	}
	if err == nil && claims.Nonce != pl.Nonce {
		err = errors.New("nonce does not match")
	}
	authTime := time.Unix(claims.AuthTime, 0)
	if err == nil && claims.AuthTime == 0 {
		err = errors.New("no auth_time")
	}
	if err == nil && pl.Fresh && c.deps.Now().Sub(authTime) > FreshFor+time.Minute {
		err = errors.New("max_age not honoured")
	}
	if err != nil {
		server.RequestLogger(r.Context(), c.log).Warn("console sign-in: ID token refused", "err", err)
		c.message(w, r, http.StatusBadRequest, "Sign in again", "The sign-in could not be finished. Go to the console's start page to try again.")
		return
	}
	u, err := c.deps.Store.UserByID(r.Context(), idt.Subject)
	if errors.Is(err, store.ErrNotFound) {
		c.message(w, r, http.StatusForbidden, "You are not signed in", "Your account no longer exists.")
		return
	}
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	if err := c.startSession(w, r, &consoleSession{Sub: u.ID, Email: u.Email, AuthTime: authTime, IDToken: rawID}); err != nil {
		c.unavailable(w, r, err)
		return
	}
	http.Redirect(w, r, pl.Return, http.StatusSeeOther)
}

// signOutQuestion (GET /sign-out) asks: a link elsewhere cannot sign an
// operator out, only a POST from the console's own pages.
func (c *Console) signOutQuestion(w http.ResponseWriter, r *http.Request) {
	c.pages.Render(w, http.StatusOK, ui.PageMessage, &ui.MessagePage{
		Page: ui.Page{Title: "Do you want to sign out?"}, Form: &ui.MessageForm{Action: PathSignOut, Button: "Sign out"},
		LinkText: "Cancel", LinkURL: "/",
	})
}

// signOut (POST /sign-out) ends the console session and signs out at the idp
// too (RP-initiated logout), coming back to the console's start.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	s, err := c.session(r)
	if err != nil && !errors.Is(err, errNoSession) {
		c.unavailable(w, r, err)
		return
	}
	if s == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	c.endSession(w, r, s.ID)
	d, err := c.issuer.get(r.Context())
	if err != nil || d.endSess == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	v := url.Values{"client_id": {ClientID}, "post_logout_redirect_uri": {c.cfg.URL + "/"}, "id_token_hint": {s.IDToken}}
	http.Redirect(w, r, d.endSess+"?"+v.Encode(), http.StatusSeeOther)
}
