package formapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// scopes asked for: the referrer's name, email and phone prefill the form.
var scopes = []string{oidc.ScopeOpenID, "profile", "email", "phone"}

// discoveryRetryInterval stops a burst of requests from hammering an
// identity provider that is down: after a failed discovery, requests within
// this interval get the same error without asking again.
const discoveryRetryInterval = 2 * time.Second

// issuer is the identity provider as this app knows it: discovered lazily,
// on the first request that needs it, and again after a failure, because
// the provider may start after the form app (or a moment later in the same
// process).
type issuer struct {
	cfg    Config
	client *http.Client
	// retryAfter is discoveryRetryInterval; tests shorten it.
	retryAfter time.Duration

	mu        sync.Mutex
	ready     *discovered
	lastErr   error
	lastTried time.Time
}

// discovered is what one successful discovery gives.
type discovered struct {
	provider *oidc.Provider
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
	// keys is the provider's JWKS, shared by the ID token verifier and the
	// back-channel logout endpoint, so both see the same keys (and a key
	// rotation fetches them once).
	keys *oidc.RemoteKeySet
	// algs are the signing algorithms the provider advertises for ID tokens
	// that this app accepts; logout tokens are held to the same list.
	algs       []string
	endSession string // end_session_endpoint; empty when the provider has none
}

// acceptedAlgs are the JWS algorithms go-oidc verifies (never none, nor the
// HMAC ones, which a public client has no key for).
var acceptedAlgs = []string{
	oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA,
}

// signingAlgs is advertised ∩ acceptedAlgs, or RS256 (the algorithm every
// provider must support) when discovery names none of them.
func signingAlgs(advertised []string) []string {
	var algs []string
	for _, a := range advertised {
		if slices.Contains(acceptedAlgs, a) && !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	if len(algs) == 0 {
		algs = []string{oidc.RS256}
	}
	return algs
}

func newIssuer(cfg Config) (*issuer, error) {
	transport := http.DefaultTransport
	if cfg.BackchannelURL != "" {
		from, err := url.Parse(cfg.Issuer)
		if err != nil {
			return nil, fmt.Errorf("formapp: issuer: %w", err)
		}
		to, err := url.Parse(cfg.BackchannelURL)
		if err != nil {
			return nil, fmt.Errorf("formapp: backchannel: %w", err)
		}
		transport = &backchannel{from: from, to: to, next: http.DefaultTransport}
	}
	return &issuer{
		cfg:        cfg,
		client:     &http.Client{Timeout: 10 * time.Second, Transport: transport},
		retryAfter: discoveryRetryInterval,
	}, nil
}

// get returns the discovered provider, discovering it now if needed.
func (is *issuer) get(ctx context.Context) (*discovered, error) {
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.ready != nil {
		return is.ready, nil
	}
	if is.lastErr != nil && time.Since(is.lastTried) < is.retryAfter {
		return nil, is.lastErr
	}
	is.lastTried = time.Now()
	d, err := is.discover(ctx)
	if err != nil {
		is.lastErr = err
		return nil, err
	}
	is.ready, is.lastErr = d, nil
	return d, nil
}

func (is *issuer) discover(ctx context.Context) (*discovered, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// The provider keeps this client (not the context's deadline) for its
	// later key fetches.
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, is.client), is.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("formapp: discover %s: %w", is.cfg.Issuer, err)
	}
	var meta struct {
		EndSession string   `json:"end_session_endpoint"`
		JWKS       string   `json:"jwks_uri"`
		Algs       []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("formapp: discovery document of %s: %w", is.cfg.Issuer, err)
	}
	if meta.JWKS == "" {
		return nil, fmt.Errorf("formapp: discovery document of %s has no jwks_uri", is.cfg.Issuer)
	}
	// The key set outlives this request: it gets a background context with
	// the back-channel client, as Provider.Verifier would give it.
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), is.client), meta.JWKS)
	algs := signingAlgs(meta.Algs)
	endpoint := p.Endpoint()
	if is.cfg.ClientSecret == "" {
		// A public client sends only its client_id; the PKCE verifier
		// proves it started the request.
		endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	return &discovered{
		provider: p,
		oauth: &oauth2.Config{
			ClientID:     is.cfg.ClientID,
			ClientSecret: is.cfg.ClientSecret,
			Endpoint:     endpoint,
			RedirectURL:  is.cfg.RedirectURL,
			Scopes:       scopes,
		},
		verifier:   oidc.NewVerifier(is.cfg.Issuer, keys, &oidc.Config{ClientID: is.cfg.ClientID, SupportedSigningAlgs: algs}),
		keys:       keys,
		algs:       algs,
		endSession: meta.EndSession,
	}, nil
}

// clientContext carries the back-channel client to oauth2's token exchange.
func (is *issuer) clientContext(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, is.client)
}

// backchannel sends requests meant for the public issuer origin to the
// back-channel origin instead, keeping the path and query.
type backchannel struct {
	from, to *url.URL
	next     http.RoundTripper
}

func (b *backchannel) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme == b.from.Scheme && r.URL.Host == b.from.Host {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = b.to.Scheme, b.to.Host
		// The provider builds its URLs from the public issuer; keep that
		// as the Host so it answers as itself.
		r.Host = b.from.Host
	}
	return b.next.RoundTrip(r)
}

// errNoPendingLogin: a callback arrived that this browser did not start (or
// started so long ago that the session has gone).
var errNoPendingLogin = errors.New("formapp: no sign-in in progress for this browser")
