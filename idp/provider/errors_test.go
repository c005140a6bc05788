package provider

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/store/storetest"
)

// rawResponse is a response as a strict client sees it.
type rawResponse struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *env) do(req *http.Request) rawResponse {
	e.t.Helper()
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := rawResponse{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	_ = json.Unmarshal(b, &out.body)
	return out
}

// wantJSONError asserts an RFC 6749 section 5.2 style error answer.
func wantJSONError(t *testing.T, what string, got rawResponse, status int, code string) {
	t.Helper()
	if got.status != status {
		t.Errorf("%s: status %d, want %d (body %q)", what, got.status, status, got.raw)
	}
	if mt, _, _ := mime.ParseMediaType(got.header.Get("Content-Type")); mt != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json (body %q)", what, got.header.Get("Content-Type"), got.raw)
	}
	if got.body["error"] != code {
		t.Errorf("%s: error %v, want %q (body %q)", what, got.body["error"], code, got.raw)
	}
	if d, _ := got.body["error_description"].(string); strings.Contains(d, "provider:") || strings.Contains(d, "ErrorType") || strings.Contains(d, "Parent") {
		t.Errorf("%s: error_description carries internal text: %q", what, d)
	}
}

func formRequest(endpoint string, form url.Values) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// RFC 6750 sections 3 and 3.1.
func TestUserinfoErrorsAreBearerChallenges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) stores) {
		e := newEnv(t, open(t), nil)
		e.signInAs(e.newUser(), time.Time{})
		r := e.rp("formapp")
		f := newFlow()
		tok := r.mustExchange(r.signIn(e.browser(), f), f)
		uri := r.endpoint("userinfo_endpoint")

		get := func(token string) rawResponse {
			req, _ := http.NewRequest(http.MethodGet, uri, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			return e.do(req)
		}
		invalid := func(what string, got rawResponse) {
			t.Helper()
			if got.status != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401 (body %q)", what, got.status, got.raw)
			}
			if h := got.header.Get("WWW-Authenticate"); h != `Bearer error="invalid_token"` {
				t.Errorf("%s: WWW-Authenticate %q, want Bearer error=\"invalid_token\"", what, h)
			}
			if got.body["error"] != "invalid_token" {
				t.Errorf("%s: body %q, want error invalid_token", what, got.raw)
			}
		}

		if got := get(tok.raw.AccessToken); got.status != http.StatusOK || got.body["sub"] == nil {
			t.Fatalf("valid token: %d %q", got.status, got.raw)
		}
		// No token at all: the bare challenge, no error code (section 3.1).
		got := get("")
		if got.status != http.StatusUnauthorized || !strings.HasPrefix(got.header.Get("WWW-Authenticate"), "Bearer") ||
			strings.Contains(got.header.Get("WWW-Authenticate"), "error=") {
			t.Errorf("missing token: %d WWW-Authenticate %q (body %q), want 401 with a bare Bearer challenge",
				got.status, got.header.Get("WWW-Authenticate"), got.raw)
		}
		invalid("bogus token", get("not-a-token"))

		// Revoked: the access token is revoked at the revocation endpoint.
		if status := r.revoke(tok.raw.AccessToken, "access_token"); status != http.StatusOK {
			t.Fatalf("revoke: %d", status)
		}
		invalid("revoked token", get(tok.raw.AccessToken))

		// Expired.
		e.signInAs(e.newUser(), time.Time{})
		f2 := newFlow()
		tok2 := r.mustExchange(r.signIn(e.browser(), f2), f2)
		e.clock.advance(6 * time.Minute)
		invalid("expired token", get(tok2.raw.AccessToken))
	})
}

// RFC 6749 section 5.2 and RFC 7662 / RFC 7009, which use it.
func TestFailedClientAuthenticationIsInvalidClient(t *testing.T) {
	e := newEnv(t, memorySQLite(t), nil)
	e.signInAs(e.newUser(), time.Time{})
	r := e.rp("formapp")
	endpoints := map[string]url.Values{
		"token_endpoint":         {"grant_type": {"authorization_code"}, "redirect_uri": {r.conf.RedirectURL}},
		"introspection_endpoint": {"token": {"bogus"}},
		"revocation_endpoint":    {"token": {"bogus"}},
	}
	for name, form := range endpoints {
		uri := r.endpoint(name)
		// The token endpoint looks the code up first: give it a real one each time.
		freshCode := func() {
			if name == "token_endpoint" {
				f := newFlow()
				form.Set("code", r.signIn(e.browser(), f))
				form.Set("code_verifier", f.verifier)
			}
		}
		freshCode()

		req := formRequest(uri, form)
		req.SetBasicAuth("formapp", "not-the-secret")
		got := e.do(req)
		wantJSONError(t, name+" wrong Basic secret", got, http.StatusUnauthorized, "invalid_client")
		if h := got.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Basic") {
			t.Errorf("%s wrong Basic secret: WWW-Authenticate %q, want a Basic challenge", name, h)
		}

		freshCode()
		req = formRequest(uri, form)
		req.SetBasicAuth("no-such-client", "whatever")
		got = e.do(req)
		wantJSONError(t, name+" unknown client id", got, http.StatusUnauthorized, "invalid_client")
		if h := got.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Basic") {
			t.Errorf("%s unknown client id: WWW-Authenticate %q, want a Basic challenge", name, h)
		}

		freshCode()
		post := url.Values{"client_id": {"formapp"}, "client_secret": {"not-the-secret"}}
		for k, v := range form {
			post[k] = v
		}
		got = e.do(formRequest(uri, post))
		wantJSONError(t, name+" wrong client_secret_post", got, http.StatusUnauthorized, "invalid_client")
		if h := got.header.Get("WWW-Authenticate"); h != "" {
			t.Errorf("%s wrong client_secret_post: WWW-Authenticate %q, want none (Basic was not used)", name, h)
		}
	}
	// No credentials at all at introspection (a confidential-only endpoint).
	got := e.do(formRequest(r.endpoint("introspection_endpoint"), url.Values{"token": {"bogus"}}))
	wantJSONError(t, "introspection without credentials", got, http.StatusUnauthorized, "invalid_client")
}

// Discovery advertises client_secret_post for introspection.
func TestIntrospectionWithClientSecretPost(t *testing.T) {
	e := newEnv(t, memorySQLite(t), nil)
	e.signInAs(e.newUser(), time.Time{})
	r := e.rp("formapp")
	f := newFlow()
	tok := r.mustExchange(r.signIn(e.browser(), f), f)

	got := e.do(formRequest(r.endpoint("introspection_endpoint"), url.Values{
		"token": {tok.raw.AccessToken}, "client_id": {"formapp"}, "client_secret": {e.secrets["formapp"]},
	}))
	if got.status != http.StatusOK || got.body["active"] != true || got.body["client_id"] != "formapp" {
		t.Fatalf("introspection with client_secret_post: %d %q, want 200 active", got.status, got.raw)
	}
}

// RFC 7662: a refresh token introspects active while it can be used, for its
// own client only.
func TestIntrospectRefreshToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) stores) {
		e := newEnv(t, open(t), nil)
		e.signInAs(e.newUser(), time.Time{})
		r := e.rp("formapp")
		f := newFlow()
		tok := r.mustExchange(r.signIn(e.browser(), f), f)
		rt := tok.raw.RefreshToken
		if rt == "" {
			t.Fatal("no refresh token")
		}
		got := r.introspect(rt)
		if got["active"] != true || got["client_id"] != "formapp" || got["sub"] != tok.idToken.Subject ||
			!strings.Contains(got["scope"].(string), "offline_access") {
			t.Fatalf("refresh token introspection: %v, want active for formapp", got)
		}
		if exp, _ := got["exp"].(float64); int64(exp) <= e.clock.now().Unix() {
			t.Errorf("exp %v not in the future", got["exp"])
		}
		if got := e.rp("other").introspect(rt); got["active"] != false {
			t.Errorf("another client's introspection: %v, want inactive", got)
		}
		// Rotated: the old one is no longer active.
		if _, err := r.refresh(rt); err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if got := r.introspect(rt); got["active"] != false {
			t.Errorf("rotated refresh token: %v, want inactive", got)
		}
	})
}

// Discovery names only endpoints that answer, and every claim the ID token
// and userinfo carry.
func TestDiscoveryListsWhatExists(t *testing.T) {
	e := newEnv(t, memorySQLite(t), nil)
	e.signInAs(e.newUser(), time.Time{})
	r := e.rp("formapp")
	var doc map[string]any
	if err := r.provider.Claims(&doc); err != nil {
		t.Fatal(err)
	}
	for k, v := range doc {
		if !strings.HasSuffix(k, "_endpoint") {
			continue
		}
		s, _ := v.(string)
		if !strings.HasPrefix(s, e.issuer+"/") {
			t.Errorf("%s = %v: not on the issuer", k, v)
			continue
		}
		// Every endpoint answers something other than 404 to a bare request (a
		// redirect counts: /end_session sends a bare request to the login pages'
		// logout question, which this test server does not have).
		noFollow := *e.srv.Client()
		noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := noFollow.Get(s)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			t.Errorf("%s = %s answers 404", k, s)
		}
	}
	if _, ok := doc["device_authorization_endpoint"]; ok {
		t.Errorf("device_authorization_endpoint advertised")
	}

	var supported []string
	for _, c := range doc["claims_supported"].([]any) {
		supported = append(supported, c.(string))
	}
	f := newFlow()
	tok := r.mustExchange(r.signIn(e.browser(), f), f)
	info, err := r.userinfo(tok.raw.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	for what, claims := range map[string]map[string]any{"ID token": tok.claims, "userinfo": info} {
		for c := range claims {
			if !slices.Contains(supported, c) {
				t.Errorf("%s carries %q, not in claims_supported %v", what, c, supported)
			}
		}
	}
}

// RFC 6749 section 3.1: a parameter sent twice is invalid_request, sent back
// to the (validated) redirect URI.
func TestAuthorizeRepeatedParameter(t *testing.T) {
	e := newEnv(t, memorySQLite(t), nil)
	e.signInAs(e.newUser(), time.Time{})
	r := e.rp("formapp")
	for _, name := range []string{"state", "response_type", "client_id", "redirect_uri", "scope", "nonce"} {
		t.Run(name, func(t *testing.T) {
			f := newFlow()
			u, _ := url.Parse(r.authURL(f))
			q := u.Query()
			q.Add(name, q.Get(name)) // the same value again
			u.RawQuery = q.Encode()
			res := e.visit(e.browser(), u.String())
			if res.param("error") != "invalid_request" || res.param("state") != f.state || res.param("iss") != e.issuer {
				t.Errorf("callback %v (status %d %q), want error=invalid_request with state", res.callback, res.status, res.body)
			}
		})
	}
}

// A userinfo request that cannot be checked because Redis is down is not a
// bad token: the form app must not throw the token away.
func TestUserinfoWithRedisDownIsUnavailable(t *testing.T) {
	rs := storetest.StartRedis(t)
	e := newEnv(t, postgresAndRedis(t, rs), nil)
	e.signInAs(e.newUser(), time.Time{})
	r := e.rp("formapp")
	f := newFlow()
	tok := r.mustExchange(r.signIn(e.browser(), f), f)
	get := func() rawResponse {
		req, _ := http.NewRequest(http.MethodGet, r.endpoint("userinfo_endpoint"), nil)
		req.Header.Set("Authorization", "Bearer "+tok.raw.AccessToken)
		return e.do(req)
	}
	rs.Stop()
	got := get()
	rs.Start() // (a throwaway Redis: the access token does not survive the restart)
	wantJSONError(t, "userinfo with Redis down", got, http.StatusServiceUnavailable, "temporarily_unavailable")
	if h := got.header.Get("WWW-Authenticate"); h != "" {
		t.Errorf("userinfo with Redis down: WWW-Authenticate %q, want none", h)
	}
}
