package formapp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc/oidctest"
	jose "github.com/go-jose/go-jose/v4"
)

// testIssuer is a minimal OpenID Connect provider for the form app's unit
// tests: discovery, JWKS, a token endpoint that checks the PKCE verifier,
// client and redirect URI, and an end_session_endpoint in discovery. Its
// authorize method plays the part of the login pages: it reads the
// authorization request the form app built and answers with a code, as a
// provider does once the person has signed in.
type testIssuer struct {
	t      *testing.T
	srv    *httptest.Server
	issuer string // the issuer named in discovery and tokens
	key    *rsa.PrivateKey
	// ecKey is published in the JWKS too (kid test-ec-key), for ES256
	// logout tokens.
	ecKey *ecdsa.PrivateKey
	// algs is id_token_signing_alg_values_supported; nil is RS256 only.
	algs []string

	mu    sync.Mutex
	down  bool // discovery answers 503
	codes map[string]grant
	// nonceOverride, when set, is put in ID tokens instead of the nonce asked for.
	nonceOverride string
	tokenRequests int
	// approveAs, for browser tests, is who /authorize signs in at once.
	approveAs   map[string]any
	endSessions int
}

// grant is an authorization code and what it was issued for.
type grant struct {
	clientID, redirectURI, challenge, nonce string
	claims                                  map[string]any
}

// newTestIssuer starts the issuer. issuerURL "" makes the issuer its own
// server URL; otherwise discovery and tokens name issuerURL (a public
// address reached through a back channel).
func newTestIssuer(t *testing.T, issuerURL string) *testIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ti := &testIssuer{t: t, key: key, ecKey: ecKey, codes: make(map[string]grant)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", ti.discovery)
	mux.HandleFunc("GET /keys", ti.keys)
	mux.HandleFunc("POST /token", ti.token)
	mux.HandleFunc("GET /authorize", ti.approve)
	mux.HandleFunc("GET /end_session", ti.endSession)
	ti.srv = httptest.NewServer(mux)
	t.Cleanup(ti.srv.Close)
	ti.issuer = issuerURL
	if ti.issuer == "" {
		ti.issuer = ti.srv.URL
	}
	return ti
}

func (ti *testIssuer) setDown(down bool) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.down = down
}

func (ti *testIssuer) discovery(w http.ResponseWriter, r *http.Request) {
	ti.mu.Lock()
	down := ti.down
	algs := ti.algs
	ti.mu.Unlock()
	if algs == nil {
		algs = []string{"RS256"}
	}
	if down {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                ti.issuer,
		"authorization_endpoint":                ti.issuer + "/authorize",
		"token_endpoint":                        ti.issuer + "/token",
		"jwks_uri":                              ti.issuer + "/keys",
		"end_session_endpoint":                  ti.issuer + "/end_session",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": algs,
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (ti *testIssuer) keys(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: ti.key.Public(), KeyID: "test-key", Algorithm: "RS256", Use: "sig"},
		{Key: ti.ecKey.Public(), KeyID: "test-ec-key", Algorithm: "ES256", Use: "sig"},
	}})
}

// token redeems a code once, checking what RFC 6749 and RFC 7636 require.
func (ti *testIssuer) token(w http.ResponseWriter, r *http.Request) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.tokenRequests++
	fail := func(msg string) {
		ti.t.Logf("test issuer: token request refused: %s", msg)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": msg})
	}
	if err := r.ParseForm(); err != nil {
		fail("bad form")
		return
	}
	f := r.PostForm
	g, ok := ti.codes[f.Get("code")]
	delete(ti.codes, f.Get("code"))
	switch {
	case f.Get("grant_type") != "authorization_code":
		fail("grant_type")
	case !ok:
		fail("unknown or spent code")
	case f.Get("client_id") != g.clientID:
		fail("client_id")
	case f.Get("redirect_uri") != g.redirectURI:
		fail("redirect_uri")
	case s256(f.Get("code_verifier")) != g.challenge:
		fail("code_verifier does not match code_challenge")
	default:
		claims := map[string]any{
			"iss": ti.issuer, "aud": g.clientID, "sub": "user-1",
			"iat": time.Now().Unix(), "exp": time.Now().Add(10 * time.Minute).Unix(),
			"nonce": g.nonce,
		}
		if ti.nonceOverride != "" {
			claims["nonce"] = ti.nonceOverride
		}
		for k, v := range g.claims {
			claims[k] = v
		}
		raw, _ := json.Marshal(claims)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": "access-" + rand.Text(), "token_type": "Bearer", "expires_in": 600,
			"id_token": oidctest.SignIDToken(ti.key, "test-key", "RS256", string(raw)),
		})
	}
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authRequest is an authorization request as the form app sent it.
type authRequest struct {
	url.Values
}

// parseAuthRequest checks that location is this issuer's authorization
// endpoint and returns its parameters.
func (ti *testIssuer) parseAuthRequest(location string) authRequest {
	ti.t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		ti.t.Fatalf("authorization request %q: %v", location, err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != ti.issuer+"/authorize" {
		ti.t.Fatalf("redirected to %s, want the authorization endpoint %s/authorize", got, ti.issuer)
	}
	return authRequest{u.Query()}
}

// authorize answers an authorization request as the provider does after a
// successful sign-in: it issues a code for claims and returns the callback
// URL the browser would be sent to.
func (ti *testIssuer) authorize(req authRequest, claims map[string]any) string {
	ti.t.Helper()
	code := rand.Text()
	ti.mu.Lock()
	ti.codes[code] = grant{
		clientID: req.Get("client_id"), redirectURI: req.Get("redirect_uri"),
		challenge: req.Get("code_challenge"), nonce: req.Get("nonce"), claims: claims,
	}
	ti.mu.Unlock()
	return callbackURL(ti.t, req, url.Values{"code": {code}, "state": {req.Get("state")}})
}

// callbackURL is the form app's redirect_uri with params.
func callbackURL(t *testing.T, req authRequest, params url.Values) string {
	t.Helper()
	u, err := url.Parse(req.Get("redirect_uri"))
	if err != nil || !strings.HasSuffix(u.Path, "/callback") {
		t.Fatalf("redirect_uri %q is not the form app's /callback", req.Get("redirect_uri"))
	}
	u.RawQuery = params.Encode()
	return u.String()
}

// approve is the authorization endpoint for browser tests: it signs in
// approveAs at once, as the provider's login pages would after a journey.
func (ti *testIssuer) approve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || q.Get("client_id") == "" || q.Get("code_challenge_method") != "S256" || q.Get("state") == "" || q.Get("nonce") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := rand.Text()
	ti.mu.Lock()
	ti.codes[code] = grant{
		clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"),
		challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), claims: ti.approveAs,
	}
	ti.mu.Unlock()
	redirect.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// endSession ends the (imaginary) provider session and returns to the
// post-logout redirect URI.
func (ti *testIssuer) endSession(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("id_token_hint") == "" || q.Get("post_logout_redirect_uri") == "" {
		http.Error(w, "bad end session request", http.StatusBadRequest)
		return
	}
	ti.mu.Lock()
	ti.endSessions++
	ti.mu.Unlock()
	target, _ := url.Parse(q.Get("post_logout_redirect_uri"))
	target.RawQuery = url.Values{"state": {q.Get("state")}}.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}
