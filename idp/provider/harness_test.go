package provider

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/councilforms/idp/idp/password"
	"github.com/councilforms/idp/idp/webtest/sim"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/memory"
	"github.com/councilforms/idp/store/postgres"
	"github.com/councilforms/idp/store/redis"
	"github.com/councilforms/idp/store/sqlite"
	"github.com/councilforms/idp/store/storetest"
)

func TestMain(m *testing.M) {
	// The protocol library logs refused requests through the default logger.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}

// rpHost is the relying parties' host; the test browser stops at any
// redirect to it, as a real browser would hand over to the form app.
const rpHost = "rp.example"

// cheapHasher verifies (and makes, for tests) argon2id client-secret hashes
// of older registrations, at a cost that suits tests.
var cheapHasher = password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 4)

type stores struct {
	db  store.Durable
	eph store.Ephemeral
}

type backend struct {
	name string
	open func(t *testing.T) stores
}

func memorySQLite(t *testing.T) stores {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "idp.db"))
	if err != nil {
		t.Fatalf("sqlite: %v", err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("sqlite migrate: %v", err)
	}
	eph := memory.New()
	t.Cleanup(func() { eph.Close(); db.Close() })
	return stores{db: db, eph: eph}
}

func redisPostgres(t *testing.T) stores {
	ctx := context.Background()
	db, err := postgres.Open(ctx, storetest.PostgresURL(t))
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("postgres migrate: %v", err)
	}
	rurl, prefix := storetest.Redis(t)
	eph, err := redis.Open(ctx, rurl, prefix)
	if err != nil {
		t.Fatalf("redis: %v", err)
	}
	t.Cleanup(func() { eph.Close(); db.Close() })
	return stores{db: db, eph: eph}
}

var backends = []backend{{"memory+sqlite", memorySQLite}, {"redis+postgres", redisPostgres}}

// forEachBackend runs fn once per pair of store backends.
func forEachBackend(t *testing.T, fn func(t *testing.T, open func(t *testing.T) stores)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.open) })
	}
}

// testClock is the provider's clock (the tests' one clock, sim.Clock); tests
// move it to cross key activations.
type testClock struct{ sim.Clock }

func (c *testClock) now() time.Time { return c.Now() }

func (c *testClock) advance(d time.Duration) { c.Advance(d) }

// env is an IdP on an httptest TLS server with a test-only login page, and
// three registered clients.
type env struct {
	t      *testing.T
	st     stores
	srv    *httptest.Server
	issuer string
	kek    []byte
	p      *Provider
	clock  *testClock
	cfg    Config

	mu      sync.Mutex
	loginAs *store.User
	// lastUILocales is the ui_locales of the last sign-in request the login
	// stand-in read.
	lastUILocales string
	authTime      time.Time
	amr           []string
	logins        atomic.Int32 // times the login page ran the journey

	secrets map[string]string // client id -> secret

	// pick chooses the instance that serves a request (several instances
	// can share the stores, as behind a load balancer).
	pick func(r *http.Request) *Provider
}

// newEnv starts one provider instance. Extra instances on the same stores can
// be added with addInstance.
func newEnv(t *testing.T, st stores, tweak func(*Config)) *env {
	t.Helper()
	e := &env{t: t, st: st, clock: &testClock{}, secrets: map[string]string{}, amr: []string{"pwd", "sms"}}
	e.kek = make([]byte, 32)
	_, _ = rand.Read(e.kek)
	var root http.Handler = http.NotFoundHandler()
	var rootMu sync.RWMutex
	e.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rootMu.RLock()
		h := root
		rootMu.RUnlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	e.issuer = e.srv.URL
	e.cfg = Config{
		Issuer: e.issuer, KeyEncryptionKey: e.kek, LegacySecretVerifier: cheapHasher,
		AccessTokenTTL: 5 * time.Minute, IDTokenTTL: 5 * time.Minute, SessionTTL: time.Hour,
	}
	if tweak != nil {
		tweak(&e.cfg)
	}
	e.kek = e.cfg.KeyEncryptionKey
	e.p = e.newInstance()
	e.pick = func(*http.Request) *Provider { return e.p }
	mux := http.NewServeMux()
	mux.HandleFunc("/login", e.login)
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.pick(r).Handler().ServeHTTP(w, r)
	}))
	rootMu.Lock()
	root = mux
	rootMu.Unlock()

	ctx := context.Background()
	for _, nc := range []NewClient{
		{ID: "formapp", Name: "Make a social care referral", RedirectURIs: []string{"https://" + rpHost + "/formapp/callback"},
			PostLogoutRedirectURIs: []string{"https://" + rpHost + "/formapp/signed-out"}},
		{ID: "other", Name: "Safeguarding concern", RedirectURIs: []string{"https://" + rpHost + "/other/callback"}},
		{ID: "spa", Name: "Public form", Public: true, RedirectURIs: []string{"https://" + rpHost + "/spa/callback"}},
	} {
		secret, err := AddClient(ctx, st.db, e.clientSecrets(), nc, time.Now())
		if err != nil {
			t.Fatalf("add client %s: %v", nc.ID, err)
		}
		e.secrets[nc.ID] = secret
	}
	return e
}

// clientSecrets hashes client secrets as the env's provider does.
func (e *env) clientSecrets() *ClientSecrets {
	e.t.Helper()
	s, err := NewClientSecrets(e.kek)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) newInstance() *Provider {
	e.t.Helper()
	p, err := newProvider(e.cfg, e.st.db, e.st.eph, slog.New(slog.NewTextHandler(io.Discard, nil)), e.clock.now)
	if err != nil {
		e.t.Fatalf("provider: %v", err)
	}
	return p
}

// login is the test's stand-in for the login journey: it signs in whoever
// the test chose and hands back to the provider.
func (e *env) login(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	p := e.pick(r)
	lr, err := p.LoginRequest(r, id)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.logins.Add(1)
	e.mu.Lock()
	e.lastUILocales = lr.UILocales
	u, at, amr := e.loginAs, e.authTime, e.amr
	e.mu.Unlock()
	if u == nil {
		http.Error(w, "no user to sign in", http.StatusBadRequest)
		return
	}
	to, err := p.Complete(w, r, id, Authentication{UserID: u.ID, AMR: amr, AuthTime: at})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

func (e *env) signInAs(u *store.User, authTime time.Time) {
	e.mu.Lock()
	e.loginAs, e.authTime = u, authTime
	e.mu.Unlock()
}

var userSeq atomic.Int64

func (e *env) newUser() *store.User {
	e.t.Helper()
	n := userSeq.Add(1)
	now := time.Now()
	u := &store.User{
		ID: fmt.Sprintf("user-%d-%d", n, now.UnixNano()), Email: fmt.Sprintf("ann.smith%d@example.org", n), EmailVerified: true,
		GivenName: "Ann", FamilyName: "Smith", PasswordHash: "x", Phone: "+447700900123", PhoneType: "mobile",
		PhoneVerified: true, Status: store.UserActive, CreatedAt: now, UpdatedAt: now,
	}
	if err := e.st.db.CreateUser(context.Background(), u); err != nil {
		e.t.Fatalf("create user: %v", err)
	}
	return u
}

// changeUser changes an account as the account pages and `idp users` do:
// read, change, write through the store.
func (e *env) changeUser(id string, change func(*store.User)) {
	e.t.Helper()
	ctx := context.Background()
	cur, err := e.st.db.UserByID(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	change(cur)
	if err := e.st.db.UpdateUser(ctx, cur); err != nil {
		e.t.Fatal(err)
	}
}

// rpContext makes the RP libraries use a client that trusts the test server.
func (e *env) rpContext() context.Context {
	return gooidc.ClientContext(context.Background(), e.srv.Client())
}

// rp is a relying party built only from discovery, like a real form app.
type rp struct {
	e        *env
	ctx      context.Context
	provider *gooidc.Provider
	conf     oauth2.Config
	verifier *gooidc.IDTokenVerifier
}

func (e *env) rp(clientID string) *rp {
	e.t.Helper()
	ctx := e.rpContext()
	prov, err := gooidc.NewProvider(ctx, e.issuer)
	if err != nil {
		e.t.Fatalf("discovery: %v", err)
	}
	return &rp{
		e: e, ctx: ctx, provider: prov,
		conf: oauth2.Config{
			ClientID: clientID, ClientSecret: e.secrets[clientID], Endpoint: prov.Endpoint(),
			RedirectURL: "https://" + rpHost + "/" + clientID + "/callback",
			Scopes:      []string{gooidc.ScopeOpenID, "profile", "email", "phone", gooidc.ScopeOfflineAccess},
		},
		verifier: prov.Verifier(&gooidc.Config{ClientID: clientID}),
	}
}

// browser is a cookie-keeping client that stops when sent to a relying party.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Transport: e.srv.Client().Transport,
		Jar:       jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host == rpHost {
				return http.ErrUseLastResponse
			}
			if len(via) > 10 {
				return fmt.Errorf("too many redirects")
			}
			return nil
		},
	}
}

// requestFrom is a request to the provider carrying the browser's cookies, for
// calling the pages' API (LoginRequest, Complete) as that browser.
func (e *env) requestFrom(b *http.Client) *http.Request {
	req := httptest.NewRequest(http.MethodGet, e.issuer+"/login", nil)
	u, _ := url.Parse(e.issuer)
	for _, c := range b.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	return req
}

// authResult is where the browser ended: the RP callback parameters, or an
// IdP page.
type authResult struct {
	callback *url.URL // nil when the browser did not reach the RP
	status   int
	body     string
	ctype    string
}

func (r authResult) param(k string) string {
	if r.callback == nil {
		return ""
	}
	if r.callback.Fragment != "" {
		// Error responses for a non-code response_type use the fragment.
		q, _ := url.ParseQuery(r.callback.Fragment)
		return q.Get(k)
	}
	return r.callback.Query().Get(k)
}

func (e *env) visit(b *http.Client, u string) authResult {
	e.t.Helper()
	resp, err := b.Get(u)
	if err != nil {
		e.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	res := authResult{status: resp.StatusCode, body: string(body), ctype: resp.Header.Get("Content-Type")}
	if loc := resp.Header.Get("Location"); loc != "" {
		if lu, err := url.Parse(loc); err == nil && lu.Host == rpHost {
			res.callback = lu
		}
	}
	return res
}

// flow is one authorization: its PKCE verifier, state and nonce.
type flow struct {
	verifier, state, nonce string
}

func newFlow() flow {
	return flow{verifier: oauth2.GenerateVerifier(), state: randomToken(8), nonce: randomToken(8)}
}

func (r *rp) authURL(f flow, extra ...oauth2.AuthCodeOption) string {
	opts := append([]oauth2.AuthCodeOption{gooidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier)}, extra...)
	return r.conf.AuthCodeURL(f.state, opts...)
}

// signIn runs /authorize in the browser and returns the code.
func (r *rp) signIn(b *http.Client, f flow, extra ...oauth2.AuthCodeOption) string {
	r.e.t.Helper()
	res := r.e.visit(b, r.authURL(f, extra...))
	if res.callback == nil {
		r.e.t.Fatalf("authorize did not return to the client: status %d body %q", res.status, res.body)
	}
	if e := res.param("error"); e != "" {
		r.e.t.Fatalf("authorize returned error %s: %s", e, res.param("error_description"))
	}
	if got := res.param("state"); got != f.state {
		r.e.t.Fatalf("state = %q, want %q", got, f.state)
	}
	if got := res.param("iss"); got != r.e.issuer {
		r.e.t.Fatalf("iss = %q, want %q (RFC 9207)", got, r.e.issuer)
	}
	return res.param("code")
}

type tokens struct {
	raw     *oauth2.Token
	idToken *gooidc.IDToken
	rawID   string
	claims  map[string]any
}

func (r *rp) exchange(code string, f flow) (*tokens, error) {
	tok, err := r.conf.Exchange(r.ctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		return nil, err
	}
	return r.verify(tok, f.nonce)
}

func (r *rp) verify(tok *oauth2.Token, nonce string) (*tokens, error) {
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return nil, fmt.Errorf("no id_token in the token response")
	}
	idt, err := r.verifier.Verify(r.ctx, rawID)
	if err != nil {
		return nil, fmt.Errorf("verify id token: %w", err)
	}
	if nonce != "" && idt.Nonce != nonce {
		return nil, fmt.Errorf("nonce = %q, want %q", idt.Nonce, nonce)
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return nil, err
	}
	return &tokens{raw: tok, idToken: idt, rawID: rawID, claims: claims}, nil
}

func (r *rp) mustExchange(code string, f flow) *tokens {
	r.e.t.Helper()
	t, err := r.exchange(code, f)
	if err != nil {
		r.e.t.Fatalf("exchange: %v", err)
	}
	return t
}

// refresh presents a refresh token at the token endpoint.
func (r *rp) refresh(refreshToken string) (*oauth2.Token, error) {
	return r.conf.TokenSource(r.ctx, &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
}

// userinfo calls the userinfo endpoint with an access token.
func (r *rp) userinfo(accessToken string) (map[string]any, error) {
	ui, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: accessToken, TokenType: "Bearer"}))
	if err != nil {
		return nil, err
	}
	claims := map[string]any{}
	if err := ui.Claims(&claims); err != nil {
		return nil, err
	}
	return claims, nil
}

// endpoint returns a URL from the discovery document.
func (r *rp) endpoint(name string) string {
	var d map[string]any
	if err := r.provider.Claims(&d); err != nil {
		r.e.t.Fatalf("discovery claims: %v", err)
	}
	s, _ := d[name].(string)
	if s == "" {
		r.e.t.Fatalf("discovery has no %s", name)
	}
	return s
}

// postForm sends a client-authenticated form to an endpoint and decodes JSON.
func (r *rp) postForm(endpoint string, form url.Values) (int, map[string]any) {
	r.e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r.conf.ClientSecret != "" {
		req.SetBasicAuth(url.QueryEscape(r.conf.ClientID), url.QueryEscape(r.conf.ClientSecret))
	} else {
		form.Set("client_id", r.conf.ClientID)
		req, _ = http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := r.e.srv.Client().Do(req)
	if err != nil {
		r.e.t.Fatalf("POST %s: %v", endpoint, err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	body, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(body, &out)
	return resp.StatusCode, out
}

func (r *rp) introspect(token string) map[string]any {
	r.e.t.Helper()
	status, out := r.postForm(r.endpoint("introspection_endpoint"), url.Values{"token": {token}})
	if status != http.StatusOK {
		r.e.t.Fatalf("introspection status %d: %v", status, out)
	}
	return out
}

func (r *rp) revoke(token, hint string) int {
	r.e.t.Helper()
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	status, _ := r.postForm(r.endpoint("revocation_endpoint"), form)
	return status
}

// oauthErrorCode extracts the RFC 6749 error code from a token endpoint failure.
func oauthErrorCode(err error) string {
	if re, ok := err.(*oauth2.RetrieveError); ok {
		return re.ErrorCode
	}
	return ""
}
