package ui

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/councilforms/idp/ui/locale"
)

// realTemplates copies the embedded templates into a MapFS a test can break.
func realTemplates(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	walk := func(root string) error {
		return fs.WalkDir(templateFS, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := templateFS.ReadFile(p)
			m[p] = &fstest.MapFile{Data: b}
			return err
		})
	}
	err := walk("templates")
	if err == nil {
		err = walk("locales")
	}
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNewRejectsBrokenTemplates(t *testing.T) {
	opts := Options{OrgName: testOrg, ServiceName: "Sign in", HomeURL: "/", SignOutURL: "/logout", Logger: slog.New(slog.DiscardHandler)}
	if _, err := parse(realTemplates(t), opts); err != nil {
		t.Fatalf("unbroken templates: %v", err)
	}
	cases := map[string]func(m fstest.MapFS){
		"missing page": func(m fstest.MapFS) { delete(m, "templates/pages/sms-code.html") },
		"missing layout": func(m fstest.MapFS) {
			delete(m, "templates/layout.html")
		},
		"syntax error": func(m fstest.MapFS) {
			m["templates/pages/sign-in.html"] = &fstest.MapFile{Data: []byte(`{{define "heading"}}Sign In{{end}}{{define "content"}}{{if}}{{end}}`)}
		},
		"unknown field": func(m fstest.MapFS) {
			m["templates/pages/sign-in.html"] = &fstest.MapFile{Data: []byte(`{{define "heading"}}Sign In{{end}}{{define "content"}}{{.Emial}}{{end}}`)}
		},
		"no heading": func(m fstest.MapFS) {
			m["templates/pages/sign-in.html"] = &fstest.MapFile{Data: []byte(`{{define "content"}}x{{end}}`)}
		},
		"missing component": func(m fstest.MapFS) { delete(m, "templates/components/input.html") },
		"missing asset": func(m fstest.MapFS) {
			m["templates/pages/sign-in.html"] = &fstest.MapFile{Data: []byte(`{{define "heading"}}Sign In{{end}}{{define "content"}}<img src="{{asset "/assets/nope.png"}}" alt="">{{end}}`)}
		},
		"page without a model": func(m fstest.MapFS) {
			m["templates/pages/orphan.html"] = &fstest.MapFile{Data: []byte(`{{define "heading"}}x{{end}}{{define "content"}}x{{end}}`)}
		},
	}
	for name, breakIt := range cases {
		t.Run(name, func(t *testing.T) {
			m := realTemplates(t)
			breakIt(m)
			if _, err := parse(m, opts); err == nil {
				t.Fatal("parse accepted broken templates")
			}
		})
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New accepted an empty organisation name")
	}
}

func TestRenderRefusesWrongModels(t *testing.T) {
	var logs strings.Builder
	tmpl, err := New(Options{OrgName: testOrg, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		page  string
		model any
	}{
		"unknown page": {"nope", SignInPage{}},
		"wrong model":  {PageSignIn, SignUpEmailPage{}},
		"nil pointer":  {PageSignIn, (*SignInPage)(nil)},
		"nil":          {PageSignIn, nil},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, body := renderPage(t, tmpl, c.page, c.model)
			if code != http.StatusInternalServerError {
				t.Errorf("status %d, want 500", code)
			}
			if strings.Contains(body, "<html") {
				t.Errorf("a page was written: %s", body)
			}
			if !strings.Contains(logs.String(), "ui: render page") {
				t.Errorf("failure not logged")
			}
			logs.Reset()
		})
	}
	// A pointer to the right model works, and the status is passed on.
	rec := httptest.NewRecorder()
	tmpl.Render(rec, http.StatusNotFound, PageMessage, &MessagePage{Page: Page{Title: "Page not found"}})
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "<title>Page not found – "+testOrg+"</title>") {
		t.Errorf("status %d body %s", rec.Code, rec.Body.String())
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
}

func TestLayoutVariants(t *testing.T) {
	const banner = `Development mode: messages are not sent; see the <a class="govuk-link" href="/dev/inbox">dev inbox</a>`
	_, _, live := renderPage(t, newTemplates(t, false), PageSignIn, SignInPage{})
	if strings.Contains(live, "Development mode") || strings.Contains(live, "/dev/inbox") {
		t.Error("dev banner shown when not in dev mode")
	}
	if strings.Contains(live, "Sign out") {
		t.Error("sign out shown to a person who is not signed in")
	}
	if !strings.Contains(live, `<span class="govuk-service-navigation__text">Sign in</span>`) {
		t.Error("the header does not name the service 'Sign in' on the Sign In page")
	}
	_, _, signUp := renderPage(t, newTemplates(t, false), PageSignUpEmail, SignUpEmailPage{Page: Page{Service: ServiceSignUp}})
	if !strings.Contains(signUp, `<span class="govuk-service-navigation__text">Create an account</span>`) {
		t.Error("the header does not name the service 'Create an account' while signing up")
	}
	_, _, dev := renderPage(t, newTemplates(t, true), PageSignIn, SignInPage{Page: Page{SignedInAs: "Sam <Jones>", BackURL: "/back"}})
	for _, want := range []string{
		banner,
		`Signed in as <strong>Sam &lt;Jones&gt;</strong>`,
		`<form method="post" action="/logout" class="app-service-navigation__form" novalidate>`,
		`<button type="submit" class="govuk-service-navigation__link app-service-navigation__button">Sign out</button>`,
		`<a href="/back" class="govuk-back-link">Back</a>`,
		`<a href="#main-content" class="govuk-skip-link" data-module="govuk-skip-link">Skip to main content</a>`,
		`<main class="govuk-main-wrapper" id="main-content">`,
		`<body class="govuk-template__body">`,
		// A signed-in person is looking at their account, not signing in.
		`<span class="govuk-service-navigation__text">Your account</span>`,
		`<a href="/" class="govuk-generic-header__homepage-link">` + testOrg + `</a>`,
	} {
		if !strings.Contains(dev, want) {
			t.Errorf("missing %s", want)
		}
	}
	for _, crown := range []string{"govuk-header__logotype", "govuk-logo", "Crown copyright", "Open Government Licence", "GDS Transport"} {
		if strings.Contains(dev, crown) || strings.Contains(live, crown) {
			t.Errorf("page carries GOV.UK-only branding %q", crown)
		}
	}

	custom, err := New(Options{OrgName: "Acme", ServiceName: "Acme account", HomeURL: "https://acme.example/", SignOutURL: "/end"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, out := renderPage(t, custom, PageAccount, AccountPage{Page: Page{SignedInAs: "Sam"}})
	for _, want := range []string{`href="https://acme.example/"`, `Acme account`, `<form method="post" action="/end"`, `<title>Your account – Acme</title>`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
}

// TestInputAttributes: the attributes that make each field work with
// password managers, autofill and phone keyboards.
func TestInputAttributes(t *testing.T) {
	tmpl := newTemplates(t, false)
	cases := []struct {
		page  string
		model any
		id    string
		attrs map[string]string
	}{
		{PageSignIn, SignInPage{}, FieldEmail, map[string]string{"type": "email", "autocomplete": "email", "spellcheck": "false", "name": "email"}},
		{PageSignIn, SignInPage{}, FieldPassword, map[string]string{"type": "password", "autocomplete": "current-password", "name": "password"}},
		{PageSignUpEmail, SignUpEmailPage{}, FieldEmail, map[string]string{"type": "email", "autocomplete": "email"}},
		{PageEmailCode, EmailCodePage{}, FieldCode, map[string]string{"inputmode": "numeric", "autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false", "name": "code"}},
		{PageSMSCode, SMSCodePage{}, FieldCode, map[string]string{"inputmode": "numeric", "autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}},
		{PageSignUpDetails, SignUpDetailsPage{}, FieldGivenName, map[string]string{"autocomplete": "given-name", "name": "given-name"}},
		{PageSignUpDetails, SignUpDetailsPage{}, FieldSurname, map[string]string{"autocomplete": "family-name", "name": "surname"}},
		{PageSignUpDetails, SignUpDetailsPage{}, FieldPassword, map[string]string{"type": "password", "autocomplete": "new-password", "aria-describedby": "password-hint"}},
		{PageSignUpDetails, SignUpDetailsPage{}, FieldConfirmPassword, map[string]string{"type": "password", "autocomplete": "new-password", "name": "confirm-password"}},
		{PageForgotNewPassword, ForgotNewPasswordPage{}, FieldPassword, map[string]string{"type": "password", "autocomplete": "new-password"}},
		{PageForgotNewPassword, ForgotNewPasswordPage{}, FieldConfirmPassword, map[string]string{"type": "password", "autocomplete": "new-password"}},
		{PageForgotEmail, ForgotEmailPage{}, FieldEmail, map[string]string{"type": "email", "autocomplete": "email"}},
		{PagePhoneEnter, PhoneEnterPage{}, FieldPhone, map[string]string{"type": "tel", "autocomplete": "tel", "name": "phone", "aria-describedby": "phone-hint"}},
	}
	for _, c := range cases {
		_, _, body := renderPage(t, tmpl, c.page, c.model)
		in := regexp.MustCompile(`<input\b[^>]*\bid="` + c.id + `"[^>]*>`).FindString(body)
		if in == "" {
			t.Errorf("%s: no input #%s", c.page, c.id)
			continue
		}
		for k, v := range c.attrs {
			if !strings.Contains(in, " "+k+`="`+v+`"`) {
				t.Errorf("%s #%s: want %s=%q in %s", c.page, c.id, k, v, in)
			}
		}
	}
}

// TestButtons: the buttons the guide names, with the values handlers read.
func TestButtons(t *testing.T) {
	tmpl := newTemplates(t, false)
	sendCode := `<button type="submit" name="method" value="sms" data-prevent-double-click="true" class="govuk-button`
	callMe := `<button type="submit" name="method" value="call" data-prevent-double-click="true" class="govuk-button`
	cases := []struct {
		name    string
		page    string
		model   any
		want    []string
		notWant []string
	}{
		{"enter", PagePhoneEnter, PhoneEnterPage{}, []string{sendCode + `" data-module="govuk-button">
  Send Code`, callMe + ` govuk-button--secondary" data-module="govuk-button">
  Call Me`}, nil},
		{"challenge mobile", PagePhoneChallenge, PhoneChallengePage{Mobile: true}, []string{sendCode, callMe}, nil},
		{"challenge landline", PagePhoneChallenge, PhoneChallengePage{}, []string{callMe + `" data-module="govuk-button">
  Call Me`}, []string{"Send Code"}},
		{"challenge heading", PagePhoneChallenge, PhoneChallengePage{Page: Page{Title: "Confirm your phone number"}}, []string{`<h1 class="govuk-heading-l">Confirm your phone number</h1>`}, nil},
		{"sms resend and call", PagePhoneChallenge, PhoneChallengePage{}, []string{callMe}, nil},
		{"call wait", PageCallWait, CallWaitPage{Action: "/c", StatusURL: "/s"}, []string{`<form method="post" action="/c" novalidate data-app-poll-url="/s">`}, []string{"Call Me", "Send Code", "http-equiv"}},
		{"call failed landline", PageCallWait, CallWaitPage{Failure: "The call was not answered", RetryAction: "/r"}, []string{callMe, `action="/r"`, "<li>The call was not answered</li>", "<title>Error: We could not confirm your phone number"}, []string{"Send Code", "http-equiv", ">\n  Continue"}},
		{"call wait with retry, mobile", PageCallWait, CallWaitPage{Action: "/c", RetryAction: "/r", Mobile: true}, []string{"Not received a call?", `action="/r"`, "Call Me again", "Send Code instead"}, nil},
		{"call wait with retry, landline", PageCallWait, CallWaitPage{Action: "/c", RetryAction: "/r"}, []string{"Call Me again"}, []string{"Send Code instead"}},
		{"call failed mobile", PageCallWait, CallWaitPage{Failure: "The call was not answered", Mobile: true}, []string{callMe, sendCode}, nil},
		{"sms code", PageSMSCode, SMSCodePage{ResendAction: "/resend", CallAction: "/call"}, []string{`action="/resend"`, `action="/call"`, sendCode + ` govuk-button--secondary" data-module="govuk-button">
  Send a new code`, callMe + ` govuk-button--secondary" data-module="govuk-button">
  Call Me instead`}, nil},
		{"dev inbox no call", PageDevInbox, DevInboxPage{Items: []DevItem{{ID: "x", Channel: "voice"}}}, nil, []string{"Press # on the call"}},
		{"message", PageMessage, SessionTimedOutMessage("", "/start"), []string{`<a href="/start" role="button" draggable="false" class="govuk-button" data-module="govuk-button">
  Start again`}, nil},
	}
	for _, c := range cases {
		_, _, body := renderPage(t, tmpl, c.page, c.model)
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: missing %q", c.name, w)
			}
		}
		for _, w := range c.notWant {
			if strings.Contains(body, w) {
				t.Errorf("%s: unexpected %q", c.name, w)
			}
		}
	}
}

func TestAssets(t *testing.T) {
	h := Assets()
	get := func(url string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
		return rec
	}
	hashed, err := assetURL("/assets/app.min.css")
	if err != nil {
		t.Fatal(err)
	}
	rec := get(hashed)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/css; charset=utf-8" {
		t.Fatalf("css: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("hashed URL Cache-Control %q", cc)
	}
	if cc := get("/assets/app.min.css").Header().Get("Cache-Control"); cc != "public, max-age=86400" {
		t.Errorf("plain URL Cache-Control %q", cc)
	}
	if cc := get("/assets/app.min.css?v=stale").Header().Get("Cache-Control"); cc != "public, max-age=86400" {
		t.Errorf("stale hash Cache-Control %q", cc)
	}
	js := get("/assets/app.js")
	if ct := js.Header().Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("app.js Content-Type %q", ct)
	}
	// app.js imports govuk-frontend relative to itself.
	for _, m := range regexp.MustCompile(`from '\./([^']+)'`).FindAllStringSubmatch(js.Body.String(), -1) {
		checkAssetServed(t, "/assets/"+m[1])
	}
	if !strings.Contains(get("/assets/govuk-frontend.min.js").Body.String(), "initAll") {
		t.Error("govuk-frontend.min.js does not export initAll")
	}
	etag := rec.Header().Get("ETag")
	cond := httptest.NewRequest(http.MethodGet, "/assets/app.min.css", nil)
	cond.Header.Set("If-None-Match", etag)
	rec304 := httptest.NewRecorder()
	h.ServeHTTP(rec304, cond)
	if rec304.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", rec304.Code)
	}
	for _, url := range []string{"/assets/nope.css", "/assets/", "/assets/../ui.go", "/app.min.css"} {
		if c := get(url).Code; c != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", url, c)
		}
	}
	post := httptest.NewRecorder()
	h.ServeHTTP(post, httptest.NewRequest(http.MethodPost, "/assets/app.js", nil))
	if post.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", post.Code)
	}
}

// TestStylesheet: every url() in the CSS resolves to an embedded file (or
// is inline data), and no GDS font is referenced.
func TestStylesheet(t *testing.T) {
	css := string(assets["/assets/app.min.css"].body)
	if len(css) < 10000 {
		t.Fatalf("stylesheet is %d bytes", len(css))
	}
	for _, m := range regexp.MustCompile(`url\(\s*["']?([^"')]+)["']?\s*\)`).FindAllStringSubmatch(css, -1) {
		ref := m[1]
		if strings.HasPrefix(ref, "data:") {
			continue
		}
		if !strings.HasPrefix(ref, "/assets/") {
			t.Errorf("url(%s) outside /assets/", ref)
			continue
		}
		checkAssetServed(t, ref)
	}
	if strings.Contains(css, "GDS Transport") || strings.Contains(css, "@font-face") {
		t.Error("stylesheet uses the GDS Transport font")
	}
	if !strings.Contains(css, "font-family:arial,sans-serif") {
		t.Error("stylesheet does not use the arial font stack")
	}
	for _, class := range []string{".app-dev-banner", ".app-code", ".govuk-generic-header", ".govuk-password-input"} {
		if !strings.Contains(css, class) {
			t.Errorf("stylesheet lacks %s", class)
		}
	}
}

// TestComponentsMatchGOVUKFixtures renders the Go component templates with
// the options of govuk-frontend's own fixtures and compares the markup
// (whitespace-insensitive).
func TestComponentsMatchGOVUKFixtures(t *testing.T) {
	tmpl := newTemplates(t, false)
	base, err := tmpl.pages[locale.English][PageSignIn].template()
	if err != nil {
		t.Fatal(err)
	}
	type fixture struct {
		Name    string         `json:"name"`
		Options map[string]any `json:"options"`
		HTML    string         `json:"html"`
	}
	load := func(component string) map[string]fixture {
		b, err := os.ReadFile(filepath.Join("testdata", "govuk-fixtures", component+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var f struct{ Fixtures []fixture }
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		m := map[string]fixture{}
		for _, x := range f.Fixtures {
			m[x.Name] = x
		}
		return m
	}
	cases := []struct {
		component, fixture, template string
		params                       map[string]any
	}{
		{"input", "default", "input", map[string]any{"ID": "test-name", "Label": "National Insurance number"}},
		{"input", "with error message", "input", map[string]any{"ID": "input-with-error-message", "Name": "test-name-3", "Label": "National Insurance number", "Error": "Enter a National Insurance number in the correct format"}},
		{"input", "with autocomplete attribute", "input", map[string]any{"ID": "input-with-autocomplete-attribute", "Name": "postcode", "Label": "Postcode", "Autocomplete": "postal-code"}},
		{"input", "with spellcheck disabled", "input", map[string]any{"ID": "input-with-spellcheck-disabled", "Name": "spellcheck", "Label": "Spellcheck is disabled", "Spellcheck": "false"}},
		{"input", "with hint text", "input", map[string]any{"ID": "input-with-hint-text", "Name": "test-name-2", "Label": "National insurance number", "Hint": "It’s on your National Insurance card, benefit letter, payslip or P60. For example, ‘QQ 12 34 56 C’."}},
		{"input", "with error and hint", "input", map[string]any{"ID": "with-error-hint", "Name": "with-error-hint", "Label": "National insurance number", "Hint": "It’s on your National Insurance card, benefit letter, payslip or P60. For example, ‘QQ 12 34 56 C’.", "Error": "Enter a National Insurance number in the correct format"}},
		{"password-input", "default", "password-input", map[string]any{"ID": "password", "Label": "Password"}},
		{"password-input", "with error message", "password-input", map[string]any{"ID": "password-input-with-error-message", "Name": "test-name-3", "Label": "Password", "Hint": "It probably has some letters, numbers and maybe even some symbols in it.", "Error": "Error message goes here"}},
		{"password-input", "with new-password autocomplete", "password-input", map[string]any{"ID": "password-input-new-password", "Name": "password", "Label": "Password", "Autocomplete": "new-password"}},
		{"button", "default", "button", map[string]any{"Text": "Save and continue", "AllowDoubleClick": true}},
		{"button", "secondary", "button", map[string]any{"Text": "Secondary button", "Name": "secondary", "Secondary": true, "AllowDoubleClick": true}},
		{"button", "link", "button", map[string]any{"Text": "Link button", "Href": "/"}},
		{"button", "value", "button", map[string]any{"Text": "Submit", "Value": "start", "AllowDoubleClick": true}},
		{"button", "name", "button", map[string]any{"Text": "Submit", "Name": "start-now", "AllowDoubleClick": true}},
		{"button", "prevent double click", "button", map[string]any{"Text": "Submit"}},
	}
	fixtures := map[string]map[string]fixture{}
	space := regexp.MustCompile(`\s+`)
	norm := func(s string) string {
		s = space.ReplaceAllString(s, " ")
		s = strings.ReplaceAll(s, "> <", "><")
		s = strings.ReplaceAll(s, "&#39;", "’")
		return strings.TrimSpace(s)
	}
	for _, c := range cases {
		if fixtures[c.component] == nil {
			fixtures[c.component] = load(c.component)
		}
		f, ok := fixtures[c.component][c.fixture]
		if !ok {
			t.Errorf("%s: no fixture %q", c.component, c.fixture)
			continue
		}
		var b strings.Builder
		if err := base.ExecuteTemplate(&b, c.template, c.params); err != nil {
			t.Fatalf("%s/%s: %v", c.component, c.fixture, err)
		}
		if got, want := norm(b.String()), norm(f.HTML); got != want {
			t.Errorf("%s/%s differs from govuk-frontend:\n got: %s\nwant: %s", c.component, c.fixture, got, want)
		}
	}

	// The error summary, rendered for a page model.
	_, _, body := renderPage(t, tmpl, PageSignIn, SignInPage{Page: Page{Errors: []FieldError{
		{Field: "example-error-1", Message: "The date your passport was issued must be in the past"},
		{Field: "example-error-2", Message: "Enter a postcode, like AA1 1AA"},
	}}})
	summary := regexp.MustCompile(`(?s)<div class="govuk-error-summary".*?</ul>\s*</div>\s*</div>\s*</div>`).FindString(body)
	if want := norm(load("error-summary")["default"].HTML); norm(summary) != want {
		t.Errorf("error summary differs from govuk-frontend:\n got: %s\nwant: %s", norm(summary), want)
	}
}

func TestAssetURL(t *testing.T) {
	u := AssetURL("/assets/app.js")
	if !regexp.MustCompile(`^/assets/app\.js\?v=[0-9a-f]{16}$`).MatchString(u) {
		t.Errorf("AssetURL = %q", u)
	}
	if u := AssetURL("/assets/missing.js"); u != "/assets/missing.js" {
		t.Errorf("AssetURL(missing) = %q", u)
	}
}

// Text assets go gzipped to browsers that accept it: the same bytes once
// unzipped, their own ETag, and Vary so caches keep the two apart.
func TestAssetsGzip(t *testing.T) {
	h := Assets()
	get := func(url, acceptEncoding, ifNoneMatch string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, url, nil)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, name := range []string{"/assets/app.min.css", "/assets/govuk-frontend.min.js"} {
		plain := get(name, "", "")
		zipped := get(name, "gzip, deflate, br", "")
		if zipped.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(zipped.Header().Get("Vary"), "Accept-Encoding") {
			t.Fatalf("%s: Content-Encoding %q, Vary %q", name, zipped.Header().Get("Content-Encoding"), zipped.Header().Get("Vary"))
		}
		if zipped.Body.Len() >= plain.Body.Len()/2 {
			t.Errorf("%s: gzipped %d bytes, plain %d", name, zipped.Body.Len(), plain.Body.Len())
		}
		zr, err := gzip.NewReader(zipped.Body)
		if err != nil {
			t.Fatal(err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(unzipped, plain.Body.Bytes()) {
			t.Fatalf("%s: unzipped body differs from the plain one (%v)", name, err)
		}
		if zipped.Header().Get("Content-Type") != plain.Header().Get("Content-Type") || zipped.Header().Get("ETag") == plain.Header().Get("ETag") {
			t.Errorf("%s: types %q/%q, ETags %q/%q", name, zipped.Header().Get("Content-Type"), plain.Header().Get("Content-Type"),
				zipped.Header().Get("ETag"), plain.Header().Get("ETag"))
		}
		if c := get(name, "gzip", zipped.Header().Get("ETag")).Code; c != http.StatusNotModified {
			t.Errorf("%s: If-None-Match with the gzip ETag: %d", name, c)
		}
		if plain.Header().Get("Content-Encoding") != "" || !strings.Contains(plain.Header().Get("Vary"), "Accept-Encoding") {
			t.Errorf("%s without Accept-Encoding: Content-Encoding %q, Vary %q", name, plain.Header().Get("Content-Encoding"), plain.Header().Get("Vary"))
		}
	}
	for ae, want := range map[string]string{
		"gzip;q=0": "", "identity": "", "br": "", "GZIP": "gzip", "deflate, gzip;q=0.5": "gzip", "*": "gzip", "gzip; q=0.000": "",
	} {
		if got := get("/assets/app.min.css", ae, "").Header().Get("Content-Encoding"); got != want {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", ae, got, want)
		}
	}
}
