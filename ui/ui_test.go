package ui

import (
	"flag"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const testOrg = "Norfolk County Council"

func newTemplates(t *testing.T, dev bool) *Templates {
	t.Helper()
	tmpl, err := New(Options{OrgName: testOrg, Dev: dev, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return tmpl
}

func renderPage(t *testing.T, tmpl *Templates, page string, model any) (int, http.Header, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	tmpl.Render(rec, http.StatusOK, page, model)
	return rec.Code, rec.Header(), rec.Body.String()
}

func TestEveryPageHasASample(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range samples() {
		seen[s.page] = true
	}
	for page := range pageModels {
		if !seen[page] {
			t.Errorf("page %s has no sample in samples_test.go", page)
		}
	}
}

var (
	titleRe       = regexp.MustCompile(`<title>([^<]*)</title>`)
	h1Re          = regexp.MustCompile(`(?s)<h1[^>]*>(.*?)</h1>`)
	tagRe         = regexp.MustCompile(`<[^>]+>`)
	formRe        = regexp.MustCompile(`<form\b[^>]*>`)
	labelForRe    = regexp.MustCompile(`<label\b[^>]*\bfor="([^"]+)"`)
	idRe          = regexp.MustCompile(`\bid="([^"]+)"`)
	summaryLinkRe = regexp.MustCompile(`<a href="#([^"]+)">`)
	inputRe       = regexp.MustCompile(`<input\b[^>]*>`)
	attrRe        = regexp.MustCompile(`\b([a-z-]+)="([^"]*)"`)
	assetRefRe    = regexp.MustCompile(`\b(?:href|src)="(/assets/[^"]*)"`)
)

func TestPages(t *testing.T) {
	tmpl := newTemplates(t, true)
	for _, s := range samples() {
		for _, variant := range []struct {
			suffix string
			model  any
		}{{"", s.model}, {"-errors", s.withErrors}} {
			name := s.page + variant.suffix
			t.Run(name, func(t *testing.T) {
				code, hdr, body := renderPage(t, tmpl, s.page, variant.model)
				if code != http.StatusOK {
					t.Fatalf("status %d: %s", code, body)
				}
				if ct := hdr.Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
				golden(t, filepath.Join("testdata", "pages", name+".html"), body)
				checkTitle(t, body, variant.suffix != "")
				checkCSP(t, body)
				checkForms(t, body)
				checkAssetRefs(t, body)
				if variant.suffix == "" {
					for _, l := range s.labels {
						if !strings.Contains(body, l) {
							t.Errorf("missing %q", l)
						}
					}
				} else {
					checkErrors(t, body, variant.model)
				}
			})
		}
	}
}

// checkTitle: "<h1 text> – <org>", with "Error: " when the page has errors.
func checkTitle(t *testing.T, body string, withErrors bool) {
	t.Helper()
	m := titleRe.FindStringSubmatch(body)
	h := h1Re.FindStringSubmatch(body)
	if m == nil || h == nil {
		t.Fatalf("no title or h1")
	}
	heading := strings.TrimSpace(tagRe.ReplaceAllString(h[1], ""))
	want := heading + " – " + testOrg
	if withErrors {
		want = "Error: " + want
	}
	if got := html.UnescapeString(m[1]); got != html.UnescapeString(want) {
		t.Errorf("title %q, want %q", got, want)
	}
	if n := strings.Count(body, "<h1"); n != 1 {
		t.Errorf("%d h1 elements, want 1", n)
	}
}

// checkCSP: nothing the policy script-src 'self'; style-src 'self' would
// block.
func checkCSP(t *testing.T, body string) {
	t.Helper()
	for _, m := range regexp.MustCompile(`<script\b[^>]*>`).FindAllString(body, -1) {
		if !strings.Contains(m, `src="/assets/`) {
			t.Errorf("inline script: %s", m)
		}
	}
	if regexp.MustCompile(`<script\b[^>]*>[^<]+</script>`).MatchString(body) {
		t.Errorf("script element with a body")
	}
	for _, bad := range []string{" style=", "<style", " onclick=", " onload=", " onsubmit=", "javascript:"} {
		if strings.Contains(strings.ToLower(body), bad) {
			t.Errorf("output contains %q", bad)
		}
	}
}

// checkForms: every form posts, skips browser validation, and every label
// points at an element that exists.
func checkForms(t *testing.T, body string) {
	t.Helper()
	for _, f := range formRe.FindAllString(body, -1) {
		// A search (the console's people search and audit filter) is a GET:
		// it changes nothing, and its results have a URL.
		search := strings.Contains(f, `method="get"`) && strings.Contains(f, ` role="search"`)
		if !(strings.Contains(f, `method="post"`) || search) || !strings.Contains(f, " novalidate") {
			t.Errorf("form without method=post novalidate (or a GET role=search): %s", f)
		}
	}
	ids := map[string]int{}
	for _, m := range idRe.FindAllStringSubmatch(body, -1) {
		ids[m[1]]++
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %q used %d times", id, n)
		}
	}
	for _, m := range labelForRe.FindAllStringSubmatch(body, -1) {
		if ids[m[1]] == 0 {
			t.Errorf("label for=%q has no element", m[1])
		}
	}
	for _, in := range inputRe.FindAllString(body, -1) {
		attrs := map[string]string{}
		for _, a := range attrRe.FindAllStringSubmatch(in, -1) {
			attrs[a[1]] = a[2]
		}
		if attrs["type"] == "hidden" {
			continue
		}
		if !regexp.MustCompile(`<label\b[^>]*\bfor="` + regexp.QuoteMeta(attrs["id"]) + `"`).MatchString(body) {
			t.Errorf("input without a label: %s", in)
		}
	}
}

func checkAssetRefs(t *testing.T, body string) {
	t.Helper()
	refs := assetRefRe.FindAllStringSubmatch(body, -1)
	if len(refs) < 2 {
		t.Errorf("page refers to %d assets, want the stylesheet and app.js", len(refs))
	}
	for _, m := range refs {
		checkAssetServed(t, html.UnescapeString(m[1]))
	}
}

func checkAssetServed(t *testing.T, url string) {
	t.Helper()
	rec := httptest.NewRecorder()
	Assets().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
	if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
		t.Errorf("GET %s: %d, %d bytes", url, rec.Code, rec.Body.Len())
	}
}

// checkErrors: the error summary lists every error, field errors link to
// their input, which shows the message inline and is described by it.
func checkErrors(t *testing.T, body string, model any) {
	t.Helper()
	errs := reflect.ValueOf(model).FieldByName("Page").Interface().(Page).Errors
	if !strings.Contains(body, `<h2 class="govuk-error-summary__title">`) || !strings.Contains(body, "There is a problem") {
		t.Fatalf("no error summary")
	}
	if strings.Index(body, "govuk-error-summary") > strings.Index(body, "<h1") {
		t.Errorf("error summary is not above the h1")
	}
	for _, e := range errs {
		msg := html.EscapeString(e.Message)
		if !strings.Contains(body, msg) {
			t.Errorf("error %q not shown", e.Message)
		}
		if e.Field == "" {
			continue
		}
		if !strings.Contains(body, `<a href="#`+e.Field+`">`+msg+`</a>`) {
			t.Errorf("summary does not link %q to #%s", e.Message, e.Field)
		}
		inline := fmt.Sprintf(`<p id="%s-error" class="govuk-error-message">
    <span class="govuk-visually-hidden">Error:</span> %s
  </p>`, e.Field, msg)
		if !strings.Contains(body, inline) {
			t.Errorf("no inline error for %s", e.Field)
		}
		in := regexp.MustCompile(`<input\b[^>]*\bid="` + regexp.QuoteMeta(e.Field) + `"[^>]*>`).FindString(body)
		if in == "" {
			t.Errorf("no input with id %q", e.Field)
			continue
		}
		if !regexp.MustCompile(`aria-describedby="[^"]*\b` + regexp.QuoteMeta(e.Field) + `-error\b`).MatchString(in) {
			t.Errorf("input %s not described by its error: %s", e.Field, in)
		}
		if !strings.Contains(in, "govuk-input--error") {
			t.Errorf("input %s not styled as in error", e.Field)
		}
	}
	for _, m := range summaryLinkRe.FindAllStringSubmatch(body, -1) {
		if !strings.Contains(body, `id="`+m[1]+`"`) {
			t.Errorf("summary links to #%s, which does not exist", m[1])
		}
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v (run go test ./ui -update to create it)", err)
		return
	}
	if string(want) != got {
		t.Errorf("%s differs from the rendered page (go test ./ui -update rewrites it):\n%s", path, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d\nwant: %s\n got: %s", i+1, w, g)
		}
	}
	return ""
}
