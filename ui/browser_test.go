package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// csp is the policy the server sends; the pages must work under it.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// TestBrowserUnderCSP loads pages in headless Chromium under a strict
// Content-Security-Policy and checks that the stylesheet applies and app.js
// runs (it marks the body and GOV.UK Frontend shows the password toggle and
// focuses the error summary). Skipped without chromium unless
// IDP_TEST_REQUIRE_SERVICES=1.
func TestBrowserUnderCSP(t *testing.T) {
	chromium := ""
	for _, name := range []string{os.Getenv("IDP_TEST_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); name != "" && err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		if os.Getenv("IDP_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("chromium not found")
		}
		t.Skip("chromium not found")
	}

	tmpl := newTemplates(t, true)
	mux := http.NewServeMux()
	mux.Handle("/assets/", Assets())
	for _, s := range samples() {
		mux.HandleFunc("/"+s.page+"/errors", func(w http.ResponseWriter, r *http.Request) {
			tmpl.Render(w, http.StatusOK, s.page, s.withErrors)
		})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1000, 1200))
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(alloc)
	defer cancelCtx()
	ctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()

	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/sign-in/errors"),
		chromedp.WaitVisible(chromedp.CSS(".govuk-password-input__toggle")),
	); err != nil {
		t.Fatalf("password toggle never shown (app.js did not run under the CSP?): %v", err)
	}
	if cls := eval(`document.body.className`); !strings.Contains(cls, "js-enabled") || !strings.Contains(cls, "govuk-frontend-supported") {
		t.Errorf("body class %q", cls)
	}
	if font := eval(`getComputedStyle(document.querySelector("h1")).fontFamily`); font != "arial, sans-serif" {
		t.Errorf("h1 font %q: stylesheet not applied", font)
	}
	if focus := eval(`document.activeElement.className`); !strings.Contains(focus, "govuk-error-summary") {
		t.Errorf("focus on %q, want the error summary", focus)
	}
	if title := eval(`document.title`); title != "Error: Sign In – "+testOrg {
		t.Errorf("title %q", title)
	}
	// Following a summary link puts the person in the field.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.govuk-error-summary a[href="#password"]`))); err != nil {
		t.Fatal(err)
	}
	if id := eval(`document.activeElement.id`); id != "password" {
		t.Errorf("after following the summary link, focus is on %q", id)
	}
}
