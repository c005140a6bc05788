package ui

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/councilforms/idp/ui/locale"
)

// tCall finds every catalogue key a template names: {{t "key"}} or (t "key" ...).
var tCall = regexp.MustCompile(`[({]\s*t\s+"([^"]+)"`)

// TestCatalogueIsComplete: the English and Welsh catalogues hold the same
// keys (locale.Load refuses otherwise) and every key a template names is in
// them, including keys on branches New's empty render does not reach.
func TestCatalogueIsComplete(t *testing.T) {
	cat, err := locale.Load(templateFS, "locales")
	if err != nil {
		t.Fatalf("the catalogues are not complete:\n%v", err)
	}
	files, err := fs.Glob(templateFS, "templates/*/*.html")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "templates/layout.html")
	used := 0
	for _, f := range files {
		src, err := fs.ReadFile(templateFS, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range tCall.FindAllStringSubmatch(string(src), -1) {
			used++
			if !cat.Has(m[1]) {
				t.Errorf("%s names %q, which is not in the catalogue", f, m[1])
			}
		}
	}
	if used == 0 {
		t.Fatal("no template names a catalogue key: the pattern finds nothing")
	}
}

// TestUnknownKeyStopsTheServer: a template naming a key the catalogue lacks
// fails New, at start.
func TestUnknownKeyStopsTheServer(t *testing.T) {
	fsys := realTemplates(t)
	fsys["templates/pages/sign-in.html"] = &fstest.MapFile{Data: []byte(`{{define "heading"}}{{t "sign-in.no-such-key"}}{{end}}{{define "content"}}{{end}}`)}
	_, err := parse(fsys, Options{OrgName: testOrg})
	if err == nil || !strings.Contains(err.Error(), "sign-in.no-such-key") {
		t.Fatalf("New with an unknown key: %v", err)
	}
}

func TestPagesFollowTheirLanguage(t *testing.T) {
	tmpl := newTemplates(t, false)
	_, _, en := renderPage(t, tmpl, PageSignIn, SignInPage{})
	_, _, cy := renderPage(t, tmpl, PageSignIn, SignInPage{Page: Page{Lang: locale.Welsh}})
	if !strings.Contains(en, `<html lang="en"`) || !strings.Contains(en, "<h1 class=\"govuk-heading-l\">Sign In</h1>") {
		t.Errorf("English page:\n%s", en)
	}
	if !strings.Contains(cy, `<html lang="cy"`) || !strings.Contains(cy, "Mewngofnodi") || strings.Contains(cy, "Forgot your password?") {
		t.Errorf("Welsh page:\n%s", cy)
	}
}

func TestLanguageToggle(t *testing.T) {
	tmpl := newTemplates(t, false)
	_, _, cy := renderPage(t, tmpl, PageSignIn, SignInPage{Page: Page{Lang: locale.Welsh, LanguageURL: "/login/language"}})
	for _, want := range []string{
		`<a class="govuk-link" href="/login/language?lang=en" hreflang="en" lang="en" rel="alternate">English</a>`,
		`<span aria-current="true" lang="cy">Cymraeg</span>`,
		`aria-label="Dewiswch iaith"`,
	} {
		if !strings.Contains(cy, want) {
			t.Errorf("Welsh page lacks %s", want)
		}
	}
	_, _, acct := renderPage(t, tmpl, PageSignIn, SignInPage{Page: Page{LanguageURL: "/login/language?from=account"}})
	if !strings.Contains(acct, `href="/login/language?from=account&amp;lang=cy"`) {
		t.Errorf("toggle link with a query:\n%s", acct)
	}
	_, _, none := renderPage(t, tmpl, PageSignIn, SignInPage{})
	if strings.Contains(none, "Cymraeg") {
		t.Error("the toggle is shown without a LanguageURL")
	}
}

func TestBranding(t *testing.T) {
	logo := []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`)
	tmpl, err := New(Options{OrgName: testOrg, HeaderColour: "#00703c", Logo: logo, LogoType: "image/svg+xml"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, body := renderPage(t, tmpl, PageSignIn, SignInPage{ClientName: "Make a social care referral"})
	css, img := tmpl.brand.cssURL, tmpl.brand.logoURL
	for _, want := range []string{
		`<link rel="stylesheet" href="` + css + `">`,
		`<img src="` + img + `" alt="` + testOrg + `" height="40">`,
		`<p class="govuk-body-l">to continue to Make a social care referral</p>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for url, want := range map[string]string{css: "background-color:#00703c", img: "<svg"} {
		rec := httptest.NewRecorder()
		tmpl.Branding().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s: %d %q %v", url, rec.Code, rec.Body.String(), rec.Header())
		}
	}
	if rec := httptest.NewRecorder(); true {
		tmpl.Branding().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, BrandingPrefix+"logo", nil))
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
			t.Errorf("the logo is served without a sandbox: %q", csp)
		}
	}
	// Without branding: no stylesheet, the name in text, and 404s.
	plain := newTemplates(t, false)
	_, _, body = renderPage(t, plain, PageSignIn, SignInPage{})
	if strings.Contains(body, BrandingPrefix) || strings.Contains(body, "to continue to") {
		t.Errorf("unbranded page mentions branding:\n%s", body)
	}
	rec := httptest.NewRecorder()
	plain.Branding().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, BrandingPrefix+"brand.css", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("brand.css without a colour: %d", rec.Code)
	}
	if _, err := New(Options{OrgName: testOrg, HeaderColour: "red"}); err == nil {
		t.Error("a colour that is not #rrggbb was accepted")
	}
}
