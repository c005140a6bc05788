package provider

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func authTimeOf(t *testing.T, tok *tokens) int64 {
	t.Helper()
	v, ok := tok.claims["auth_time"].(float64)
	if !ok {
		t.Fatalf("no auth_time in %v", tok.claims)
	}
	return int64(v)
}

func TestSingleSignOnAndPromptNone(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		u := e.newUser()
		e.signInAs(u, time.Time{})
		b := e.browser()
		formapp, other := e.rp("formapp"), e.rp("other")

		// No session yet: prompt=none goes straight back with login_required.
		f := newFlow()
		res := e.visit(b, formapp.authURL(f, oauth2.SetAuthURLParam("prompt", "none")))
		if res.param("error") != "login_required" || res.param("state") != f.state || res.param("iss") != e.issuer {
			t.Fatalf("prompt=none without a session: %v (status %d), want login_required", res.callback, res.status)
		}
		if n := e.logins.Load(); n != 0 {
			t.Fatalf("login page ran %d times for prompt=none", n)
		}

		f = newFlow()
		first := formapp.mustExchange(formapp.signIn(b, f), f)
		if n := e.logins.Load(); n != 1 {
			t.Fatalf("logins = %d, want 1", n)
		}

		// A second form app in the same browser: no login page.
		f = newFlow()
		second := other.mustExchange(other.signIn(b, f), f)
		if second.claims["sub"] != u.ID || authTimeOf(t, second) != authTimeOf(t, first) {
			t.Errorf("SSO: sub %v auth_time %d, want %s and %d", second.claims["sub"], authTimeOf(t, second), u.ID, authTimeOf(t, first))
		}
		// prompt=none with a session, and with the id_token_hint of that person.
		f = newFlow()
		silent := other.mustExchange(other.signIn(b, f, oauth2.SetAuthURLParam("prompt", "none"),
			oauth2.SetAuthURLParam("id_token_hint", first.rawID)), f)
		if silent.claims["sub"] != u.ID {
			t.Errorf("silent sub = %v", silent.claims["sub"])
		}
		if n := e.logins.Load(); n != 1 {
			t.Errorf("login page ran %d times, want once", n)
		}
		// Unknown parameters and hints do not break the flow.
		f = newFlow()
		other.signIn(b, f, oauth2.SetAuthURLParam("ui_locales", "cy"), oauth2.SetAuthURLParam("display", "page"),
			oauth2.SetAuthURLParam("acr_values", ACRMultiFactor), oauth2.SetAuthURLParam("login_hint", u.Email),
			oauth2.SetAuthURLParam("claims_locales", "en"), oauth2.SetAuthURLParam("made_up", "x"))

		// Another person's id_token_hint with prompt=none: login_required.
		e.signInAs(e.newUser(), time.Time{})
		b2 := e.browser()
		f = newFlow()
		otherPerson := formapp.mustExchange(formapp.signIn(b2, f), f)
		f = newFlow()
		res = e.visit(b, formapp.authURL(f, oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", otherPerson.rawID)))
		if res.param("error") != "login_required" {
			t.Errorf("prompt=none with someone else's hint: %v", res.callback)
		}
	})
}

func TestPromptLoginAndMaxAgeForceSignIn(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		u := e.newUser()
		hourAgo := time.Now().Add(-time.Hour).Truncate(time.Second)
		e.signInAs(u, hourAgo)
		b := e.browser()
		r := e.rp("formapp")
		f := newFlow()
		first := r.mustExchange(r.signIn(b, f), f)
		if authTimeOf(t, first) != hourAgo.Unix() {
			t.Fatalf("auth_time %d, want %d", authTimeOf(t, first), hourAgo.Unix())
		}

		// max_age larger than the session's age: silent.
		f = newFlow()
		tok := r.mustExchange(r.signIn(b, f, oauth2.SetAuthURLParam("max_age", "10000")), f)
		if e.logins.Load() != 1 || authTimeOf(t, tok) != hourAgo.Unix() {
			t.Fatalf("max_age=10000: logins %d auth_time %d", e.logins.Load(), authTimeOf(t, tok))
		}

		for i, opt := range []oauth2.AuthCodeOption{
			oauth2.SetAuthURLParam("prompt", "login"),
			oauth2.SetAuthURLParam("max_age", "0"),
			oauth2.SetAuthURLParam("max_age", "60"),
		} {
			fresh := time.Now().Add(time.Duration(-50+i) * time.Minute).Truncate(time.Second)
			e.signInAs(u, fresh)
			before := e.logins.Load()
			f = newFlow()
			tok = r.mustExchange(r.signIn(b, f, opt), f)
			if e.logins.Load() != before+1 {
				t.Errorf("case %d did not show the login page", i)
			}
			if authTimeOf(t, tok) != fresh.Unix() {
				t.Errorf("case %d: auth_time %d, want the new sign-in's %d", i, authTimeOf(t, tok), fresh.Unix())
			}
		}
		// prompt=none after a max_age failure still sees the new session.
		f = newFlow()
		r.mustExchange(r.signIn(b, f, oauth2.SetAuthURLParam("prompt", "none")), f)
		// prompt=none with max_age the session is too old for: login_required.
		f = newFlow()
		res := e.visit(b, r.authURL(f, oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("max_age", "1")))
		if res.param("error") != "login_required" {
			t.Errorf("prompt=none max_age=1: %v", res.callback)
		}
	})
}

func TestLoginRequestForThePages(t *testing.T) {
	e := newEnv(t, memorySQLite(t), nil)
	r := e.rp("formapp")
	b := e.browser()
	b.CheckRedirect = func(req *http.Request, via []*http.Request) error { return http.ErrUseLastResponse }
	f := newFlow()
	resp, err := b.Get(r.authURL(f, oauth2.SetAuthURLParam("login_hint", "ann@example.org"), oauth2.SetAuthURLParam("max_age", "300")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// /authorize -> /authorize/continue -> /login?authRequestID=...
	loc, _ := resp.Request.URL.Parse(resp.Header.Get("Location"))
	resp, err = b.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ = resp.Request.URL.Parse(resp.Header.Get("Location"))
	if loc.Path != "/login" {
		t.Fatalf("sent to %v, want /login", loc)
	}
	lr, err := e.p.LoginRequest(e.requestFrom(b), loc.Query().Get("authRequestID"))
	if err != nil {
		t.Fatal(err)
	}
	if lr.ClientID != "formapp" || lr.ClientName != "Make a social care referral" || lr.LoginHint != "ann@example.org" ||
		lr.MaxAge == nil || *lr.MaxAge != 5*time.Minute || lr.ForceLogin() || lr.RedirectURI != r.conf.RedirectURL {
		t.Errorf("login request = %+v", lr)
	}
	if _, err := e.p.LoginRequest(e.requestFrom(b), "no-such-request"); err != ErrUnknownAuthRequest {
		t.Errorf("unknown id: %v", err)
	}
	// Complete refuses a user that does not exist.
	req := e.requestFrom(b)
	if _, err := e.p.Complete(nilWriter{}, req, lr.ID, Authentication{UserID: "ghost", AMR: []string{"pwd"}}); err == nil {
		t.Error("Complete accepted an unknown user")
	}
}

func TestEndSession(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		e.signInAs(e.newUser(), time.Time{})
		b := e.browser()
		r := e.rp("formapp")
		f := newFlow()
		tok := r.mustExchange(r.signIn(b, f), f)
		endSession := r.endpoint("end_session_endpoint")

		// An unregistered post-logout URI: an error page, no redirect.
		q := url.Values{"id_token_hint": {tok.rawID}, "post_logout_redirect_uri": {"https://evil.example/"}}
		res := e.visit(b, endSession+"?"+q.Encode())
		if res.callback != nil || res.status != http.StatusBadRequest || !strings.Contains(res.body, "could not be signed out") {
			t.Fatalf("bad post-logout URI: status %d callback %v body %q", res.status, res.callback, res.body)
		}

		q = url.Values{"id_token_hint": {tok.rawID}, "post_logout_redirect_uri": {"https://" + rpHost + "/formapp/signed-out"}, "state": {"s1"}}
		res = e.visit(b, endSession+"?"+q.Encode())
		if res.callback == nil || res.callback.Path != "/formapp/signed-out" || res.param("state") != "s1" {
			t.Fatalf("logout: status %d callback %v", res.status, res.callback)
		}
		// The IdP session is over ...
		f = newFlow()
		if res := e.visit(b, r.authURL(f, oauth2.SetAuthURLParam("prompt", "none"))); res.param("error") != "login_required" {
			t.Errorf("prompt=none after logout: %v", res.callback)
		}
		// ... and so are the client's tokens.
		if _, err := r.refresh(tok.raw.RefreshToken); oauthErrorCode(err) != "invalid_grant" {
			t.Errorf("refresh after logout: %v", err)
		}
		if _, err := r.userinfo(tok.raw.AccessToken); err == nil {
			t.Error("access token still works after logout")
		}
		// Without an id_token_hint the provider does not sign out: it sends
		// the browser to the question (the login pages' /logout), keeping the
		// registered post-logout URI and state.
		noFollow := &http.Client{Jar: b.Jar, Transport: b.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		q = url.Values{"client_id": {"formapp"}, "post_logout_redirect_uri": {"https://" + rpHost + "/formapp/signed-out"}, "state": {"s2"}}
		resp, err := noFollow.Get(endSession + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != LogoutQuestionPath+"?"+q.Encode() {
			t.Fatalf("end_session without a hint: %d %q, want 302 to the question", resp.StatusCode, loc)
		}
		// Signed out, the provider shows its own page.
		res = e.visit(b, e.issuer+"/logged-out")
		if res.status != http.StatusOK || !strings.Contains(res.body, "You have signed out") {
			t.Fatalf("/logged-out: status %d body %q", res.status, res.body)
		}
	})
}

func TestRevokeUserTokensAndSessionUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		u := e.newUser()
		e.signInAs(u, time.Time{})
		b := e.browser()
		r := e.rp("formapp")
		f := newFlow()
		tok := r.mustExchange(r.signIn(b, f), f)

		req := browserRequest(t, e, b)
		if id, ok := e.p.SessionUser(req); !ok || id != u.ID {
			t.Fatalf("SessionUser = %q %v", id, ok)
		}
		if err := e.p.RevokeUserTokens(context.Background(), u.ID); err != nil {
			t.Fatal(err)
		}
		if _, ok := e.p.SessionUser(req); ok {
			t.Error("session survived RevokeUserTokens")
		}
		if _, err := r.refresh(tok.raw.RefreshToken); oauthErrorCode(err) != "invalid_grant" {
			t.Errorf("refresh after RevokeUserTokens: %v", err)
		}
		if in := r.introspect(tok.raw.AccessToken); in["active"] != false {
			t.Errorf("access token after RevokeUserTokens: %v", in)
		}
		// Signing in again afterwards works.
		f = newFlow()
		again := r.mustExchange(r.signIn(b, f), f)
		if _, err := r.userinfo(again.raw.AccessToken); err != nil {
			t.Errorf("new sign-in after revocation: %v", err)
		}
	})
}

// browserRequest builds a request carrying the browser's cookies for the IdP.
func browserRequest(t *testing.T, e *env, b *http.Client) *http.Request {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/account", nil)
	iss, _ := url.Parse(e.issuer)
	for _, c := range b.Jar.Cookies(iss) {
		req.AddCookie(c)
	}
	if len(req.Cookies()) == 0 {
		t.Fatal("browser has no IdP cookie")
	}
	return req
}

type nilWriter struct{}

func (nilWriter) Header() http.Header         { return http.Header{} }
func (nilWriter) Write(b []byte) (int, error) { return io.Discard.Write(b) }
func (nilWriter) WriteHeader(int)             {}

func TestSessionCookieAttributes(t *testing.T) {
	e := newEnv(t, memorySQLite(t), nil)
	e.signInAs(e.newUser(), time.Time{})
	b := e.browser()
	var setCookie string
	b.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if sc := req.Response.Header.Get("Set-Cookie"); sc != "" {
			setCookie = sc
		}
		if req.URL.Host == rpHost {
			return http.ErrUseLastResponse
		}
		return nil
	}
	r := e.rp("formapp")
	r.signIn(b, newFlow())
	for _, want := range []string{SessionCookie + "=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(setCookie, want) {
			t.Errorf("Set-Cookie %q lacks %q", setCookie, want)
		}
	}
	if strings.Contains(setCookie, "Domain=") {
		t.Errorf("__Host- cookie with a Domain: %q", setCookie)
	}
}

// With Config.Login set, the continue step serves the login pages in its own
// response (no redirect to LoginPath), as a request for
// LoginPath?authRequestID=ID; an unknown id gets the expired-sign-in page.
func TestContinueServesLoginInPlace(t *testing.T) {
	var seen struct {
		path, id string
		calls    int
	}
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.calls++
		seen.path, seen.id = r.URL.Path, r.URL.Query().Get("authRequestID")
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "the sign-in page")
	})
	e := newEnv(t, memorySQLite(t), func(c *Config) { c.Login = login })
	r := e.rp("formapp")
	b := e.browser()
	f := newFlow()
	resp, err := b.Get(r.authURL(f))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "the sign-in page" || resp.Request.URL.Path != "/authorize/continue" {
		t.Fatalf("got %d %q at %v, want the login handler's page at /authorize/continue", resp.StatusCode, body, resp.Request.URL)
	}
	if resp.Request.Response == nil || resp.Request.Response.Request.URL.Path != "/authorize" {
		t.Errorf("want exactly /authorize -> /authorize/continue, got %v", resp.Request.URL)
	}
	if seen.calls != 1 || seen.path != "/login" {
		t.Fatalf("login handler saw %d calls, path %q", seen.calls, seen.path)
	}
	lr, err := e.p.LoginRequest(e.requestFrom(b), seen.id)
	if err != nil || lr.ClientID != "formapp" {
		t.Fatalf("login request %q: %+v, %v", seen.id, lr, err)
	}
	if e.logins.Load() != 0 {
		t.Errorf("the redirect-based login ran too")
	}

	resp, err = b.Get(e.issuer + "/authorize/continue?id=no-such-request")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "Your sign-in has expired") || seen.calls != 1 {
		t.Errorf("unknown id: %d %q (login calls %d)", resp.StatusCode, body, seen.calls)
	}
}

// pendingRequest starts a sign-in in browser b and returns its request id (the
// login page is where it stops).
func (e *env) pendingRequest(b *http.Client) string {
	e.t.Helper()
	r := e.rp("formapp")
	stop := *b
	stop.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := stop.Get(r.authURL(newFlow()))
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := resp.Request.URL.Parse(resp.Header.Get("Location"))
	id := loc.Query().Get("id")
	if loc.Path != "/authorize/continue" || id == "" {
		e.t.Fatalf("/authorize sent to %v", loc)
	}
	return id
}

// Complete and LoginRequest belong to the browser that started the request;
// completing twice in it (a double click) gives the same redirect, one code.
func TestCompleteIsBoundToTheStartingBrowser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		u := e.newUser()
		owner, other := e.browser(), e.browser()
		id := e.pendingRequest(owner)
		other.Get(e.issuer + "/.well-known/openid-configuration") // a browser with cookies of its own
		if _, err := e.p.LoginRequest(e.requestFrom(other), id); !errors.Is(err, ErrOtherBrowser) {
			t.Fatalf("LoginRequest from another browser: %v, want ErrOtherBrowser", err)
		}
		a := Authentication{UserID: u.ID, AMR: []string{"pwd", "sms"}}
		if _, err := e.p.Complete(nilWriter{}, e.requestFrom(other), id, a); !errors.Is(err, ErrOtherBrowser) {
			t.Fatalf("Complete from another browser: %v, want ErrOtherBrowser", err)
		}
		first, err := e.p.Complete(nilWriter{}, e.requestFrom(owner), id, a)
		if err != nil {
			t.Fatal(err)
		}
		second, err := e.p.Complete(nilWriter{}, e.requestFrom(owner), id, a)
		if err != nil || second != first {
			t.Fatalf("second Complete = %q, %v; want the first redirect %q", second, err, first)
		}
		u1, _ := url.Parse(first)
		if !strings.HasPrefix(first, "https://"+rpHost+"/formapp/callback?") || u1.Query().Get("code") == "" {
			t.Fatalf("redirect %q carries no code", first)
		}
		// Once redeemed, the request cannot be completed again.
		if _, err := e.st.eph.Take(context.Background(), keyCode+hashToken(u1.Query().Get("code"))); err != nil {
			t.Fatal(err)
		}
		if _, err := e.p.Complete(nilWriter{}, e.requestFrom(owner), id, a); !errors.Is(err, ErrUnknownAuthRequest) {
			t.Fatalf("Complete after the code was taken: %v, want ErrUnknownAuthRequest", err)
		}
	})
}
