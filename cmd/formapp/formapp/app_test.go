package formapp

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// formApp is the form app under test, served on a real port, and a browser
// for it that keeps cookies and does not follow redirects (so each test
// sees where it is sent).
type formApp struct {
	t    *testing.T
	app  *App
	base string
	c    *http.Client
}

type response struct {
	url      *url.URL // the request's URL
	status   int
	location string
	body     string
	header   http.Header
}

// newFormApp starts the form app for ti. edit may change the configuration.
func newFormApp(t *testing.T, ti *testIssuer, edit func(*Config)) *formApp {
	t.Helper()
	return newFormAppLogging(t, ti, edit, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// newFormAppLogging is newFormApp with the app logging to log.
func newFormAppLogging(t *testing.T, ti *testIssuer, edit func(*Config), log *slog.Logger) *formApp {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	cfg := Config{
		Addr:                  srv.Listener.Addr().String(),
		Issuer:                ti.issuer,
		ClientID:              "demo-formapp",
		RedirectURL:           base + "/callback",
		PostLogoutRedirectURL: base + "/signed-out",
	}
	if edit != nil {
		edit(&cfg)
	}
	app, err := New(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv.Config.Handler = app.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return &formApp{t: t, app: app, base: base, c: newBrowserClient()}
}

// newBrowserClient keeps cookies and does not follow redirects.
func newBrowserClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (f *formApp) do(req *http.Request) response {
	f.t.Helper()
	res, err := f.c.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 500 && res.StatusCode != http.StatusServiceUnavailable && res.StatusCode != http.StatusBadGateway {
		f.t.Fatalf("%s %s: status %d", req.Method, req.URL, res.StatusCode)
	}
	return response{url: req.URL, status: res.StatusCode, location: res.Header.Get("Location"), body: string(body), header: res.Header}
}

// get fetches a path of the form app, or an absolute URL.
func (f *formApp) get(target string, header ...string) response {
	f.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = f.base + target
	}
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return f.do(req)
}

func (f *formApp) post(path string, form url.Values, header ...string) response {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return f.do(req)
}

// cookie returns the session cookie's value.
func (f *formApp) cookie() string {
	u, _ := url.Parse(f.base)
	for _, c := range f.c.Jar.Cookies(u) {
		if c.Name == f.app.cookieName() {
			return c.Value
		}
	}
	return ""
}

// signIn goes from the 'Login or Register' button through the test issuer
// and back, returning where the callback sends the browser.
func (f *formApp) signIn(ti *testIssuer, next string, claims map[string]any) response {
	f.t.Helper()
	res := f.post("/login", url.Values{"next": {next}})
	if res.status != http.StatusFound {
		f.t.Fatalf("Login or Register: status %d, want 302 to the provider; body:\n%s", res.status, res.body)
	}
	req := ti.parseAuthRequest(res.location)
	return f.get(ti.authorize(req, claims))
}

func wantStatus(t *testing.T, what string, res response, status int) {
	t.Helper()
	if res.status != status {
		t.Fatalf("%s: status %d, want %d (location %q); body:\n%s", what, res.status, status, res.location, res.body)
	}
}

func wantRedirect(t *testing.T, what string, res response, location string) {
	t.Helper()
	if res.status != http.StatusSeeOther || res.location != location {
		t.Fatalf("%s: status %d to %q, want 303 to %q", what, res.status, res.location, location)
	}
}

func wantBody(t *testing.T, what string, res response, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(res.body, s) {
			t.Errorf("%s: page does not contain %q; body:\n%s", what, s, res.body)
		}
	}
}

func wantNotBody(t *testing.T, what string, res response, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(res.body, s) {
			t.Errorf("%s: page contains %q but should not", what, s)
		}
	}
}

var (
	pageOne = url.Values{
		"person-name":       {"Ann Example"},
		"person-dob-or-age": {"27 3 1950"},
		"person-address":    {"1 Market Street\nNorwich"},
		"person-postcode":   {"nr1 2dh"},
	}
	pageTwo   = url.Values{"concern": {"Ann has had several falls and lives alone."}, "immediate-risk": {"no"}}
	adaClaims = map[string]any{
		"given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.org", "email_verified": true,
	}
)

// The whole story of the council guide, from the form app's side: page one
// before signing in, the guide's message and 'Login or Register', the
// authorization request (PKCE S256, state, nonce), back on page two with
// page one kept and the name in the header, prefilled referrer, check
// answers, submission, and sign-out at the provider with id_token_hint.
func TestReferralKeepsAnswersAcrossSignIn(t *testing.T) {
	ti := newTestIssuer(t, "")
	f := newFormApp(t, ti, nil)

	wantRedirect(t, "home", f.get("/"), "/person")
	res := f.get("/person")
	wantStatus(t, "page one", res, http.StatusOK)
	wantBody(t, "page one", res, "<h1 class=\"govuk-heading-l\">About the person you are referring</h1>", "Make a social care referral", ">Continue</button>")
	wantNotBody(t, "page one", res, "Signed in as")

	res = f.post("/person", pageOne)
	wantRedirect(t, "page one Continue", res, "/sign-in?next=%2Fconcern")
	res = f.get(res.location)
	wantStatus(t, "interstitial", res, http.StatusOK)
	wantBody(t, "interstitial", res,
		"In order to progress with this form you must either log in or complete a simple registration",
		`<input type="hidden" name="next" value="/concern">`,
		">Login or Register</button>")
	before := f.cookie()

	res = f.post("/login", url.Values{"next": {"/concern"}})
	wantStatus(t, "Login or Register", res, http.StatusFound)
	req := ti.parseAuthRequest(res.location)
	for name, want := range map[string]string{
		"response_type":         "code",
		"client_id":             "demo-formapp",
		"redirect_uri":          f.base + "/callback",
		"scope":                 "openid profile email phone",
		"code_challenge_method": "S256",
	} {
		if got := req.Get(name); got != want {
			t.Errorf("authorization request %s = %q, want %q", name, got, want)
		}
	}
	for _, name := range []string{"state", "nonce", "code_challenge"} {
		if len(req.Get(name)) < 22 {
			t.Errorf("authorization request %s = %q, want a random value", name, req.Get(name))
		}
	}
	if req.Get("state") == req.Get("nonce") {
		t.Error("state and nonce are the same value")
	}

	res = f.get(ti.authorize(req, adaClaims))
	wantRedirect(t, "callback", res, "/concern")
	if after := f.cookie(); after == "" || after == before {
		t.Errorf("session id not replaced at sign-in (before %q, after %q)", before, after)
	}

	res = f.get("/concern")
	wantStatus(t, "page two", res, http.StatusOK)
	wantBody(t, "page two", res, "About your concern", "Signed in as <strong>Ada Lovelace</strong>", ">Sign out</a>")
	res = f.get("/person")
	wantBody(t, "page one after sign-in", res, `value="Ann Example"`, `value="27 3 1950"`, "1 Market Street\nNorwich</textarea>", `value="NR1 2DH"`)

	wantRedirect(t, "page two Continue", f.post("/concern", pageTwo), "/referrer")
	res = f.get("/referrer")
	wantBody(t, "page three", res, "About you (the referrer)", `value="Ada Lovelace"`, `value="ada@example.org"`)

	res = f.post("/referrer", url.Values{"referrer-name": {"Ada Lovelace"}, "referrer-email": {"ada@example.org"}})
	wantStatus(t, "page three without organisation", res, http.StatusUnprocessableEntity)
	wantBody(t, "page three errors", res, `<a href="#organisation">Enter your organisation</a>`, `<a href="#role">Enter your role</a>`)
	wantRedirect(t, "page three Continue", f.post("/referrer", url.Values{
		"referrer-name": {"Ada Lovelace"}, "referrer-email": {"ada@example.org"},
		"organisation": {"Norwich Medical Practice"}, "role": {"Practice nurse"},
	}), "/check")

	res = f.get("/check")
	wantStatus(t, "check answers", res, http.StatusOK)
	wantBody(t, "check answers", res, "govuk-summary-list", "Ann Example", "NR1 2DH", "1 Market Street<br>Norwich",
		"Ann has had several falls", "Norwich Medical Practice", `href="/person?change=1#person-name"`, ">Accept and send</button>")

	// Changing an answer goes back to check answers.
	wantRedirect(t, "change an answer", f.post("/person?change=1", pageOne), "/check")

	wantRedirect(t, "Accept and send", f.post("/check", nil), "/submitted")
	res = f.get("/submitted")
	wantBody(t, "submitted", res, "govuk-panel--confirmation", "Referral submitted")
	if !regexp.MustCompile(`<strong>SCR-[A-Z0-9]{4}-[A-Z0-9]{4}</strong>`).MatchString(res.body) {
		t.Errorf("submitted page has no reference number:\n%s", res.body)
	}

	res = f.get("/sign-out")
	if res.status != http.StatusSeeOther {
		t.Fatalf("sign out: status %d, want 303", res.status)
	}
	end, err := url.Parse(res.location)
	if err != nil || end.Scheme+"://"+end.Host+end.Path != ti.issuer+"/end_session" {
		t.Fatalf("sign out sent to %q, want the provider's end_session_endpoint", res.location)
	}
	q := end.Query()
	if q.Get("post_logout_redirect_uri") != f.base+"/signed-out" || q.Get("state") == "" || q.Get("client_id") != "demo-formapp" {
		t.Errorf("end session request %v lacks post_logout_redirect_uri, state or client_id", q)
	}
	if hint := q.Get("id_token_hint"); strings.Count(hint, ".") != 2 {
		t.Errorf("id_token_hint = %q, want the ID token", hint)
	}
	wantRedirect(t, "page two after sign-out", f.get("/concern"), "/sign-in?next=%2Fconcern")
	wantBody(t, "signed out", f.get("/signed-out"), "You have signed out")
}

func TestSignedInAsFallsBackToNameClaim(t *testing.T) {
	for _, tc := range []struct {
		p    Person
		want string
	}{
		{Person{Name: "Ada King", GivenName: "Ada", FamilyName: "Lovelace"}, "Ada King"},
		{Person{GivenName: "Ada", FamilyName: "Lovelace"}, "Ada Lovelace"},
		{Person{GivenName: "Ada"}, "Ada"},
		{Person{Email: "ada@example.org"}, "ada@example.org"},
	} {
		if got := tc.p.DisplayName(); got != tc.want {
			t.Errorf("DisplayName(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestPageOneErrors(t *testing.T) {
	ti := newTestIssuer(t, "")
	f := newFormApp(t, ti, nil)
	res := f.post("/person", url.Values{"person-name": {"Ann Example"}, "person-postcode": {"not a postcode"}})
	wantStatus(t, "page one with errors", res, http.StatusUnprocessableEntity)
	wantBody(t, "page one with errors", res,
		"<title>Error: About the person you are referring",
		"There is a problem",
		`<a href="#person-dob-or-age">Enter their date of birth or age</a>`,
		`<a href="#person-address">Enter their address</a>`,
		`<a href="#person-postcode">Enter a real postcode, like NR1 2DH</a>`,
		`<p id="person-postcode-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> Enter a real postcode, like NR1 2DH</p>`,
		`aria-describedby="person-postcode-error"`,
		`value="Ann Example"`)
	wantNotBody(t, "page one with errors", res, `href="#person-name"`)
	// What was typed is kept even though the page had errors.
	wantBody(t, "page one again", f.get("/person"), `value="Ann Example"`)
}

func TestPageTwoErrors(t *testing.T) {
	ti := newTestIssuer(t, "")
	f := newFormApp(t, ti, nil)
	f.post("/person", pageOne)
	f.signIn(ti, "/concern", adaClaims)
	res := f.post("/concern", url.Values{})
	wantStatus(t, "page two with errors", res, http.StatusUnprocessableEntity)
	wantBody(t, "page two with errors", res, `<a href="#concern">Enter what your concern is</a>`,
		`<a href="#immediate-risk">Select yes if the person is at immediate risk</a>`, "govuk-radios")
}

func TestLaterPagesNeedEarlierOnes(t *testing.T) {
	ti := newTestIssuer(t, "")
	f := newFormApp(t, ti, nil)
	wantRedirect(t, "check answers, signed out", f.get("/check"), "/sign-in?next=/check")
	res := f.signIn(ti, "/referrer", adaClaims)
	wantRedirect(t, "callback", res, "/referrer")
	wantRedirect(t, "page three before page one", f.get("/referrer"), "/person")
	wantRedirect(t, "check answers before page one", f.get("/check"), "/person")
	wantRedirect(t, "submit before page one", f.post("/check", nil), "/person")
	wantRedirect(t, "submitted before submitting", f.get("/submitted"), "/person")
}

func TestReturnAddressStaysOnTheForm(t *testing.T) {
	ti := newTestIssuer(t, "")
	f := newFormApp(t, ti, nil)
	res := f.get("/sign-in?next=" + url.QueryEscape("https://evil.example/"))
	wantBody(t, "interstitial", res, `<input type="hidden" name="next" value="/concern">`)
	res = f.signIn(ti, "//evil.example/", adaClaims)
	wantRedirect(t, "callback", res, "/concern")
}

func TestCallbackFailuresShowTryAgain(t *testing.T) {
	tests := []struct {
		name   string
		answer func(ti *testIssuer, req authRequest) url.Values // nil: a good code
		nonce  string                                           // issuer puts this nonce in the ID token
		status int
		title  string
	}{
		{
			name: "access denied",
			answer: func(ti *testIssuer, req authRequest) url.Values {
				return url.Values{"error": {"access_denied"}, "state": {req.Get("state")}}
			},
			status: http.StatusOK, title: "You did not finish signing in",
		},
		{
			name: "login required",
			answer: func(ti *testIssuer, req authRequest) url.Values {
				return url.Values{"error": {"login_required"}, "state": {req.Get("state")}}
			},
			status: http.StatusOK, title: "You need to sign in again",
		},
		{
			name: "wrong state",
			answer: func(ti *testIssuer, req authRequest) url.Values {
				return url.Values{"code": {"x"}, "state": {"forged"}}
			},
			status: http.StatusBadRequest, title: "Your sign-in could not be completed",
		},
		{
			name: "code the provider refuses",
			answer: func(ti *testIssuer, req authRequest) url.Values {
				return url.Values{"code": {"unknown"}, "state": {req.Get("state")}}
			},
			status: http.StatusBadGateway, title: "Sorry, there is a problem with the sign-in service",
		},
		{
			name:   "nonce not the one sent",
			nonce:  "replayed-nonce",
			status: http.StatusBadGateway, title: "Sorry, there is a problem with the sign-in service",
		},
		{
			name: "another issuer named in the response",
			answer: func(ti *testIssuer, req authRequest) url.Values {
				return url.Values{"code": {"x"}, "state": {req.Get("state")}, "iss": {"https://other.example"}}
			},
			status: http.StatusBadRequest, title: "Your sign-in could not be completed",
		},
		{
			name:   "no code",
			answer: func(ti *testIssuer, req authRequest) url.Values { return url.Values{"state": {req.Get("state")}} },
			status: http.StatusBadRequest, title: "Your sign-in could not be completed",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ti := newTestIssuer(t, "")
			ti.nonceOverride = tc.nonce
			f := newFormApp(t, ti, nil)
			f.post("/person", pageOne)
			res := f.post("/login", url.Values{"next": {"/concern"}})
			req := ti.parseAuthRequest(res.location)
			target := ""
			if tc.answer == nil {
				target = ti.authorize(req, adaClaims)
			} else {
				target = callbackURL(t, req, tc.answer(ti, req))
			}
			res = f.get(target)
			wantStatus(t, "callback", res, tc.status)
			wantBody(t, "callback", res, "<h1 class=\"govuk-heading-l\">"+tc.title+"</h1>",
				`<input type="hidden" name="next" value="/concern">`, ">Try again</button>")
			wantNotBody(t, "callback", res, "Signed in as")
			wantRedirect(t, "page two after a failed sign-in", f.get("/concern"), "/sign-in?next=%2Fconcern")
			// The answers survive a failed sign-in, and 'Try again' works.
			ti.mu.Lock()
			ti.nonceOverride = ""
			ti.mu.Unlock()
			res = f.signIn(ti, "/concern", adaClaims)
			wantRedirect(t, "second sign-in", res, "/concern")
			wantBody(t, "page one after retry", f.get("/person"), `value="Ann Example"`)
		})
	}
}

func TestCallbackWithoutPendingLogin(t *testing.T) {
	ti := newTestIssuer(t, "")
	f := newFormApp(t, ti, nil)
	res := f.get("/callback?code=abc&state=def")
	wantStatus(t, "unexpected callback", res, http.StatusBadRequest)
	wantBody(t, "unexpected callback", res, "Your sign-in could not be completed", ">Try again</button>")
}

func TestCodeIsRedeemedOnce(t *testing.T) {
	ti := newTestIssuer(t, "")
	f := newFormApp(t, ti, nil)
	res := f.post("/login", url.Values{"next": {"/concern"}})
	target := ti.authorize(ti.parseAuthRequest(res.location), adaClaims)
	wantRedirect(t, "callback", f.get(target), "/concern")
	// Replaying the callback: the state was spent with the first one.
	res = f.get(target)
	wantStatus(t, "replayed callback", res, http.StatusBadRequest)
	if ti.tokenRequests != 1 {
		t.Errorf("token endpoint called %d times, want 1", ti.tokenRequests)
	}
}

// The form app starts before the provider: New succeeds, the first pages
// work, and sign-in works as soon as the provider is up.
func TestProviderMayStartLater(t *testing.T) {
	ti := newTestIssuer(t, "")
	ti.setDown(true)
	f := newFormApp(t, ti, nil)
	f.app.issuer.retryAfter = 0
	wantStatus(t, "page one", f.get("/person"), http.StatusOK)
	wantRedirect(t, "page one Continue", f.post("/person", pageOne), "/sign-in?next=%2Fconcern")
	res := f.post("/login", url.Values{"next": {"/concern"}})
	wantStatus(t, "Login or Register while the provider is down", res, http.StatusServiceUnavailable)
	wantBody(t, "provider down", res, "Sorry, the sign-in service is not available", ">Try again</button>")

	ti.setDown(false)
	wantRedirect(t, "sign-in once the provider is up", f.signIn(ti, "/concern", adaClaims), "/concern")
	wantBody(t, "page one kept", f.get("/person"), `value="Ann Example"`)
}

func TestNewWithoutProvider(t *testing.T) {
	cfg, err := ConfigFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Issuer = "http://127.0.0.1:1" // nothing listens there
	if _, err := New(context.Background(), cfg, nil); err != nil {
		t.Fatalf("New with the provider down: %v", err)
	}
}

// In docker compose the browser reaches the provider at one address and the
// form app at another: the issuer stays the public one.
func TestBackchannel(t *testing.T) {
	ti := newTestIssuer(t, "http://idp.example")
	f := newFormApp(t, ti, func(c *Config) {
		c.Insecure = true
		c.BackchannelURL = ti.srv.URL
	})
	res := f.signIn(ti, "/concern", adaClaims)
	wantRedirect(t, "callback through the back channel", res, "/concern")
}

func TestCrossOriginPostRefused(t *testing.T) {
	ti := newTestIssuer(t, "")
	f := newFormApp(t, ti, nil)
	res := f.post("/person", pageOne, "Sec-Fetch-Site", "cross-site")
	wantStatus(t, "cross-site post", res, http.StatusForbidden)
	res = f.post("/login", url.Values{"next": {"/concern"}}, "Origin", "https://evil.example")
	wantStatus(t, "cross-origin login", res, http.StatusForbidden)
}

func TestCrossSiteSignOutAsksFirst(t *testing.T) {
	ti := newTestIssuer(t, "")
	f := newFormApp(t, ti, nil)
	f.signIn(ti, "/concern", adaClaims)
	res := f.get("/sign-out", "Sec-Fetch-Site", "cross-site")
	wantStatus(t, "cross-site sign out", res, http.StatusOK)
	wantBody(t, "cross-site sign out", res, "Are you sure you want to sign out?")
	wantBody(t, "still signed in", f.get("/person"), "Signed in as")
	res = f.post("/sign-out", nil)
	wantStatus(t, "sign out button", res, http.StatusSeeOther)
	wantNotBody(t, "signed out", f.get("/person"), "Signed in as")
}

func TestSecurityHeadersAndAssets(t *testing.T) {
	ti := newTestIssuer(t, "")
	f := newFormApp(t, ti, nil)
	res := f.get("/person")
	csp := res.header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "form-action 'self' " + ti.issuer} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if res.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", res.header.Get("Cache-Control"))
	}
	for _, a := range regexp.MustCompile(`(?:href|src)="(/assets/[^"]+)"`).FindAllStringSubmatch(res.body, -1) {
		if r := f.get(a[1]); r.status != http.StatusOK {
			t.Errorf("asset %s: status %d", a[1], r.status)
		}
	}
	wantStatus(t, "healthz", f.get("/healthz"), http.StatusOK)
	wantStatus(t, "unknown page", f.get("/nope"), http.StatusNotFound)
}

func TestCallbackWithMatchingIss(t *testing.T) {
	ti := newTestIssuer(t, "")
	f := newFormApp(t, ti, nil)
	res := f.post("/login", url.Values{"next": {"/concern"}})
	target := ti.authorize(ti.parseAuthRequest(res.location), adaClaims) + "&iss=" + url.QueryEscape(ti.issuer)
	wantRedirect(t, "callback naming the right issuer", f.get(target), "/concern")
}

func TestListenAndServe(t *testing.T) {
	ti := newTestIssuer(t, "")
	cfg := Config{
		Addr: "127.0.0.1:0", Issuer: ti.issuer, ClientID: "demo-formapp",
		RedirectURL: "http://127.0.0.1:1/callback", PostLogoutRedirectURL: "http://127.0.0.1:1/signed-out",
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	app, err := New(context.Background(), cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.ListenAndServe(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ListenAndServe after cancel: %v", err)
	}

	cfg.Addr = "127.0.0.1:99999"
	app, err = New(context.Background(), cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.ListenAndServe(context.Background()); err == nil || !strings.Contains(err.Error(), "listen on 127.0.0.1:99999") {
		t.Errorf("ListenAndServe on a bad port: %v, want a listen error", err)
	}
}
