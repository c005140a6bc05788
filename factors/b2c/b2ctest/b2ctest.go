// Package b2ctest is a strict fake of an Azure AD B2C tenant's ROPC user flow for
// tests: its token endpoint, the policy's OpenID Connect discovery document and
// its JWKS, at the paths B2C uses
// (/<tenant>.onmicrosoft.com/<flow>/oauth2/v2.0/token and so on). The token
// endpoint answers as B2C does: 200 with an RS256 ID token whose sub is the
// account's object id, 400 invalid_grant AADB2C90225 for a wrong user name or
// password, and 400 with B2C's codes for a request B2C would refuse (another
// client id, a scope without openid, the client id or offline_access, another
// grant type or response type, a missing user name or password). It counts the
// token requests.
package b2ctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Flow is the fake's user flow name.
const Flow = "B2C_1_ROPC_Auth"

// Fake is one tenant with one ROPC user flow.
type Fake struct {
	Tenant   string // "contoso": contoso.onmicrosoft.com
	TenantID string // the tenant's id, in the issuer
	ClientID string

	srv *httptest.Server
	key *rsa.PrivateKey
	kid string

	mu       sync.Mutex
	users    map[string]user // by lower-case sign-in name
	calls    int
	down     int // status to answer every request with (0: none)
	slow     time.Duration
	tokenSub map[string]string // object id to put in the token instead, by sign-in name
}

type user struct{ objectID, password string }

// New starts a fake tenant for clientID, stopped when the test ends.
func New(t testing.TB, clientID string) *Fake {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &Fake{Tenant: "contoso", TenantID: "775527ff-9a37-4307-8b3d-cc311f58d925", ClientID: clientID,
		key: key, kid: "X5eXk4xyojNFum1kl2Ytv8dlNP4-c57dO6QGTVBwaNk",
		users: map[string]user{}, tokenSub: map[string]string{}}
	mux := http.NewServeMux()
	base := "/" + f.Tenant + ".onmicrosoft.com/" + strings.ToLower(Flow)
	mux.HandleFunc("POST "+base+"/oauth2/v2.0/token", f.token)
	mux.HandleFunc("GET "+base+"/v2.0/.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("GET "+base+"/discovery/v2.0/keys", f.jwks)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		down, slow := f.down, f.slow
		f.mu.Unlock()
		if slow > 0 {
			select {
			case <-time.After(slow):
			case <-r.Context().Done():
				return
			}
		}
		if down != 0 {
			http.Error(w, "service unavailable", down)
			return
		}
		// B2C's paths are case-insensitive; the fake's routes are lower case.
		r.URL.Path = strings.ToLower(r.URL.Path)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// TokenURL is the flow's token endpoint (IDP_B2C_ROPC_URL).
func (f *Fake) TokenURL() string {
	return f.srv.URL + "/" + f.Tenant + ".onmicrosoft.com/" + Flow + "/oauth2/v2.0/token"
}

func (f *Fake) base() string {
	return f.srv.URL + "/" + f.Tenant + ".onmicrosoft.com/" + strings.ToLower(Flow)
}

// Issuer is the iss of the flow's tokens.
func (f *Fake) Issuer() string { return f.srv.URL + "/" + f.TenantID + "/v2.0/" }

// AddUser adds an account signing in with email and password.
func (f *Fake) AddUser(objectID, email, password string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[strings.ToLower(email)] = user{objectID: objectID, password: password}
}

// SignInAs makes tokens for email name another object id (a misconfigured tenant).
func (f *Fake) SignInAs(email, objectID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenSub[strings.ToLower(email)] = objectID
}

// Calls is the number of token requests so far.
func (f *Fake) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// Down makes every request answer status (503, 500); 0 ends it.
func (f *Fake) Down(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = status
}

// Slow delays every answer by d.
func (f *Fake) Slow(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slow = d
}

func (f *Fake) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                f.Issuer(),
		"authorization_endpoint":                f.base() + "/oauth2/v2.0/authorize",
		"token_endpoint":                        f.base() + "/oauth2/v2.0/token",
		"end_session_endpoint":                  f.base() + "/oauth2/v2.0/logout",
		"jwks_uri":                              f.base() + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"response_types_supported":              []string{"code", "code id_token", "code token", "code id_token token", "id_token", "id_token token", "token", "token id_token"},
		"scopes_supported":                      []string{"openid"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"claims_supported":                      []string{"oid", "sub", "tfp", "iss", "iat", "exp", "aud", "acr", "nonce", "auth_time"},
	})
}

func (f *Fake) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &f.key.PublicKey, KeyID: f.kid, Algorithm: "RS256", Use: "sig",
	}}})
}

// oauthError answers as B2C does: 400 with error, and a description that starts
// with B2C's code and ends with a correlation id and a timestamp.
func oauthError(w http.ResponseWriter, code, aad, text string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{
		"error": code,
		"error_description": fmt.Sprintf("%s: %s\r\nCorrelation ID: 2b6a5d3c-1a2b-4c3d-9e8f-0a1b2c3d4e5f\r\nTimestamp: %s\r\n",
			aad, text, time.Now().UTC().Format("2006-01-02 15:04:05Z")),
	})
}

func (f *Fake) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		oauthError(w, "invalid_request", "AADB2C90079", "Clients must send a client_secret when redeeming a confidential grant.")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", "AADB2C90117", "The request could not be read.")
		return
	}
	form := r.PostForm
	for name, v := range form {
		if len(v) != 1 {
			oauthError(w, "invalid_request", "AADB2C90117", "The parameter '"+name+"' was sent more than once.")
			return
		}
	}
	clientID := form.Get("client_id")
	switch {
	case clientID == "":
		oauthError(w, "invalid_request", "AADB2C90014", "The required field 'client_id' is missing.")
		return
	case clientID != f.ClientID:
		oauthError(w, "invalid_request", "AADB2C90018", fmt.Sprintf("The client id '%s' specified in the request is not registered in tenant '%s.onmicrosoft.com'.", clientID, f.Tenant))
		return
	case form.Get("grant_type") != "password":
		oauthError(w, "unsupported_grant_type", "AADB2C90086", "The supplied grant_type ["+form.Get("grant_type")+"] is not supported.")
		return
	}
	scopes := strings.Fields(form.Get("scope"))
	for _, want := range []string{"openid", f.ClientID, "offline_access"} {
		if !slices.Contains(scopes, want) {
			oauthError(w, "invalid_scope", "AADB2C90055", "The scope '"+form.Get("scope")+"' provided in request must specify a resource, such as 'https://example.com/calendar.read'.")
			return
		}
	}
	rt := strings.Fields(form.Get("response_type"))
	if !slices.Contains(rt, "id_token") || !slices.Contains(rt, "token") {
		oauthError(w, "unsupported_response_type", "AADB2C90063", "The response type '"+form.Get("response_type")+"' provided in the request is not supported by the ROPC user flow.")
		return
	}
	name, password := form.Get("username"), form.Get("password")
	if name == "" || password == "" {
		missing := "username"
		if name != "" {
			missing = "password"
		}
		oauthError(w, "invalid_request", "AADB2C90083", "The request is missing required parameter: "+missing+".")
		return
	}
	f.mu.Lock()
	u, ok := f.users[strings.ToLower(name)]
	sub := u.objectID
	if other, set := f.tokenSub[strings.ToLower(name)]; set {
		sub = other
	}
	f.mu.Unlock()
	if !ok || u.password != password {
		oauthError(w, "invalid_grant", "AADB2C90225", "The username or password provided in the request are invalid.")
		return
	}
	now := time.Now()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: f.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", f.kid))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	claims := map[string]any{
		"exp": now.Add(time.Hour).Unix(), "nbf": now.Unix(), "ver": "1.0", "iss": f.Issuer(),
		"sub": sub, "oid": sub, "aud": f.ClientID, "iat": now.Unix(), "auth_time": now.Unix(), "tfp": Flow,
	}
	idToken, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token": idToken, "token_type": "Bearer", "expires_in": "3600",
		"refresh_token": "fake-refresh-" + f.kid[:8], "refresh_token_expires_in": "1209600",
		"id_token": idToken,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
