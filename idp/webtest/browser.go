package webtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser is a headless Chromium driven through the DevTools protocol, one per test.
type Browser struct {
	t       testing.TB
	ctx     context.Context
	shots   string
	counter int
}

// ChromiumPath finds Debian's chromium. When it is missing the test is skipped unless
// IDP_TEST_REQUIRE_SERVICES=1 (the test script sets it, so CI never skips a browser test).
func ChromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{os.Getenv("IDP_TEST_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("IDP_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatal("chromium not found: install it (apt-get install -y chromium)")
	}
	t.Skip("chromium not found; browser tests need it (apt-get install -y chromium)")
	return ""
}

// NewBrowser starts a fresh headless Chromium with its own profile. javascript=false
// turns scripts off for the whole session, to prove the pages work without them.
// Screenshots go to the test's artifact directory (kept with go test -artifacts).
func NewBrowser(t *testing.T, javascript bool) *Browser {
	t.Helper()
	path := ChromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.WindowSize(1000, 1400),
	}
	if !javascript {
		opts = append(opts, chromedp.Flag("blink-settings", "scriptEnabled=false"))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	dir := filepath.Join(t.ArtifactDir(), "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &Browser{t: t, ctx: ctx, shots: dir}
}

// Do performs chromedp steps, failing the test with a screenshot and the page text on error.
func (b *Browser) Do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.fail(err)
	}
}

func (b *Browser) fail(err error) {
	b.t.Helper()
	b.Screenshot("failure")
	url, _ := chromedp.Run(b.ctx, chromedp.Location())
	b.t.Fatalf("browser at %s: %v\npage text:\n%s", url, err, b.tryText())
}

func (b *Browser) tryText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	return text
}

func get[T any](b *Browser, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.fail(err)
	}
	return v
}

// Navigate opens url and waits for the page body.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	b.Do(chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
}

// Heading returns the page's h1 text.
func (b *Browser) Heading() string {
	b.t.Helper()
	return strings.TrimSpace(get(b, chromedp.Text(chromedp.CSS("h1"))))
}

// Text returns the visible text of the page body.
func (b *Browser) Text() string {
	b.t.Helper()
	return get(b, chromedp.Text(chromedp.CSS("body")))
}

// Title returns the document title.
func (b *Browser) Title() string {
	b.t.Helper()
	return get(b, chromedp.Title())
}

// URL returns the current address.
func (b *Browser) URL() string {
	b.t.Helper()
	return get(b, chromedp.Location())
}

// Eval evaluates a JavaScript expression through the DevTools protocol (which works
// even when the page's own scripts are disabled) and returns its value.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	return get(b, chromedp.Evaluate[T](expr))
}

// FillLabel types value into the input whose <label> text is exactly label, as a person
// finds a field by what it says.
func (b *Browser) FillLabel(label, value string) {
	b.t.Helper()
	sel := fmt.Sprintf(`//label[normalize-space(.)=%s]`, xpathString(label))
	attr := get(b, chromedp.AttributeValue(sel, "for"))
	if attr.Value == "" {
		b.t.Fatalf("label %q has no for attribute", label)
	}
	b.Do(
		chromedp.Clear(chromedp.ID(attr.Value)),
		chromedp.SendKeys(chromedp.ID(attr.Value), value),
	)
}

func clickable(text string) string {
	return fmt.Sprintf(`//button[normalize-space(.)=%[1]s] | //a[normalize-space(.)=%[1]s] | //input[@type="submit" and @value=%[1]s]`, xpathString(text))
}

// Click presses the button or link whose visible text is exactly text and waits for
// the page it loads.
func (b *Browser) Click(text string) {
	b.t.Helper()
	sel := clickable(text)
	b.Do(chromedp.WaitVisible(sel))
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Click(sel, chromedp.NodeVisible)); err != nil {
		b.fail(fmt.Errorf("click %q: %w", text, err))
	}
	b.Do(chromedp.WaitReady(chromedp.CSS("body")))
}

// Has reports whether a button or link with exactly this text is on the page.
func (b *Browser) Has(text string) bool {
	b.t.Helper()
	expr := fmt.Sprintf(`document.evaluate(%q, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null).snapshotLength`, clickable(text))
	return Eval[int](b, expr) > 0
}

// Screenshot saves a full-page PNG named with a sequence number and name.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	b.counter++
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(90))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	file := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.counter, sanitize(name)))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
	return file
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, s)
}

// xpathString quotes s for XPath 1.0, which has no escapes inside string literals.
func xpathString(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	parts := strings.Split(s, "'")
	return "concat('" + strings.Join(parts, `', "'", '`) + "')"
}
