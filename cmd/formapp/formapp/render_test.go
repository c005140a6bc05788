package formapp

import (
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/pages")

// samples gives every page a model as the handlers fill it, with and
// without errors where the page can show them.
func samples() map[string]*view {
	signedIn := &Session{Person: &Person{GivenName: "Ada", FamilyName: "Lovelace", Email: "ada@example.org"}}
	full := Answers{
		PersonName: "Ann Example", PersonDOBOrAge: "27 3 1950", PersonAddress: "1 Market Street\nNorwich",
		PersonPostcode: "NR1 2DH", Concern: "Ann has had several falls.", ImmediateRisk: "no",
		ReferrerName: "Ada Lovelace", ReferrerEmail: "ada@example.org", Organisation: "Norwich Medical Practice", Role: "Practice nurse",
	}
	m := map[string]*view{
		"person":           {Title: steps[0].Title, Answers: Answers{PersonName: "Ann Example"}},
		"concern":          {Title: steps[1].Title, Session: signedIn, BackURL: pathPerson, Answers: Answers{ImmediateRisk: "yes"}},
		"referrer":         {Title: steps[2].Title, Session: signedIn, BackURL: pathConcern, Answers: Answers{ReferrerName: "Ada Lovelace"}},
		"check":            {Title: "Check your answers before sending your referral", Session: signedIn, Answers: full, BackURL: pathReferrer},
		"submitted":        {Title: "Referral submitted", Session: signedIn, Reference: "SCR-ACDE-FGHJ"},
		"sign-in-required": {Title: "Log in or register to continue", Next: pathConcern, BackURL: pathPerson},
		"login-failed":     {Title: "You did not finish signing in", Message: "Your answers have been kept.", Next: pathConcern},
		"sign-out":         {Title: "Sign out", Session: signedIn},
		"message":          {Title: "You have signed out", Message: "You have signed out.", Action: &action{Label: "Start a new referral", Href: pathPerson}},
	}
	for i := range steps {
		a := Answers{}
		errs := steps[i].check(&a)
		v := *m[steps[i].Template]
		v.Errors, v.Answers = errs, a
		m[steps[i].Template+"-errors"] = &v
	}
	return m
}

func TestPagesRender(t *testing.T) {
	p, err := parsePages("Norfolk County Council")
	if err != nil {
		t.Fatal(err)
	}
	a := &App{pages: p}
	for name, v := range samples() {
		t.Run(name, func(t *testing.T) {
			page := strings.TrimSuffix(name, "-errors")
			rec := httptest.NewRecorder()
			a.render(rec, nil, 200, page, v)
			if rec.Code != 200 {
				t.Fatalf("render: status %d: %s", rec.Code, rec.Body)
			}
			body := rec.Body.String()
			checkPage(t, body, v)
			// Asset hashes change with the ui package's build, not with these pages.
			body = assetHash.ReplaceAllString(body, "?v=HASH")
			golden(t, filepath.Join("testdata", "pages", name+".html"), body)
		})
	}
}

var (
	srcScript = regexp.MustCompile(`<script [^>]*src="/assets/`)
	formTag   = regexp.MustCompile(`<form[^>]*>`)
	ids       = regexp.MustCompile(`\sid="([^"]+)"`)
	assetHash = regexp.MustCompile(`\?v=[0-9a-f]+`)
)

// checkPage holds every page to the GOV.UK patterns and the CSP.
func checkPage(t *testing.T, body string, v *view) {
	t.Helper()
	title := regexp.MustCompile(`<title>([^<]*)</title>`).FindStringSubmatch(body)
	if title == nil {
		t.Fatal("no title")
	}
	if !strings.HasPrefix(title[1], v.Title) && !strings.HasPrefix(title[1], "Error: "+v.Title) {
		t.Errorf("title %q does not start with the heading %q", title[1], v.Title)
	}
	if v.HasErrors() != strings.HasPrefix(title[1], "Error: ") {
		t.Errorf("title %q: 'Error: ' prefix must be there exactly when the page has errors", title[1])
	}
	if strings.Count(body, "<h1") != 1 {
		t.Errorf("want exactly one h1")
	}
	if strings.Contains(body, " style=") || strings.Contains(body, "<style") || strings.Contains(body, " onclick=") {
		t.Error("inline style or handler: the Content-Security-Policy forbids them")
	}
	for _, s := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
		if !srcScript.MatchString(s) {
			t.Errorf("script %s is not an /assets/ file: the Content-Security-Policy forbids inline script", s)
		}
	}
	for _, f := range formTag.FindAllString(body, -1) {
		if !strings.Contains(f, `method="post"`) || !strings.Contains(f, "novalidate") {
			t.Errorf("form %s: want method=post novalidate", f)
		}
	}
	present := map[string]bool{}
	for _, m := range ids.FindAllStringSubmatch(body, -1) {
		if present[m[1]] {
			t.Errorf("id %q appears twice", m[1])
		}
		present[m[1]] = true
	}
	for _, e := range v.Errors {
		if !present[e.Field] {
			t.Errorf("error summary links to #%s, which is not on the page", e.Field)
		}
		if !present[e.Field+"-error"] {
			t.Errorf("no inline error message for %s", e.Field)
		}
	}
	for _, m := range regexp.MustCompile(`aria-describedby="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		for _, id := range strings.Fields(m[1]) {
			if !present[id] {
				t.Errorf("aria-describedby names #%s, which is not on the page", id)
			}
		}
	}
	if v.SignedInAs() != "" && !strings.Contains(body, "Signed in as <strong>"+v.SignedInAs()+"</strong>") {
		t.Errorf("header does not say 'Signed in as %s'", v.SignedInAs())
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
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the rendered page (go test -update rewrites it after review)", path)
	}
}
