package provider

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/cors"
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
	// outbox's metric names, provider "backchannel") and idp_refresh_reuse_total;
	// nil means none.
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
	// sessionEnds carries out admin commands' requests to end a person's sessions.
	sessionEnds *outbox.Worker
	// reuses counts refresh tokens presented again after rotation (a stolen token
	// or a broken client; every one revokes its family).
	reuses prometheus.Counter
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
	if p.sessionEnds, err = p.newEndSessionsWorker(cfg.Registerer); err != nil {
		return nil, err
	}
	p.reuses = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "idp_refresh_reuse_total",
		Help: "Refresh tokens presented again after they were rotated (outside the retry interval); each revoked its whole family and was audited as refresh.reuse.",
	})
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(p.reuses); err != nil {
			return nil, fmt.Errorf("provider: register metrics: %w", err)
		}
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
		SupportedUILocales:       pageLocales,
	}, p.storage, op.StaticIssuer(cfg.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	p.op = o
	p.handler = p.routes()
	return p, nil
}

// Handler serves every OpenID Connect endpoint, relative to the issuer's path:
// /.well-known/openid-configuration, /keys, /authorize (and its /continue
// step), /oauth/token, /userinfo, /oauth/introspect, /revoke, /end_session
// and /logged-out. The library's /authorize/callback is deliberately not
// served: it would hand a finished request's code to any caller that knows
// the request id. Codes are made by Complete and ResumeSession instead.
func (p *Provider) Handler() http.Handler { return p.handler }

// Paths are the paths Handler serves, each exactly (no subtree). The application
// mounts Handler once per path, so that each endpoint is a route of its own in the
// request metrics (idp_http_requests_total{route="/oauth/token"}) rather than one
// catch-all; routes panics at start if this list and the endpoints drift apart.
var Paths = []string{
	"/.well-known/openid-configuration",
	"/authorize",
	"/authorize/continue",
	"/end_session",
	"/logged-out",
	"/keys",
	"/userinfo",
	"/oauth/token",
	"/oauth/introspect",
	"/revoke",
}

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
	for _, path := range Paths {
		if _, pattern := mux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: path}}); pattern != path {
			panic("provider: Paths lists " + path + ", which routes does not serve")
		}
	}
	return withHTTPContext(mux)
}

func withHeader(h http.Handler, name, value string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(name, value)
		h.ServeHTTP(w, r)
	})
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
