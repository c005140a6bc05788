package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/councilforms/idp/idp/limits"
	"github.com/councilforms/idp/idp/server"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/outbox"
)

// CodeTTL is the lifetime of an authorization code. Codes are redeemed by a
// server-to-server call right after the redirect, so a minute is plenty.
const CodeTTL = 60 * time.Second

// DefaultRefreshReuseInterval is Config.RefreshReuseInterval's default: long
// enough for a client's retry after a timeout, short enough that a stolen
// spent token is still caught as reuse.
const DefaultRefreshReuseInterval = 30 * time.Second

// Config is what the provider needs from the service configuration.
type Config struct {
	// Issuer is the public base URL, e.g. https://login.example.gov.uk, without
	// a trailing slash. Endpoints are served relative to its path.
	Issuer string
	// KeyEncryptionKey (32 bytes) seals signing keys at rest and keys the
	// opaque access tokens and the client-secret hashes; every process and
	// admin command sharing a database needs the same one.
	KeyEncryptionKey []byte
	// SigningAlgorithm signs the ID tokens of clients that registered no
	// id_token_signed_response_alg: RS256 (default) or ES256. A signing key
	// of both algorithms is kept and published either way.
	SigningAlgorithm string

	AccessTokenTTL      time.Duration // default 15m
	IDTokenTTL          time.Duration // default 15m
	RefreshTokenTTL     time.Duration // absolute lifetime of a refresh token family; default 720h
	RefreshTokenIdleTTL time.Duration // a refresh token unused this long expires; default 72h
	SessionTTL          time.Duration // IdP single-sign-on session, absolute; default 8h
	SessionIdleTTL      time.Duration // an IdP session unused this long ends; default 30m, at most SessionTTL
	AuthRequestTTL      time.Duration // time to finish signing in; default 1h

	// RefreshReuseInterval is how long after a refresh token was rotated its
	// own client may present it again and be given the same successor, while
	// that successor is unused: the retry of a client whose answer was lost.
	// Past it, from another client, or once the successor is used, a second
	// presentation is reuse and revokes the family. Default 30s; negative
	// turns it off.
	RefreshReuseInterval time.Duration

	// KeyPublishDelay is how long a rotated-in key is published in JWKS before
	// it signs, so relying parties that cache JWKS have seen it; default 1h.
	KeyPublishDelay time.Duration

	// LoginPath is where an /authorize request without a usable IdP session
	// is sent, with ?authRequestID=<id>; default "/login".
	LoginPath string
	// Login, when set, serves LoginPath. The continue step then calls it in the
	// same response, as a request for LoginPath?authRequestID=<id>, instead of
	// redirecting the browser there: one round trip fewer at the start of
	// every sign-in.
	Login http.Handler
	// StaticClients are clients from the clients file; they take precedence
	// over clients in the database with the same id.
	StaticClients []*store.Client
	// LegacySecretVerifier verifies the argon2id client-secret hashes of
	// registrations made before HMAC-SHA-256; each is replaced by its HMAC
	// hash at its first successful use. Without it such clients cannot
	// authenticate.
	LegacySecretVerifier LegacySecretVerifier
	// TrustedProxies are load balancers whose X-Forwarded-For is believed for
	// the client address (client-authentication limits, the audit log;
	// server.ClientIP, as on the login pages).
	TrustedProxies []netip.Prefix
	// BackchannelRetryMax is the longest wait between two attempts to tell a
	// form app that is down that a session ended (the first retry comes after
	// a second, each later one waits twice as long, up to this); default 1m.
	BackchannelRetryMax time.Duration
	// Registerer receives the back-channel logout delivery metrics (under the
	// outbox's metric names, provider "backchannel"); nil means none.
	Registerer prometheus.Registerer
	// ErrorPage renders an error a person sees in the browser (an invalid
	// client or redirect URI, an expired sign-in). Default: a plain page.
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int, title, message string)
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.AccessTokenTTL, 15*time.Minute)
	def(&c.IDTokenTTL, 15*time.Minute)
	def(&c.RefreshTokenTTL, 720*time.Hour)
	def(&c.RefreshTokenIdleTTL, 72*time.Hour)
	if c.RefreshReuseInterval == 0 {
		c.RefreshReuseInterval = DefaultRefreshReuseInterval
	}
	def(&c.SessionTTL, 8*time.Hour)
	def(&c.SessionIdleTTL, 30*time.Minute)
	c.SessionIdleTTL = min(c.SessionIdleTTL, c.SessionTTL)
	def(&c.AuthRequestTTL, time.Hour)
	def(&c.BackchannelRetryMax, time.Minute)
	if c.KeyPublishDelay < 0 {
		c.KeyPublishDelay = 0
	} else if c.KeyPublishDelay == 0 {
		c.KeyPublishDelay = time.Hour
	}
	if c.RefreshTokenIdleTTL > c.RefreshTokenTTL {
		c.RefreshTokenIdleTTL = c.RefreshTokenTTL
	}
	if c.LoginPath == "" {
		c.LoginPath = "/login"
	}
	if c.SigningAlgorithm == "" {
		c.SigningAlgorithm = "RS256"
	}
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	if c.ErrorPage == nil {
		c.ErrorPage = plainErrorPage
	}
	return c
}

// keyKeepAfter is how long a retired key must stay published: the longest
// lifetime of anything it signed. Access tokens are opaque, but the longer of
// the two is used so a switch to signed access tokens stays safe.
func (c Config) keyKeepAfter() time.Duration {
	return max(c.IDTokenTTL, c.AccessTokenTTL)
}

// revocationMarkerTTL is how long a "revoked before" marker must live: as long
// as anything it invalidates (access tokens and sessions).
func (c Config) revocationMarkerTTL() time.Duration {
	return max(c.AccessTokenTTL, c.SessionTTL)
}

// Provider is the OpenID Connect provider.
type Provider struct {
	cfg     Config
	db      store.Durable
	eph     store.Ephemeral
	log     *slog.Logger
	keys    *keyring
	op      *op.Provider
	storage *opStorage
	handler http.Handler
	// clientSecrets hashes client secrets; throttle limits guesses at them.
	clientSecrets *ClientSecrets
	throttle      *clientThrottle
	sealer        *responseSealer
	issuerPath    string // path of the issuer URL, "" for the root
	now           func() time.Time
	// discoveryDoc is the encoded discovery document and the issuer it was
	// made for: it depends on nothing else that can change while running.
	discoveryDoc atomic.Pointer[encodedDocument]
	origins      clientOrigins // registered origins, for CORS (cors.go)
	// logouts delivers back-channel logout notices (backchannel.go).
	logouts    *outbox.Worker
	logoutHTTP *http.Client
}

type encodedDocument struct {
	issuer string
	body   []byte
}

// New builds the provider. It makes sure a signing key exists (creating the
// first one when the database has none).
func New(cfg Config, db store.Durable, eph store.Ephemeral, log *slog.Logger) (*Provider, error) {
	return newProvider(cfg, db, eph, log, time.Now)
}

func newProvider(cfg Config, db store.Durable, eph store.Ephemeral, log *slog.Logger, now func() time.Time) (*Provider, error) {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.Default()
	}
	iss, err := url.Parse(cfg.Issuer)
	if err != nil || iss.Host == "" || (iss.Scheme != "https" && iss.Scheme != "http") {
		return nil, fmt.Errorf("provider: issuer %q must be an absolute http(s) URL", cfg.Issuer)
	}
	for _, c := range cfg.StaticClients {
		if err := ValidateClient(c); err != nil {
			return nil, fmt.Errorf("provider: static client: %w", err)
		}
	}
	keys, err := newKeyring(db, cfg.KeyEncryptionKey, cfg.SigningAlgorithm, cfg.KeyPublishDelay, cfg.keyKeepAfter(), now)
	if err != nil {
		return nil, err
	}
	keys.counter = db
	secrets, err := NewClientSecrets(cfg.KeyEncryptionKey)
	if err != nil {
		return nil, err
	}
	p := &Provider{
		cfg: cfg, db: db, eph: eph, log: log, keys: keys, now: now,
		clientSecrets: secrets,
		throttle:      &clientThrottle{rule: limits.ClientSecrets(), db: db, now: now},
		issuerPath:    strings.TrimSuffix(iss.Path, "/"),
	}
	p.storage = &opStorage{p: p}
	if p.logouts, err = p.newLogoutWorker(cfg.Registerer); err != nil {
		return nil, err
	}
	if p.sealer, err = newResponseSealer(cfg.KeyEncryptionKey); err != nil {
		return nil, err
	}
	if err := keys.ensure(context.Background()); err != nil {
		return nil, err
	}
	// Fail at start, not at the first sign-in, when the key-encryption key
	// does not open the stored keys.
	if _, err := keys.signingKey(context.Background()); err != nil {
		return nil, err
	}

	var cryptoKey [32]byte
	copy(cryptoKey[:], deriveKey(cfg.KeyEncryptionKey, "access-token"))
	opts := []op.Option{
		op.WithIDTokenHintKeySet(&hintKeySet{keys: keys}),
		op.WithAccessTokenKeySet(&hintKeySet{keys: keys}),
		op.WithCORSOptions(p.corsOptions()),
	}
	if iss.Scheme == "http" {
		// Development on http://localhost only; the configuration refuses
		// plain http for other hosts.
		opts = append(opts, op.WithAllowInsecure())
	}
	o, err := op.NewProvider(&op.Config{
		CryptoKey:                cryptoKey,
		DefaultLogoutRedirectURI: cfg.Issuer + "/logged-out",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedScopes:          supportedScopes,
		SupportedClaims:          supportedClaims,
	}, p.storage, op.StaticIssuer(cfg.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	p.op = o
	p.handler = p.routes()
	return p, nil
}

var supportedScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone, oidc.ScopeOfflineAccess}

var supportedClaims = []string{
	"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "c_hash", "client_id", "sid",
	"name", "given_name", "family_name", "email", "email_verified", "phone_number", "phone_number_verified",
}

// Handler serves every OpenID Connect endpoint, relative to the issuer's path:
// /.well-known/openid-configuration, /keys, /authorize (and its /continue
// step), /oauth/token, /userinfo, /oauth/introspect, /revoke, /end_session
// and /logged-out. The library's /authorize/callback is deliberately not
// served: it would hand a finished request's code to any caller that knows
// the request id. Codes are made by Complete and ResumeSession instead.
func (p *Provider) Handler() http.Handler { return p.handler }

func (p *Provider) routes() http.Handler {
	withIssuer := op.NewIssuerInterceptor(p.op.IssuerFromRequest).Handler
	mux := http.NewServeMux()
	browser := func(h http.Handler, title, message string) http.Handler {
		return p.withErrorPage(h, title, message)
	}
	withCORS := cors.New(*p.op.CORSOptions()).Handler // the policy of cors.go
	mux.Handle("/.well-known/openid-configuration", withCORS(withIssuer(http.HandlerFunc(p.discovery))))
	mux.Handle("/authorize", p.withOutagePage(browser(p.withIssuerParam(p.op), "This sign-in link is not valid",
		"The service that sent you here asked to sign you in in a way this account service does not accept. Go back to the service and try again. If it keeps happening, contact the service.")))
	// Not wrapped by browser(): the login pages it may serve render their own
	// error pages, which must reach the person as they are.
	mux.Handle("/authorize/continue", withIssuer(http.HandlerFunc(p.continueAuthorize)))
	mux.Handle("/end_session", p.withOutagePage(browser(withIssuer(http.HandlerFunc(p.endSession)), logoutErrorTitle, logoutErrorMessage)))
	mux.HandleFunc("/logged-out", p.loggedOut)
	// The library's own /keys handler would decode and encode every key on
	// each request; this one serves the JWKS encoded once per key set, with
	// the same CORS policy.
	mux.Handle("/keys", withHeader(withCORS(http.HandlerFunc(p.jwks)), "Cache-Control", "public, max-age=300"))
	// Responses carrying tokens or personal data must not be cached (RFC 6749 section 5.1).
	noStore := withHeader(withHeader(p.op, "Cache-Control", "no-store"), "Pragma", "no-cache")
	mux.Handle("/userinfo", p.withBearerErrors(noStore))
	// The endpoints that authenticate clients answer a throttled guesser 429
	// and any other failed client authentication 401 invalid_client (errors.go).
	for _, path := range []string{"/oauth/token", "/oauth/introspect", "/revoke"} {
		mux.Handle(path, p.withClientThrottle(p.withClientAuthErrors(noStore)))
	}
	return withHTTPContext(mux)
}

func withHeader(h http.Handler, name, value string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(name, value)
		h.ServeHTTP(w, r)
	})
}

// discovery serves the discovery document, narrowed to what this provider
// actually supports (the library advertises more by default). It is encoded
// once per issuer: the rest comes from the configuration and the signing
// algorithms, which are fixed while the process runs.
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	issuer := op.IssuerFromContext(r.Context())
	doc := p.discoveryDoc.Load()
	if doc == nil || doc.issuer != issuer {
		body, err := p.encodeDiscovery(r.Context())
		if err != nil {
			p.log.ErrorContext(r.Context(), "discovery: encode", "err", err)
			http.Error(w, "discovery unavailable", http.StatusInternalServerError)
			return
		}
		doc = &encodedDocument{issuer: issuer, body: body}
		p.discoveryDoc.Store(doc)
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(doc.body)
}

func (p *Provider) encodeDiscovery(ctx context.Context) ([]byte, error) {
	cfg := op.CreateDiscoveryConfig(ctx, p.op, p.storage)
	cfg.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	cfg.ResponseModesSupported = []string{string(oidc.ResponseModeQuery)}
	cfg.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	cfg.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	cfg.TokenEndpointAuthSigningAlgValuesSupported = nil
	cfg.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
	cfg.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	cfg.RevocationEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	cfg.RevocationEndpointAuthSigningAlgValuesSupported = nil
	cfg.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	cfg.ACRValuesSupported = []string{ACRMultiFactor, ACRSingleFactor}
	cfg.RequestParameterSupported = false
	cfg.RequestURIParameterSupported = false
	doc, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var fields map[string]any
	if err := json.Unmarshal(doc, &fields); err != nil {
		return nil, err
	}
	// RFC 9207: every authorization response names the issuer, so a form app
	// talking to several providers cannot be fooled into mixing them up.
	fields["authorization_response_iss_parameter_supported"] = true
	// Back-Channel Logout 1.0: form apps that register a back-channel logout
	// URI are told when a session ends, with sid in the logout token and in
	// every ID token (backchannel.go).
	fields["backchannel_logout_supported"] = true
	fields["backchannel_logout_session_supported"] = true
	// The library advertises a device authorization endpoint this provider
	// does not serve.
	delete(fields, "device_authorization_endpoint")
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(fields); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// jwks serves the published keys as the library's /keys handler does.
func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	body, err := p.keys.jwksJSON(r.Context())
	if err != nil {
		p.log.ErrorContext(r.Context(), "jwks: load keys", "err", err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("{}\n"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// withIssuerParam adds iss (RFC 9207) to authorization responses, success or
// error, that the library redirects to a client.
func (p *Provider) withIssuerParam(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&issuerParamWriter{ResponseWriter: w, issuer: p.cfg.Issuer}, r)
	})
}

type issuerParamWriter struct {
	http.ResponseWriter
	issuer string
	done   bool
}

func (w *issuerParamWriter) WriteHeader(status int) {
	if !w.done && status >= 300 && status < 400 {
		if loc := w.Header().Get("Location"); loc != "" {
			if withIss, ok := addIssuerParam(loc, w.issuer); ok {
				// An authorization response (a code, or an error) is for this
				// browser, once: no cache may keep it.
				w.Header().Set("Location", withIss)
				w.Header().Set("Cache-Control", "no-store")
			}
		}
	}
	w.done = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *issuerParamWriter) Write(b []byte) (int, error) {
	w.done = true
	return w.ResponseWriter.Write(b)
}

// addIssuerParam adds iss to a redirect that carries an authorization
// response (code or error, in the query or the fragment); the provider's own
// redirects (to the login pages, the callback) carry neither and pass as is;
// ok reports whether loc was an authorization response.
func addIssuerParam(loc, issuer string) (_ string, ok bool) {
	u, err := url.Parse(loc)
	if err != nil {
		return loc, false
	}
	if q := u.Query(); q.Has("code") || q.Has("error") {
		q.Set("iss", issuer)
		u.RawQuery = q.Encode()
		return u.String(), true
	}
	if f, err := url.ParseQuery(u.RawFragment); err == nil && (f.Has("code") || f.Has("error")) {
		f.Set("iss", issuer)
		u.RawFragment = f.Encode()
		u.Fragment, _ = url.PathUnescape(u.RawFragment)
		return u.String(), true
	}
	return loc, false
}

// continueAuthorize is where the library sends an /authorize request after
// storing it: an IdP session that satisfies prompt/max_age completes it at
// once, prompt=none without one goes back to the client with login_required,
// and anything else goes to the login pages. Only the browser that sent the
// /authorize request may continue it.
func (p *Provider) continueAuthorize(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	redirect, ok, err := p.ResumeSession(w, r, id)
	if err != nil {
		w.Header().Set("Cache-Control", "no-store")
		switch {
		case errors.Is(err, ErrOtherBrowser):
			p.log.WarnContext(r.Context(), "authorize: continue refused: request started in another browser")
			p.cfg.ErrorPage(w, r, http.StatusBadRequest, OtherBrowserTitle, OtherBrowserMessage)
		case errors.Is(err, ErrUnknownAuthRequest):
			p.log.InfoContext(r.Context(), "authorize: cannot continue", "err", err)
			p.cfg.ErrorPage(w, r, http.StatusBadRequest, "Your sign-in has expired",
				"You took too long to sign in. Go back to the service you were using and start again.")
		default:
			p.log.ErrorContext(r.Context(), "authorize: cannot continue", "err", err)
			p.cfg.ErrorPage(w, r, http.StatusServiceUnavailable, "Sorry, there is a problem with the service",
				"Try again in a few minutes.")
		}
		return
	}
	if !ok {
		login := p.cfg.LoginPath + "?authRequestID=" + url.QueryEscape(id)
		if p.cfg.Login == nil {
			http.Redirect(w, r, login, http.StatusFound)
			return
		}
		lr := r.Clone(r.Context())
		lr.URL.Path, lr.URL.RawPath, lr.URL.RawQuery = p.cfg.LoginPath, "", "authRequestID="+url.QueryEscape(id)
		lr.RequestURI = login
		p.cfg.Login.ServeHTTP(w, lr)
		return
	}
	p.Redirect(w, r, redirect)
}

// Redirect ends a request of the login pages or the continue step with a
// redirect to `to`: the client's redirect (with a code or an error) that
// Complete or ResumeSession returned, or a page of the idp. It is never
// stored by a cache: it may carry a code.
func (p *Provider) Redirect(w http.ResponseWriter, r *http.Request, to string) {
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusSeeOther
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		status = http.StatusFound
	}
	http.Redirect(w, r, to, status)
}

func (p *Provider) loggedOut(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	p.cfg.ErrorPage(w, r, http.StatusOK, "You have signed out", "You have signed out of your account. You can close this window.")
}

// withErrorPage turns the library's plain-text error responses on
// browser-facing endpoints into a page a person can read. The library's
// detail goes to the log, not the page.
func (p *Provider) withErrorPage(h http.Handler, title, message string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &errorCapture{ResponseWriter: w}
		h.ServeHTTP(cw, r)
		if !cw.failed {
			return
		}
		p.log.InfoContext(r.Context(), "browser request refused", "path", r.URL.Path, "status", cw.status,
			"detail", strings.TrimSpace(truncate(cw.body.String(), 300)))
		// The library's headers for its text error go; the security headers
		// (nosniff, the CSP) stay for the page.
		for _, k := range []string{"Content-Type", "Content-Length"} {
			w.Header().Del(k)
		}
		w.Header().Set("Cache-Control", "no-store")
		p.cfg.ErrorPage(w, r, cw.status, title, message)
	})
}

type errorCapture struct {
	http.ResponseWriter
	failed  bool
	written bool
	status  int
	body    bytes.Buffer
}

func (c *errorCapture) WriteHeader(status int) {
	if c.written || c.failed {
		return
	}
	if status >= 400 {
		c.failed, c.status = true, status
		return
	}
	c.written = true
	c.ResponseWriter.WriteHeader(status)
}

func (c *errorCapture) Write(b []byte) (int, error) {
	if c.failed {
		return c.body.Write(b)
	}
	c.written = true
	return c.ResponseWriter.Write(b)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

var errorPageTemplate = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title></head>
<body><main><h1>{{.Title}}</h1><p>{{.Message}}</p></main></body></html>
`))

func plainErrorPage(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(status)
	_ = errorPageTemplate.Execute(w, struct{ Title, Message string }{title, message})
}

// httpContext gives storage methods, which the library calls with only a
// context, access to the browser request (cookies, parameters) and response.
type httpContext struct {
	w http.ResponseWriter
	r *http.Request
	// outage is a dependency failure (the database, the ephemeral store) met
	// while serving this request: withOutagePage then answers with the
	// service's outage page, whatever the library made of the error.
	outage error
	// user is the account loaded while serving this request: a refresh
	// grant checks the user may sign in and then reads the same row for the
	// ID token's claims, one read serves both.
	user *store.User
	// throttled is set when client authentication was refused for too many
	// failures: withClientThrottle then answers 429.
	throttled *errThrottled
	// clientID is the client the token endpoint looked up (and, when
	// confidential, authenticated) for this request: a refresh grant tells
	// its own client's retry from another client's reuse by it.
	clientID string
	// signingAlg is clientID's id_token_signed_response_alg ("" for the
	// default): SigningKey signs the request's ID token with it.
	signingAlg string
}

type httpContextKey struct{}

func withHTTPContext(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hc := &httpContext{w: w, r: r}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), httpContextKey{}, hc)))
	})
}

// dependencyFailed records on the request that a dependency failed, so that a
// browser endpoint says so (503, try again) instead of calling the sign-in link
// invalid or sending the person back to the form app with server_error.
func dependencyFailed(ctx context.Context, err error) {
	if hc := httpFromContext(ctx); hc != nil && hc.outage == nil {
		hc.outage = err
	}
}

// withOutagePage serves the outage page in place of whatever h answers when a
// dependency failed while h ran (see dependencyFailed).
func (p *Provider) withOutagePage(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&outageWriter{ResponseWriter: w, p: p, r: r, hc: httpFromContext(r.Context())}, r)
	})
}

type outageWriter struct {
	http.ResponseWriter
	p        *Provider
	r        *http.Request
	hc       *httpContext
	started  bool
	replaced bool
}

func (o *outageWriter) WriteHeader(status int) {
	if o.started {
		return
	}
	o.started = true
	if o.hc == nil || o.hc.outage == nil {
		o.ResponseWriter.WriteHeader(status)
		return
	}
	o.replaced = true
	o.p.log.ErrorContext(o.r.Context(), "sign-in request failed: a dependency is unavailable", "path", o.r.URL.Path, "err", o.hc.outage)
	h := o.ResponseWriter.Header()
	for _, k := range []string{"Location", "Content-Type", "Content-Length"} {
		h.Del(k)
	}
	h.Set("Cache-Control", "no-store")
	h.Set("Retry-After", "10")
	o.p.cfg.ErrorPage(o.ResponseWriter, o.r, http.StatusServiceUnavailable, OutageTitle, OutageMessage)
}

func (o *outageWriter) Write(b []byte) (int, error) {
	if !o.started {
		o.WriteHeader(http.StatusOK)
	}
	if o.replaced {
		return len(b), nil
	}
	return o.ResponseWriter.Write(b)
}

// The page for a sign-in that could not start or go on because a dependency
// failed: trying again in a little while works.
const (
	OutageTitle   = "Sorry, there is a problem with the service"
	OutageMessage = "We could not start your sign-in just now. Try again in a few minutes: go back to the form and select 'Login or Register' again."
)

func httpFromContext(ctx context.Context) *httpContext {
	hc, _ := ctx.Value(httpContextKey{}).(*httpContext)
	return hc
}

// clientIP is the address the request being served came from ("" outside
// a request).
func (p *Provider) clientIP(ctx context.Context) string {
	hc := httpFromContext(ctx)
	if hc == nil {
		return ""
	}
	return server.ClientIP(hc.r, p.cfg.TrustedProxies)
}

// audit records a security event; a failure to record is logged, not fatal,
// because the action itself has already happened.
func (p *Provider) audit(ctx context.Context, kind, userID, clientID, detail string) {
	err := p.db.AppendAudit(ctx, &store.AuditEvent{
		Time: p.now(), Kind: kind, UserID: userID, ClientID: clientID, IP: p.clientIP(ctx), Detail: detail,
	})
	if err != nil {
		p.log.ErrorContext(ctx, "audit: append failed", "kind", kind, "err", err)
	}
}
