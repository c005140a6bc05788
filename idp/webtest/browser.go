package webtest

// A real browser (headless Chromium through chromedp) for the tests, kept in
// one file of about 460 lines: starting it, and the few steps a test takes by
// what a person sees (navigate, fill in, press, read the page, screenshot).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Browser is a headless Chromium driven through the DevTools protocol, one per test.
// A Browser is one tab; NewTab opens another in the same browser (same cookies).
type Browser struct {
	t       testing.TB
	ctx     context.Context
	shots   string
	counter *atomic.Int64 // shared by the test's browsers and tabs: screenshots sort in the order taken
	console *consoleLog
}

// consoleLog keeps the tab's recent console messages and browser log entries (a
// refused form post or cookie is reported there), printed when a step fails.
type consoleLog struct {
	mu   sync.Mutex
	msgs []string
}

const consoleKept = 30

func (c *consoleLog) add(m string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
	if len(c.msgs) > consoleKept {
		c.msgs = c.msgs[len(c.msgs)-consoleKept:]
	}
}

func (c *consoleLog) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.msgs) == 0 {
		return "(none)"
	}
	return strings.Join(c.msgs, "\n")
}

// watchConsole records the console of the tab of ctx until it closes.
func watchConsole(ctx context.Context) *consoleLog {
	c := &consoleLog{}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			c.add(m.String())
		}
	}()
	return c
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
		// A page waiting in a tab behind another (the call-waiting page while the
		// person uses the dev inbox) keeps its timers (its polls) running.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
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
	counter, first := testCounter(t)
	if first {
		// go test -artifacts names the directories by number: say whose it is.
		if err := os.WriteFile(filepath.Join(t.ArtifactDir(), "test-name.txt"), []byte(t.Name()+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshots of this test's pages go to %s", dir)
	}
	return &Browser{t: t, ctx: ctx, shots: dir, counter: counter, console: watchConsole(ctx)}
}

// counters number the screenshots of each test across its browsers (a person's
// second browser "on another day" goes on where the first stopped).
var counters sync.Map // *testing.T -> *atomic.Int64

func testCounter(t *testing.T) (c *atomic.Int64, first bool) {
	v, loaded := counters.LoadOrStore(t, new(atomic.Int64))
	if !loaded {
		t.Cleanup(func() { counters.Delete(t) })
	}
	return v.(*atomic.Int64), !loaded
}

// NewTab opens another tab in the same browser, sharing its cookies, as a person
// opens a second page (the dev inbox) while the first one waits. It closes when
// the test ends.
func (b *Browser) NewTab() *Browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("open a tab: %v", err)
	}
	return &Browser{t: b.t, ctx: ctx, shots: b.shots, counter: b.counter, console: watchConsole(ctx)}
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
	b.t.Fatalf("browser at %s: %v\npage text:\n%s\nbrowser console:\n%s", url, err, b.tryText(), b.console)
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

// EvalPromise is Eval for an expression whose value is a Promise: it returns
// what the Promise resolves to (an accessibility checker's report).
func EvalPromise[T any](b *Browser, expr string) T {
	b.t.Helper()
	return get(b, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// FillLabel types value into the input or textarea whose <label> text is exactly
// label, replacing what it held, as a person finds a field by what it says.
func (b *Browser) FillLabel(label, value string) {
	b.t.Helper()
	id := b.fieldFor(label)
	// Emptied through its value property (DevTools evaluates even with the page's
	// scripts off): chromedp.Clear fails on a textarea without a text node, and
	// chromedp.SetValue cannot set an empty value.
	if !Eval[bool](b, fmt.Sprintf(`(() => { const e = document.getElementById(%s); e.value = ''; return e.value === '' })()`, jsString(id))) {
		b.fail(fmt.Errorf("could not empty the field labelled %q", label))
	}
	b.Do(chromedp.SendKeys(chromedp.ID(id), value))
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// Value returns what the field labelled label holds.
func (b *Browser) Value(label string) string {
	b.t.Helper()
	return get(b, chromedp.Value(chromedp.ID(b.fieldFor(label))))
}

// fieldFor is the id of the field the label with exactly this text names.
func (b *Browser) fieldFor(label string) string {
	b.t.Helper()
	sel := fmt.Sprintf(`//label[normalize-space(.)=%s]`, xpathString(label))
	if n := Eval[int](b, snapshotLength(sel)); n == 0 {
		b.fail(fmt.Errorf("no field labelled %q", label))
	}
	attr := get(b, chromedp.AttributeValue(sel, "for"))
	if attr.Value == "" {
		b.fail(fmt.Errorf("label %q has no for attribute", label))
	}
	return attr.Value
}

func buttons(text string) string {
	return fmt.Sprintf(`//button[normalize-space(.)=%[1]s] | //input[(@type="submit" or @type="button") and @value=%[1]s]`, xpathString(text))
}

func links(text string) string {
	return fmt.Sprintf(`//a[normalize-space(.)=%s]`, xpathString(text))
}

func clickable(text string) string { return buttons(text) + " | " + links(text) }

// Click presses the button or link whose visible text is exactly text and waits for
// the page it loads.
func (b *Browser) Click(text string) {
	b.t.Helper()
	b.press(clickable(text), "button or link", text)
}

// ClickButton presses the button whose visible text is exactly label (not a link
// with the same words) and waits for the page it loads.
func (b *Browser) ClickButton(label string) {
	b.t.Helper()
	b.press(buttons(label), "button", label)
}

// FollowLink follows the link whose visible text is exactly text (not a button with
// the same words) and waits for the page it loads.
func (b *Browser) FollowLink(text string) {
	b.t.Helper()
	b.press(links(text), "link", text)
}

func (b *Browser) press(sel, kind, text string) {
	b.t.Helper()
	if Eval[int](b, snapshotLength(sel)) == 0 {
		b.fail(fmt.Errorf("no %s %q on the page", kind, text))
	}
	b.Do(chromedp.WaitVisible(sel))
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Click(sel, chromedp.NodeVisible)); err != nil {
		b.fail(fmt.Errorf("click %s %q: %w", kind, text, err))
	}
	b.Do(chromedp.WaitReady(chromedp.CSS("body")))
}

// Has reports whether a button or link with exactly this text is on the page.
func (b *Browser) Has(text string) bool {
	b.t.Helper()
	return Eval[int](b, snapshotLength(clickable(text))) > 0
}

// HasButton reports whether a button with exactly this label is on the page.
func (b *Browser) HasButton(label string) bool {
	b.t.Helper()
	return Eval[int](b, snapshotLength(buttons(label))) > 0
}

func snapshotLength(xpath string) string {
	return fmt.Sprintf(`document.evaluate(%q, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null).snapshotLength`, xpath)
}

// WaitHeading waits up to timeout for the page's h1 to read want, as a person
// watches a page that moves on by itself (its script submitting a
// form). Navigations while it waits are expected.
func (b *Browser) WaitHeading(want string, timeout time.Duration) {
	b.t.Helper()
	const heading = `(() => { const h = document.querySelector('h1'); return h ? h.textContent.trim().replace(/\s+/g, ' ') : '' })()`
	var last string
	ok := b.poll(timeout, func(ctx context.Context) bool {
		h, err := chromedp.Run(ctx, chromedp.Evaluate[string](heading))
		if err == nil {
			last = h
		}
		return err == nil && h == want
	})
	if !ok {
		b.fail(fmt.Errorf("waited %s for the heading %q; the heading is %q", timeout, want, last))
	}
}

// WaitUntil waits up to timeout for the JavaScript expression to be true on the page,
// through navigations; it reports whether it became true. DevTools evaluates it even
// when the page's own scripts are off.
func (b *Browser) WaitUntil(expr string, timeout time.Duration) bool {
	b.t.Helper()
	return b.poll(timeout, func(ctx context.Context) bool {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		return err == nil && v
	})
}

func (b *Browser) poll(timeout time.Duration, check func(ctx context.Context) bool) bool {
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	for {
		if check(ctx) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Cookies returns the cookies the browser holds for the current page, as the
// browser stored them (a cookie it refused is missing).
func (b *Browser) Cookies() []*network.Cookie {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		b.fail(fmt.Errorf("read cookies: %w", err))
	}
	return res.Cookies
}

// pngSignature starts every PNG file.
var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// fullPagePNG captures the whole page, beyond the viewport, as PNG (chromedp's
// FullScreenshot gives JPEG unless the quality is exactly 100).
func fullPagePNG(ctx context.Context, t *chromedp.Target) ([]byte, error) {
	capture := true
	res, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format:                page.CaptureScreenshotFormatPng,
		CaptureBeyondViewport: &capture,
		FromSurface:           &capture,
	})
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(res.Data, pngSignature) {
		return nil, errors.New("the browser did not return a PNG image")
	}
	return res.Data, nil
}

// Screenshot saves a full-page PNG named with a sequence number and name, and
// returns the file's path ("" when it could not be taken; the test goes on).
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	n := b.counter.Add(1)
	img, err := chromedp.Run(b.ctx, fullPagePNG)
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	file := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", n, sanitize(name)))
	if err := os.WriteFile(file, img, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
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
