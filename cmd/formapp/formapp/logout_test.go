package formapp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

// logoutClaims are the claims of a valid logout token from ti for the demo
// client, for sid and sub (either may be "" to leave it out).
func logoutClaims(ti *testIssuer, sid, sub string) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss": ti.issuer, "aud": "demo-formapp",
		"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti":    rand.Text(),
		"events": map[string]any{BackchannelLogoutEvent: map[string]any{}},
	}
	if sid != "" {
		c["sid"] = sid
	}
	if sub != "" {
		c["sub"] = sub
	}
	return c
}

// signLogout signs claims as a logout token with ti's RSA key (RS256, kid
// test-key) or, for ES256, its EC key (kid test-ec-key), with header typ
// logout+jwt unless header says otherwise (a nil value leaves a header out).
func signLogout(t *testing.T, ti *testIssuer, alg jose.SignatureAlgorithm, header map[string]any, claims map[string]any) string {
	t.Helper()
	var key jose.JSONWebKey
	switch alg {
	case jose.RS256:
		key = jose.JSONWebKey{Key: ti.key, KeyID: "test-key"}
	case jose.ES256:
		key = jose.JSONWebKey{Key: ti.ecKey, KeyID: "test-ec-key"}
	default:
		t.Fatalf("signLogout: no key for %s", alg)
	}
	return signWith(t, jose.SigningKey{Algorithm: alg, Key: key}, header, claims)
}

func signWith(t *testing.T, key jose.SigningKey, header map[string]any, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	h := map[string]any{"typ": "logout+jwt"}
	for k, v := range header {
		h[k] = v
	}
	for k, v := range h {
		if v != nil {
			opts.WithHeader(jose.HeaderKey(k), v)
		}
	}
	signer, err := jose.NewSigner(key, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// unsigned is a JWT with alg none and an empty signature.
func unsigned(t *testing.T, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "logout+jwt"})
	p, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + "."
}

// logoutAnswer is the form app's answer to a back-channel logout request.
type logoutAnswer struct {
	status      int
	header      http.Header
	err, detail string
}

// backchannelLogout posts form to the form app's back-channel logout
// endpoint as the provider does: no cookies, no browser headers unless given.
func (f *formApp) backchannelLogout(form url.Values, header ...string) logoutAnswer {
	f.t.Helper()
	provider := &formApp{t: f.t, app: f.app, base: f.base, c: &http.Client{}}
	res := provider.post(BackchannelLogoutPath, form, header...)
	a := logoutAnswer{status: res.status, header: res.header}
	if res.status != http.StatusOK {
		if ct := res.header.Get("Content-Type"); ct != "application/json" {
			f.t.Errorf("back-channel logout: status %d with Content-Type %q, want application/json", res.status, ct)
		}
		var body struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if err := json.Unmarshal([]byte(res.body), &body); err != nil {
			f.t.Fatalf("back-channel logout: status %d, body %q is not JSON: %v", res.status, res.body, err)
		}
		a.err, a.detail = body.Error, body.Description
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		f.t.Errorf("back-channel logout: Cache-Control %q, want no-store", cc)
	}
	return a
}

func (f *formApp) logout(token string, header ...string) logoutAnswer {
	f.t.Helper()
	return f.backchannelLogout(url.Values{"logout_token": {token}}, header...)
}

// Every rule of Back-Channel Logout 1.0 section 2.6 (and explicit typing),
// each refused with its own error: by VerifyLogoutToken, and by the endpoint
// with 400 invalid_request and that error as the description.
func TestLogoutTokenRules(t *testing.T) {
	ti := newTestIssuer(t, "")
	f := newFormApp(t, ti, nil)
	keys := oidc.NewRemoteKeySet(context.Background(), ti.srv.URL+"/keys")
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rs256 := func(edit func(h, c map[string]any)) func() string {
		return func() string {
			h, c := map[string]any{}, logoutClaims(ti, "sid-1", "user-1")
			edit(h, c)
			return signLogout(t, ti, jose.RS256, h, c)
		}
	}
	claim := func(name string, v any) func() string {
		return rs256(func(_, c map[string]any) { c[name] = v })
	}
	without := func(names ...string) func() string {
		return rs256(func(_, c map[string]any) {
			for _, n := range names {
				delete(c, n)
			}
		})
	}
	for _, tc := range []struct {
		name   string
		token  func() string
		want   error
		detail string // in the error text too
	}{
		{"not a JWT", func() string { return "not-a-jwt" }, ErrLogoutTokenMalformed, ""},
		{"header not base64", func() string { return "@@@.e30.sig" }, ErrLogoutTokenMalformed, "header: not base64url"},
		{"JSON serialization", func() string { return `{"payload":"e30","signatures":[]}` }, ErrLogoutTokenMalformed, ""},
		{"encrypted", func() string { return "a.b.c.d.e" }, ErrLogoutTokenEncrypted, ""},
		{"typ not a string", func() string {
			return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":5}`)) + ".e30.sig"
		}, ErrLogoutTokenMalformed, "header: not a JSON object with string alg and typ"},
		{"alg none", func() string { return unsigned(t, logoutClaims(ti, "sid-1", "user-1")) }, ErrLogoutTokenAlgNone, ""},
		{"alg HS256 (not advertised)", func() string {
			key := jose.SigningKey{Algorithm: jose.HS256, Key: []byte("a shared secret of thirty-two by")}
			return signWith(t, key, nil, logoutClaims(ti, "sid-1", "user-1"))
		}, ErrLogoutTokenAlg, `got "HS256", want one of RS256`},
		{"alg ES256 with a published key, not advertised", func() string {
			return signLogout(t, ti, jose.ES256, nil, logoutClaims(ti, "sid-1", "user-1"))
		}, ErrLogoutTokenAlg, `got "ES256"`},
		{"no typ", rs256(func(h, _ map[string]any) { h["typ"] = nil }), ErrLogoutTokenType, "the header has no typ"},
		{"typ JWT (an ID token's)", rs256(func(h, _ map[string]any) { h["typ"] = "JWT" }), ErrLogoutTokenType, `got "JWT"`},
		{"typ at+jwt", rs256(func(h, _ map[string]any) { h["typ"] = "at+jwt" }), ErrLogoutTokenType, `got "at+jwt"`},
		{"crit", rs256(func(h, _ map[string]any) { h["crit"] = []string{"exp"}; h["exp"] = 1 }), ErrLogoutTokenCrit, ""},
		{"signed by another key with the provider's kid", func() string {
			key := jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: otherKey, KeyID: "test-key"}}
			return signWith(t, key, nil, logoutClaims(ti, "sid-1", "user-1"))
		}, ErrLogoutTokenSignature, ""},
		{"signed by an unknown key", func() string {
			key := jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: otherKey, KeyID: "unknown"}}
			return signWith(t, key, nil, logoutClaims(ti, "sid-1", "user-1"))
		}, ErrLogoutTokenSignature, ""},
		{"payload altered", func() string {
			parts := strings.Split(signLogout(t, ti, jose.RS256, nil, logoutClaims(ti, "sid-1", "user-1")), ".")
			c := logoutClaims(ti, "sid-1", "someone-else")
			p, _ := json.Marshal(c)
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
		}, ErrLogoutTokenSignature, ""},
		{"payload an array", func() string {
			key := jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: ti.key, KeyID: "test-key"}}
			signer, _ := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("logout+jwt"))
			jws, _ := signer.Sign([]byte(`[1,2]`))
			raw, _ := jws.CompactSerialize()
			return raw
		}, ErrLogoutTokenClaims, ""},
		{"iss another provider", claim("iss", "https://elsewhere.example"), ErrLogoutTokenIssuer, `got "https://elsewhere.example"`},
		{"iss missing", without("iss"), ErrLogoutTokenIssuer, ""},
		{"iss not a string", claim("iss", 1), ErrLogoutTokenIssuer, "iss is not a string"},
		{"aud another client", claim("aud", "another-form"), ErrLogoutTokenAudience, `want it to contain "demo-formapp"`},
		{"aud array without this client", claim("aud", []string{"a", "b"}), ErrLogoutTokenAudience, ""},
		{"aud missing", without("aud"), ErrLogoutTokenAudience, "aud is missing"},
		{"aud a number", claim("aud", 7), ErrLogoutTokenAudience, "neither a string nor an array"},
		{"azp another client", rs256(func(_, c map[string]any) {
			c["aud"] = []string{"demo-formapp", "another-form"}
			c["azp"] = "another-form"
		}), ErrLogoutTokenAZP, ""},
		{"iat missing", without("iat"), ErrLogoutTokenIssuedAt, "iat is missing"},
		{"iat a string", claim("iat", "1700000000"), ErrLogoutTokenIssuedAt, "iat is not a number"},
		{"iat in the future", claim("iat", now.Add(5*time.Minute).Unix()), ErrLogoutTokenIssuedAt, "in the future"},
		{"iat long ago", rs256(func(_, c map[string]any) {
			c["iat"] = now.Add(-30 * time.Minute).Unix()
			c["exp"] = now.Add(time.Hour).Unix()
		}), ErrLogoutTokenIssuedAt, "more than 10m0s ago"},
		{"exp missing", without("exp"), ErrLogoutTokenExpiry, "exp is missing"},
		{"exp passed", rs256(func(_, c map[string]any) {
			c["iat"] = now.Add(-5 * time.Minute).Unix()
			c["exp"] = now.Add(-3 * time.Minute).Unix()
		}), ErrLogoutTokenExpiry, "expired at"},
		{"jti missing", without("jti"), ErrLogoutTokenID, ""},
		{"jti empty", claim("jti", ""), ErrLogoutTokenID, ""},
		{"events missing", without("events"), ErrLogoutTokenEvent, ""},
		{"events an array", claim("events", []string{BackchannelLogoutEvent}), ErrLogoutTokenEvent, ""},
		{"events without the logout event", claim("events", map[string]any{"http://schemas.openid.net/event/other": map[string]any{}}), ErrLogoutTokenEvent, ""},
		{"logout event not an object", claim("events", map[string]any{BackchannelLogoutEvent: true}), ErrLogoutTokenEvent, ""},
		{"logout event null", claim("events", map[string]any{BackchannelLogoutEvent: nil}), ErrLogoutTokenEvent, ""},
		{"nonce", claim("nonce", "n-0S6_WzA2Mj"), ErrLogoutTokenNonce, ""},
		{"nonce null", claim("nonce", nil), ErrLogoutTokenNonce, ""},
		{"neither sub nor sid", without("sub", "sid"), ErrLogoutTokenSubject, ""},
		{"sub and sid empty", rs256(func(_, c map[string]any) { c["sub"], c["sid"] = "", "" }), ErrLogoutTokenSubject, ""},
		{"sid not a string", claim("sid", 42), ErrLogoutTokenSubject, "sid is not a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.token()
			_, err := VerifyLogoutToken(context.Background(), raw, ti.issuer, "demo-formapp", keys, []string{"RS256"}, time.Now())
			if !errors.Is(err, tc.want) {
				t.Fatalf("VerifyLogoutToken: %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.detail) {
				t.Errorf("VerifyLogoutToken: %q does not say %q", err, tc.detail)
			}
			if strings.Contains(err.Error(), raw) {
				t.Errorf("the error contains the token: %q", err)
			}
			a := f.logout(raw)
			if a.status != http.StatusBadRequest || a.err != "invalid_request" {
				t.Fatalf("endpoint: status %d error %q, want 400 invalid_request", a.status, a.err)
			}
			if !strings.HasPrefix(a.detail, tc.want.Error()) || !strings.Contains(a.detail, tc.detail) {
				t.Errorf("endpoint: error_description %q, want %q ... %q", a.detail, tc.want, tc.detail)
			}
		})
	}
}

// The forms of a valid logout token the spec allows are all accepted.
func TestLogoutTokenAccepted(t *testing.T) {
	ti := newTestIssuer(t, "")
	keys := oidc.NewRemoteKeySet(context.Background(), ti.srv.URL+"/keys")
	algs := []string{"RS256", "ES256"}
	now := time.Now()
	for _, tc := range []struct {
		name  string
		token string
		sid   string
		sub   string
	}{
		{"sid and sub", signLogout(t, ti, jose.RS256, nil, logoutClaims(ti, "sid-1", "user-1")), "sid-1", "user-1"},
		{"sid only", signLogout(t, ti, jose.RS256, nil, logoutClaims(ti, "sid-1", "")), "sid-1", ""},
		{"sub only", signLogout(t, ti, jose.RS256, nil, logoutClaims(ti, "", "user-1")), "", "user-1"},
		{"ES256 when advertised", signLogout(t, ti, jose.ES256, nil, logoutClaims(ti, "sid-1", "user-1")), "sid-1", "user-1"},
		{"typ application/logout+jwt", signLogout(t, ti, jose.RS256, map[string]any{"typ": "application/logout+jwt"}, logoutClaims(ti, "sid-1", "")), "sid-1", ""},
		{"typ in capitals", signLogout(t, ti, jose.RS256, map[string]any{"typ": "Logout+JWT"}, logoutClaims(ti, "sid-1", "")), "sid-1", ""},
		{"aud an array, azp this client", func() string {
			c := logoutClaims(ti, "sid-1", "")
			c["aud"], c["azp"] = []string{"another-form", "demo-formapp"}, "demo-formapp"
			return signLogout(t, ti, jose.RS256, nil, c)
		}(), "sid-1", ""},
		{"fractional dates, other events too", func() string {
			c := logoutClaims(ti, "sid-1", "")
			c["iat"], c["exp"] = float64(now.Unix())+0.5, float64(now.Add(time.Minute).Unix())+0.25
			c["events"] = map[string]any{BackchannelLogoutEvent: map[string]any{}, "https://example.org/other": map[string]any{"x": 1}}
			return signLogout(t, ti, jose.RS256, nil, c)
		}(), "sid-1", ""},
		{"iat a little ahead of this clock", func() string {
			c := logoutClaims(ti, "sid-1", "")
			c["iat"] = now.Add(30 * time.Second).Unix()
			return signLogout(t, ti, jose.RS256, nil, c)
		}(), "sid-1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lc, err := VerifyLogoutToken(context.Background(), tc.token, ti.issuer, "demo-formapp", keys, algs, now)
			if err != nil {
				t.Fatal(err)
			}
			if lc.SessionID != tc.sid || lc.Subject != tc.sub || lc.TokenID == "" || lc.Issuer != ti.issuer || lc.IssuedAt.IsZero() || lc.Expiry.IsZero() {
				t.Errorf("claims %+v, want sid %q sub %q", lc, tc.sid, tc.sub)
			}
		})
	}
	// Without a list, RS256 only, as for ID tokens.
	if _, err := VerifyLogoutToken(context.Background(), signLogout(t, ti, jose.ES256, nil, logoutClaims(ti, "sid-1", "")), ti.issuer, "demo-formapp", keys, nil, now); !errors.Is(err, ErrLogoutTokenAlg) {
		t.Errorf("ES256 with no algorithms given: %v, want %v", err, ErrLogoutTokenAlg)
	}
}

// syncBuffer is a log destination the app's goroutines may write to while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The story from the form app's side: Ada is signed in twice (two browsers,
// two provider sessions) and someone else once; a browser that has not
// signed in has answers kept. The provider's logout token for one sid ends
// that browser's session only: its next visit must sign in again, with
// nothing kept. A token with only a sub ends every session of that person.
// A replayed token is refused. The endpoint is a server-to-server call, so a
// cross-site request is not refused for its origin; the log names the event
// but never the token.
func TestBackchannelLogoutEndsTheSession(t *testing.T) {
	ti := newTestIssuer(t, "")
	var logs syncBuffer
	f := newFormAppLogging(t, ti, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	browser := func() *formApp { return &formApp{t: t, app: f.app, base: f.base, c: newBrowserClient()} }
	signedIn := func(b *formApp, sub, sid string) {
		t.Helper()
		b.post("/person", pageOne)
		claims := map[string]any{"sub": sub, "sid": sid, "given_name": "Ada", "family_name": "Lovelace"}
		wantRedirect(t, "callback", b.signIn(ti, "/concern", claims), "/concern")
		wantBody(t, "signed in", b.get("/concern"), "Signed in as")
	}
	wantSignedOut := func(what string, b *formApp) {
		t.Helper()
		wantRedirect(t, what, b.get("/concern"), "/sign-in?next=%2Fconcern")
		res := b.get("/person")
		wantNotBody(t, what, res, "Signed in as", `value="Ann Example"`)
	}
	adaHere, adaThere, grace, anonymous := browser(), browser(), browser(), browser()
	signedIn(adaHere, "user-1", "sid-here")
	signedIn(adaThere, "user-1", "sid-there")
	signedIn(grace, "user-2", "sid-grace")
	anonymous.post("/person", pageOne)

	token := signLogout(t, ti, jose.RS256, nil, logoutClaims(ti, "sid-here", "user-1"))
	a := f.logout(token, "Origin", "https://idp.elsewhere.example", "Sec-Fetch-Site", "cross-site")
	if a.status != http.StatusOK {
		t.Fatalf("back-channel logout: status %d (%s: %s), want 200", a.status, a.err, a.detail)
	}
	if a.header.Get("Content-Security-Policy") == "" {
		t.Error("back-channel logout answer has no Content-Security-Policy: only the origin check is skipped")
	}
	wantSignedOut("the browser whose provider session ended", adaHere)
	wantBody(t, "Ada's other provider session", adaThere.get("/concern"), "Signed in as")
	wantBody(t, "someone else", grace.get("/concern"), "Signed in as")
	wantBody(t, "a browser not signed in", anonymous.get("/person"), `value="Ann Example"`)

	if a := f.logout(token); a.status != http.StatusBadRequest || !strings.Contains(a.detail, ErrLogoutTokenReplayed.Error()) {
		t.Errorf("replayed token: status %d %q, want 400 %q", a.status, a.detail, ErrLogoutTokenReplayed)
	}
	// Signing in again works, and ends the same way.
	signedIn(adaHere, "user-1", "sid-here-2")

	// A token for another sid of the same person but another sub ends nothing.
	if a := f.logout(signLogout(t, ti, jose.RS256, nil, logoutClaims(ti, "sid-there", "user-2"))); a.status != http.StatusOK {
		t.Fatalf("logout of a sid with another sub: status %d %s", a.status, a.detail)
	}
	wantBody(t, "sid of another person", adaThere.get("/concern"), "Signed in as")

	// Without a sid: every session of that person.
	if a := f.logout(signLogout(t, ti, jose.RS256, nil, logoutClaims(ti, "", "user-1"))); a.status != http.StatusOK {
		t.Fatalf("logout by sub: status %d %s", a.status, a.detail)
	}
	wantSignedOut("Ada's other browser, logout by sub", adaThere)
	wantSignedOut("Ada's new session, logout by sub", adaHere)
	wantBody(t, "someone else after logout by sub", grace.get("/concern"), "Signed in as")

	// An unknown sid is no error: that session may have ended already.
	if a := f.logout(signLogout(t, ti, jose.RS256, nil, logoutClaims(ti, "sid-unknown", ""))); a.status != http.StatusOK {
		t.Errorf("unknown sid: status %d %s, want 200", a.status, a.detail)
	}

	out := logs.String()
	if !strings.Contains(out, "back-channel logout") || !strings.Contains(out, "sid=sid-here") || !strings.Contains(out, "sessions_ended=1") {
		t.Errorf("the log does not record the logout:\n%s", out)
	}
	if strings.Contains(out, token) || strings.Contains(out, strings.Split(token, ".")[2]) {
		t.Errorf("the log contains the logout token:\n%s", out)
	}
}

func TestBackchannelLogoutBadRequests(t *testing.T) {
	ti := newTestIssuer(t, "")
	f := newFormApp(t, ti, nil)
	valid := signLogout(t, ti, jose.RS256, nil, logoutClaims(ti, "sid-1", ""))
	for _, tc := range []struct {
		name   string
		form   url.Values
		detail string
	}{
		{"no logout_token", url.Values{}, "the form has no logout_token"},
		{"empty logout_token", url.Values{"logout_token": {""}}, "the form has no logout_token"},
		{"two logout_tokens", url.Values{"logout_token": {valid, valid}}, "more than one logout_token"},
		{"body too large", url.Values{"logout_token": {valid}, "padding": {strings.Repeat("x", maxLogoutRequest)}}, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := f.backchannelLogout(tc.form)
			if a.status != http.StatusBadRequest || a.err != "invalid_request" || !strings.Contains(a.detail, tc.detail) {
				t.Errorf("status %d %s %q, want 400 invalid_request %q", a.status, a.err, a.detail, tc.detail)
			}
		})
	}
	// The token in the query string instead of the body is not read.
	provider := &http.Client{}
	res, err := provider.Post(f.base+BackchannelLogoutPath+"?logout_token="+valid, "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("logout_token in the query: status %d, want 400", res.StatusCode)
	}
	// JSON is not the form the spec uses.
	res, err = provider.Post(f.base+BackchannelLogoutPath, "application/json", strings.NewReader(`{"logout_token":"`+valid+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("JSON body: status %d, want 400", res.StatusCode)
	}
}

// When the provider cannot be discovered the token cannot be judged: 503,
// so that the provider delivers it again later.
func TestBackchannelLogoutProviderDown(t *testing.T) {
	ti := newTestIssuer(t, "")
	ti.setDown(true)
	f := newFormApp(t, ti, nil)
	a := f.logout(signLogout(t, ti, jose.RS256, nil, logoutClaims(ti, "sid-1", "")))
	if a.status != http.StatusServiceUnavailable || a.err != "temporarily_unavailable" || a.header.Get("Retry-After") == "" {
		t.Errorf("provider down: status %d %s (Retry-After %q), want 503 temporarily_unavailable with Retry-After", a.status, a.err, a.header.Get("Retry-After"))
	}
}

// The provider's advertised algorithms govern logout tokens as they do ID
// tokens: ES256 is accepted once discovery lists it.
func TestBackchannelLogoutES256(t *testing.T) {
	ti := newTestIssuer(t, "")
	ti.algs = []string{"ES256", "RS256", "HS256", "none"}
	f := newFormApp(t, ti, nil)
	b := &formApp{t: t, app: f.app, base: f.base, c: newBrowserClient()}
	wantRedirect(t, "callback", b.signIn(ti, "/concern", map[string]any{"sid": "sid-1"}), "/concern")
	if a := f.logout(signLogout(t, ti, jose.ES256, nil, logoutClaims(ti, "sid-1", ""))); a.status != http.StatusOK {
		t.Fatalf("ES256 logout token: status %d %s", a.status, a.detail)
	}
	wantRedirect(t, "after logout", b.get("/concern"), "/sign-in?next=%2Fconcern")
	// none and HS256 are advertised but never accepted.
	if a := f.logout(unsigned(t, logoutClaims(ti, "sid-1", ""))); !strings.HasPrefix(a.detail, ErrLogoutTokenAlgNone.Error()) {
		t.Errorf("alg none advertised: %d %q", a.status, a.detail)
	}
	if got := signingAlgs([]string{"ES256", "RS256", "HS256", "none"}); strings.Join(got, " ") != "ES256 RS256" {
		t.Errorf("signingAlgs = %v, want [ES256 RS256]", got)
	}
}

// A request that read the session just before a back-channel logout ended it
// must not bring it back when it saves.
func TestEndedSessionStaysEnded(t *testing.T) {
	s := newSessions(time.Hour)
	s.put(&Session{ID: "a", Person: &Person{Subject: "user-1"}, ProviderSession: "sid-1"})
	s.put(&Session{ID: "b", Answers: Answers{PersonName: "Ann"}})
	inFlight := s.get("a")
	if n := s.endSignIns("sid-1", ""); n != 1 {
		t.Fatalf("ended %d sessions, want 1", n)
	}
	s.put(inFlight)
	if s.get("a") != nil {
		t.Error("a session ended by back-channel logout came back when an in-flight request saved it")
	}
	if s.get("b") == nil {
		t.Error("a session that was not signed in was ended")
	}
	// A session whose ID token had no sid ends by the sub of a token with a
	// sid, but not by a token with only a sid.
	s.put(&Session{ID: "c", Person: &Person{Subject: "user-1"}})
	s.put(&Session{ID: "d", Person: &Person{Subject: "user-2"}})
	if n := s.endSignIns("sid-2", ""); n != 0 || s.get("c") == nil {
		t.Errorf("a token with only a sid ended %d sessions", n)
	}
	if n := s.endSignIns("sid-2", "user-1"); n != 1 || s.get("c") != nil || s.get("d") == nil {
		t.Errorf("a token with sid and sub ended %d sessions, want the one of that sub without a sid", n)
	}
	if n := s.endSignIns("", ""); n != 0 {
		t.Errorf("endSignIns with neither sid nor sub ended %d sessions", n)
	}
}

func TestReplayGuard(t *testing.T) {
	seen := newSeenLogoutTokens()
	now := time.Now()
	if !seen.first("j1", now) || seen.first("j1", now.Add(MaxLogoutTokenAge)) {
		t.Error("a jti was accepted twice within the token age")
	}
	if !seen.first("j2", now) {
		t.Error("another jti was refused")
	}
	// Past the window the jti is forgotten; such a token is refused by its iat.
	if !seen.first("j1", now.Add(MaxLogoutTokenAge+4*LogoutTokenLeeway)) {
		t.Error("a jti was remembered past the window")
	}
}

func TestBackchannelLogoutURI(t *testing.T) {
	for redirect, want := range map[string]string{
		"http://localhost:8081/callback":        "http://localhost:8081/backchannel-logout",
		"https://forms.example.gov.uk/callback": "https://forms.example.gov.uk/backchannel-logout",
	} {
		if got := (Config{RedirectURL: redirect}).BackchannelLogoutURI(); got != want {
			t.Errorf("BackchannelLogoutURI for %s = %s, want %s", redirect, got, want)
		}
	}
	cfg, err := ConfigFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.BackchannelLogoutURI(); got != "http://"+DefaultAddr+BackchannelLogoutPath {
		t.Errorf("default back-channel logout URI %s", got)
	}
}
