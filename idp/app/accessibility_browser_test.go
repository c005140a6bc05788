package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/web"
	"github.com/councilforms/idp/idp/webtest"
)

// axeDir holds the npm package of axe-core, pinned in its package-lock.json.
const axeDir = "testdata/axe"

var axeInstall struct {
	once sync.Once
	src  string
	err  error
	out  []byte
}

// axeSource is axe.min.js: .ci/run installs it with npm ci; otherwise npm ci
// runs here, once. Without it the test is skipped, or fails saying so when
// IDP_TEST_REQUIRE_SERVICES=1.
func axeSource(t *testing.T) string {
	t.Helper()
	file := filepath.Join(axeDir, "node_modules", "axe-core", "axe.min.js")
	axeInstall.once.Do(func() {
		if _, err := os.Stat(file); err != nil {
			npm, err := exec.LookPath("npm")
			if err != nil {
				axeInstall.err = fmt.Errorf("npm not found (apt-get install -y nodejs npm): %w", err)
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
			cmd.Dir = axeDir
			if axeInstall.out, axeInstall.err = cmd.CombinedOutput(); axeInstall.err != nil {
				return
			}
		}
		b, err := os.ReadFile(file)
		axeInstall.src, axeInstall.err = string(b), err
	})
	if err := axeInstall.err; err != nil {
		if os.Getenv("IDP_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("axe-core is missing (npm ci in idp/app/%s): %v\n%s", axeDir, err, axeInstall.out)
		}
		t.Skipf("axe-core is missing (npm ci in idp/app/%s): %v", axeDir, err)
	}
	return axeInstall.src
}

// wcagTags are the rules the pages are held to: WCAG 2.2 level A and AA.
const wcagTags = `['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']`

// auditor checks page states of one browser tab with axe-core (injected through
// the DevTools protocol, which works with the page's own scripts off) and for
// reflow at 320 CSS pixels.
type auditor struct {
	t     *testing.T
	axe   string
	js    bool
	pages int
}

// audit fails the test on any WCAG 2.2 AA violation, on content outside a
// landmark (axe's region rule) or on a page that scrolls sideways at 320 px.
func (a *auditor) audit(b *webtest.Browser, state string) {
	a.t.Helper()
	a.pages++
	b.Screenshot("axe-" + state)
	if !webtest.Eval[bool](b, `typeof window.axe === 'object'`) {
		if !a.js {
			// With the page's scripts off Chromium runs no timer callbacks, and axe
			// hands each rule's result on with setTimeout(..., 0): for the audit
			// alone, such timers run as microtasks; longer ones (axe's own
			// timeouts, failure paths only) never fire.
			webtest.Eval[bool](b, `(window.setTimeout = (f, ms, ...args) => {
  if (!(ms > 1)) Promise.resolve().then(() => f(...args))
  return 0
}, window.clearTimeout = () => {}, true)`)
		}
		webtest.Eval[bool](b, a.axe+"\n;true")
	}
	report := webtest.EvalPromise[string](b, `(async () => {
  const summary = (r) => r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + '\n    ' +
    v.nodes.map(n => n.target.join(' ') + ' ' + (n.failureSummary || '').replace(/\n/g, ' ')).join('\n    '))
  const wcag = await axe.run(document, { runOnly: { type: 'tag', values: `+wcagTags+` }, resultTypes: ['violations'], preload: false })
  const region = await axe.run(document, { runOnly: { type: 'rule', values: ['region'] }, resultTypes: ['violations'], preload: false })
  return JSON.stringify(summary(wcag).concat(summary(region)))
})()`)
	var violations []string
	if err := json.Unmarshal([]byte(report), &violations); err != nil {
		a.t.Fatalf("%s: axe report %q: %v", state, report, err)
	}
	if len(violations) > 0 {
		a.t.Errorf("%s (%s, javascript %v): %d accessibility violations:\n  %s", state, b.URL(), a.js, len(violations), strings.Join(violations, "\n  "))
	}
	// Reflow (WCAG 1.4.10): at 320 CSS px nothing needs a sideways scroll.
	b.Do(chromedp.EmulateViewport(320, 800))
	wide := webtest.Eval[int](b, `Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)`)
	if wide > 320 {
		offenders := webtest.Eval[string](b, `Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 321 && !e.closest('.app-table-scroll')).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ')`)
		b.Screenshot("reflow-" + state)
		a.t.Errorf("%s (%s, javascript %v): %d px wide at 320 px: %s", state, b.URL(), a.js, wide, offenders)
	}
	b.Do(chromedp.EmulateViewport(1000, 1400))
}

// auditNumberEntry audits 'Enter your phone number', and again with a number
// too short, then sends a code to number and audits 'Check your phone'; state
// begins the states' names.
func (a *auditor) auditNumberEntry(b *webtest.Browser, state, number string) {
	a.t.Helper()
	see(a.t, b, state+"phone-number", "Enter your phone number")
	a.audit(b, state+"phone-number")
	b.FillLabel("Phone number", "12")
	b.ClickButton("Send Code")
	a.audit(b, state+"phone-number-error")
	b.FillLabel("Phone number", number)
	b.ClickButton("Send Code")
	see(a.t, b, state+"check-your-phone", "Check your phone")
	a.audit(b, state+"check-your-phone")
}

// Issue 19, done when: axe-core finds no WCAG 2.2 AA violation, and nothing
// scrolls sideways at 320 px, on every page and state of the journey, with
// JavaScript and without: sign-in, sign-up, the codes, the phone pages, call
// waiting, errors, help, cookies, contact, privacy, accessibility, the lost
// phone page, the account page and the dev inbox. (Before: the call-waiting
// page's meta refresh, a critical meta-refresh violation with JavaScript and
// without; a long email address 340 px wide; the dev inbox table 730 px.)
func TestAccessibilityEveryPage(t *testing.T) {
	src := axeSource(t)
	jsModes(t, func(t *testing.T, js bool) {
		d := startIdP(t, embedded, nil)
		rp := newRelyingParty(t, d)
		a := &auditor{t: t, axe: src, js: js}
		p := newPerson(t, true)
		// A long address, which must wrap at 320 px.
		p.email = "firstname.middlename.lastname-" + p.email
		landline := newPerson(t, false)

		b := webtest.NewBrowser(t, js)
		b.Navigate(rp.url)
		b.Click("Login or Register")
		see(t, b, "sign-in", "Sign In")
		a.audit(b, "sign-in")
		b.FillLabel("Email address", "nobody")
		b.ClickButton("Sign in")
		a.audit(b, "sign-in-error")
		for path, heading := range map[string]string{
			"/help": "Problems signing in", "/help/lost-phone": "If you cannot use your phone number",
			"/cookies": "Cookies", "/contact": "Contact Norfolk County Council",
			"/privacy": "Privacy", "/accessibility": "Accessibility statement", "/login/no-such-page": "Page not found",
		} {
			b.Navigate(d.issuer + path)
			see(t, b, strings.Trim(strings.ReplaceAll(path, "/", "-"), "-"), heading)
			a.audit(b, strings.Trim(strings.ReplaceAll(path, "/", "-"), "-"))
		}

		b.Navigate(d.issuer + web.PathLogin)
		see(t, b, "sign-in-again", "Sign In")
		b.FollowLink("Sign up now")
		see(t, b, "sign-up", "Sign up")
		a.audit(b, "sign-up")
		b.ClickButton("Send verification code")
		a.audit(b, "sign-up-error")
		b.FillLabel("Email address", p.email)
		b.ClickButton("Send verification code")
		see(t, b, "check-your-email", "Check your email")
		a.audit(b, "check-your-email")
		in := openInbox(t, b, d.issuer)
		code := in.code("email", p.email, "inbox")
		a.audit(in.tab, "dev-inbox")
		b.FillLabel("Verification code", wrongCode(code))
		b.ClickButton("Verify code")
		a.audit(b, "check-your-email-error")
		b.FillLabel("Verification code", code)
		b.ClickButton("Verify code")
		see(t, b, "email-verified", "Your email address has now been verified")
		a.audit(b, "email-verified")
		b.ClickButton("Continue")
		see(t, b, "create-account", "Create your account")
		a.audit(b, "create-account")
		b.ClickButton("Create")
		a.audit(b, "create-account-error")
		b.FillLabel("Given name", p.given)
		b.FillLabel("Family name", p.family)
		b.FillLabel("Password", p.password)
		b.FillLabel("Confirm password", p.password)
		b.ClickButton("Create")
		a.auditNumberEntry(b, "", p.phone)
		b.FillLabel("Verification code", in.code("sms", p.e164, "inbox-sms"))
		b.ClickButton("Verify code")
		see(t, b, "confirm-phone", "Confirm your phone number")
		a.audit(b, "confirm-phone")
		b.ClickButton("Call Me")
		see(t, b, "calling", "We are calling you")
		a.audit(b, "calling")
		b.ClickButton("Continue") // before the hash key
		see(t, b, "calling-not-heard", "We are calling you")
		says(t, b, "We have not heard from your phone yet")
		a.audit(b, "calling-not-heard")
		in.pressHash("inbox-call")
		if !js {
			b.ClickButton("Continue")
		}
		b.WaitHeading("Signed in", callWait)

		b.Navigate(d.issuer + web.PathAccount)
		see(t, b, "account", "Your account")
		a.audit(b, "account")

		// Another browser: the phone check at sign-in and its lost-phone link; a
		// landline's call that ends without the hash key.
		c := webtest.NewBrowser(t, js)
		c.Navigate(rp.url)
		c.Click("Login or Register")
		see(t, c, "later-sign-in", "Sign In")
		c.FillLabel("Email address", p.email)
		c.FillLabel("Password", p.password)
		c.ClickButton("Sign in")
		see(t, c, "confirm-it-is-you", "Confirm it is you")
		a.audit(c, "confirm-it-is-you")
		c.FollowLink("I cannot use this phone number")
		see(t, c, "lost-phone", "If you cannot use your phone number")
		a.audit(c, "lost-phone-from-journey")
		// The form's sign-in link again, with a password proven in this browser.
		c.Navigate(rp.url)
		c.Click("Login or Register")
		see(t, c, "resume", "You have already started signing in")
		a.audit(c, "resume")

		// A password reset.
		f := webtest.NewBrowser(t, js)
		f.Navigate(rp.url)
		f.Click("Login or Register")
		f.FollowLink("Forgot your password?")
		see(t, f, "reset", "Reset your password")
		a.audit(f, "reset")
		f.ClickButton("Send verification code")
		a.audit(f, "reset-error")
		f.FillLabel("Email address", p.email)
		f.ClickButton("Send verification code")
		see(t, f, "reset-check-your-email", "Check your email")
		fin := openInbox(t, f, d.issuer)
		f.FillLabel("Verification code", fin.code("email", p.email, "reset-inbox"))
		f.ClickButton("Verify code")
		see(t, f, "reset-confirm-it-is-you", "Confirm it is you")
		f.ClickButton("Send Code")
		f.FillLabel("Verification code", fin.code("sms", p.e164, "reset-inbox-sms"))
		f.ClickButton("Verify code")
		see(t, f, "new-password", "Create a new password")
		a.audit(f, "new-password")
		f.ClickButton("Continue")
		a.audit(f, "new-password-error")

		e := webtest.NewBrowser(t, js)
		e.Navigate(rp.url)
		e.Click("Login or Register")
		g := &guide{t: t, d: d, b: e, p: landline, js: js}
		g.signUpToPhone("landline-")
		e.FillLabel("Phone number", landline.phone)
		e.ClickButton("Call Me")
		see(t, e, "landline-calling", "We are calling you")
		d.pressKeys(landline.e164, "1")
		if js {
			if !e.WaitUntil(`document.getElementById('call-status').textContent.includes('The call ended')`, callWait) {
				t.Fatalf("the status region never said the call ended:\n%s", e.Text())
			}
		} else {
			e.ClickButton("Continue")
			see(t, e, "landline-call-failed", "Enter your phone number")
			showsError(t, e, journey.MsgCallNotAnswered)
		}
		a.audit(e, "call-not-answered")
		if a.pages < 31 {
			t.Errorf("only %d page states audited", a.pages)
		}
	})
}

// Issue 19: the self-service change of a lost phone (IDP_PHONE_RECOVERY) is
// held to the same audit as every other page, with JavaScript and without:
// 'I cannot use this phone number' with its 'Change your phone number
// yourself', the code emailed to the account (and its error), the new number
// (and its error), its code, the repeat to confirm it, the page saying the
// change is pending, the dev inbox with the email that announces it, and a
// sign-in while the change waits (and its lost-phone page again). (Before: the
// pending page's paragraph with a long email address was 327 px wide at 320.)
func TestAccessibilityPhoneRecovery(t *testing.T) {
	src := axeSource(t)
	jsModes(t, func(t *testing.T, js bool) {
		d := startIdP(t, embedded, map[string]string{"IDP_PHONE_RECOVERY": "true", "IDP_CONTACT_PHONE": "01632 960 001"})
		rp := newRelyingParty(t, d)
		a := &auditor{t: t, axe: src, js: js}
		p := newPerson(t, true)
		p.email = "firstname.middlename.lastname-" + p.email // must wrap at 320 px
		lost := newPerson(t, true)                           // the new number, same account
		lost.email, lost.password = p.email, p.password

		g := startGuide(t, d, rp, p, js)
		g.signUpToPhone("")
		g.b.FillLabel("Phone number", p.phone)
		g.proveBySMS("")
		g.proveBySMS("confirm-")
		see(t, g.b, "signed-up", "Signed in")

		r := startGuide(t, d, rp, p, js)
		c := r.b
		r.signIn("")
		c.FollowLink("I cannot use this phone number")
		see(t, c, "lost-phone", "If you cannot use your phone number")
		says(t, c, "Change your phone number yourself")
		a.audit(c, "lost-phone-recovery")
		c.ClickButton("Change your phone number yourself")
		see(t, c, "recovery-email-code", "Check your email")
		says(t, c, p.email)
		a.audit(c, "recovery-email-code")
		code := r.inbox().code("email", p.email, "recovery-inbox-email")
		c.FillLabel("Verification code", wrongCode(code))
		c.ClickButton("Verify code")
		showsError(t, c, journey.MsgCodeWrong)
		a.audit(c, "recovery-email-code-error")
		c.FillLabel("Verification code", code)
		c.ClickButton("Verify code")
		a.auditNumberEntry(c, "recovery-", lost.phone)
		c.FillLabel("Verification code", r.inbox().code("sms", lost.e164, "recovery-inbox-sms"))
		c.ClickButton("Verify code")
		see(t, c, "recovery-confirm-phone", "Confirm your phone number")
		a.audit(c, "recovery-confirm-phone")
		c.ClickButton("Send Code")
		c.FillLabel("Verification code", r.inbox().code("sms", lost.e164, "recovery-inbox-sms-again"))
		c.ClickButton("Verify code")
		see(t, c, "recovery-pending", "Your phone number will change")
		says(t, c, "We have sent an email to "+p.email, "Telephone: 01632 960 001")
		a.audit(c, "recovery-pending")
		// The email announcing it, as the dev inbox shows it.
		r.inbox().tab.Navigate(r.inbox().url)
		see(t, r.inbox().tab, "recovery-inbox-notice", "Dev inbox")
		says(t, r.inbox().tab, "Your Norfolk County Council account has changed")
		a.audit(r.inbox().tab, "recovery-inbox-notice")

		// A sign-in while the change waits: the current number, still.
		w := startGuide(t, d, rp, p, js)
		e := w.b
		w.signIn("pending-")
		a.audit(e, "pending-confirm-it-is-you")
		e.FollowLink("I cannot use this phone number")
		see(t, e, "pending-lost-phone", "If you cannot use your phone number")
		a.audit(e, "pending-lost-phone")
		if a.pages < 11 {
			t.Errorf("only %d page states audited", a.pages)
		}
	})
}

// callingLandline signs up a new person with a landline, in a browser with
// JavaScript js, as far as 'Call Me': the call-waiting page.
func callingLandline(t *testing.T, js bool) *guide {
	t.Helper()
	d := startIdP(t, embedded, nil)
	g := startGuide(t, d, newRelyingParty(t, d), newPerson(t, false), js)
	g.signUpToPhone("")
	g.b.FillLabel("Phone number", g.p.phone)
	g.b.ClickButton("Call Me")
	see(t, g.b, "calling", "We are calling you")
	return g
}

// Issue 19: with JavaScript the call-waiting page does not reload itself (it
// did every 5 s, sending focus and the screen reader to the top); its status
// region says what happened with the call: a wrong key, without the page
// reloading, then the hash key, and the page moves on.
func TestBrowserCallWaitAnnouncesWithoutReloading(t *testing.T) {
	g := callingLandline(t, true)
	d, b, p := g.d, g.b, g.p
	webtest.Eval[bool](b, `(window.appMarker = 'still the same page', true)`)
	if got := webtest.Eval[string](b, `document.querySelector('[role=status]').textContent`); !strings.Contains(got, "Waiting for you to answer") {
		t.Fatalf("status region says %q", got)
	}
	if webtest.Eval[int](b, `document.querySelectorAll('meta[http-equiv=refresh]').length`) != 0 {
		t.Error("a meta refresh is in force with JavaScript")
	}
	// A while on the page, measured by its own polls (200 ms apart in these
	// tests): it is still the same page after eight of them.
	if !b.WaitUntil(`performance.getEntriesByType('resource').filter(e => new URL(e.name).pathname === '`+web.PathStatus+`').length >= 8`, callWait) {
		t.Fatal("the page did not poll the call's status")
	}
	d.pressKeys(p.e164, "1")
	if !b.WaitUntil(`document.querySelector('[role=status]').textContent.includes('The call ended before the hash key was pressed')`, callWait) {
		t.Fatalf("the status region never announced the unanswered call:\n%s", b.Text())
	}
	if got := webtest.Eval[string](b, `window.appMarker || 'reloaded'`); got != "still the same page" {
		t.Fatalf("the page was reloaded: %s", got)
	}
	see(t, b, "call-ended", "We are calling you")
	// 'Call Me again', then the hash key: announced, then the next page.
	b.ClickButton("Call Me again")
	see(t, b, "calling-again", "We are calling you")
	webtest.Eval[bool](b, `(window.appMarker = 'second call', true)`)
	g.inbox().pressHash("inbox-call")
	if !b.WaitUntil(`!window.appMarker || document.querySelector('[role=status]').textContent.includes('Your phone number is confirmed')`, callWait) {
		t.Fatal("the confirmed call was not announced")
	}
	b.WaitHeading("Confirm your phone number", callWait)
	// Read through the page's own DOM: the page came from the script's submit,
	// not from a click the harness waits on, and reading it by node (says)
	// could meet chromedp's nodes of the page before ('No node with given id').
	if masked := journey.MaskPhone(p.e164); !b.WaitUntil(`document.body.innerText.includes(`+strconv.Quote(masked)+`)`, callWait) {
		t.Fatalf("the next page does not say %s:\n%s", masked, webtest.Eval[string](b, `document.body.innerText`))
	}
}

// Issue 19: without JavaScript the call-waiting page never reloads itself
// (before: a meta refresh every 5 s, which axe rates a critical meta-refresh
// violation, WCAG 2.2.1, and which sent focus and the screen reader back to
// the top). It says to select 'Continue' once the hash key is pressed;
// 'Continue' before then shows the same page saying nothing has come from the
// phone yet; after '#', 'Continue' moves on to the guide's next step, 'repeat
// this process to confirm your phone number', and the sign-up ends at the
// form app signed in.
func TestBrowserCallWaitContinueWithoutJavaScript(t *testing.T) {
	g := callingLandline(t, false)
	b, p := g.b, g.p
	says(t, b, "Answer the call to "+journey.MaskPhone(p.e164)+" and press the hash key (#) on your phone",
		"When you have pressed the hash key, select 'Continue'.")
	if n := webtest.Eval[int](b, `document.querySelectorAll('meta[http-equiv=refresh]').length`); n != 0 {
		t.Fatalf("the call-waiting page has %d meta refresh", n)
	}
	b.ClickButton("Continue")
	see(t, b, "not-heard", "We are calling you")
	if got := webtest.Eval[string](b, `document.querySelector('[role=status]').textContent`); !strings.Contains(got, "We have not heard from your phone yet") {
		t.Fatalf("after an early 'Continue' the status says %q", got)
	}
	g.inbox().pressHash("inbox-call")
	b.ClickButton("Continue")
	// 'You can now move to step 12': the same again to confirm the phone.
	see(t, b, "confirm-phone", "Confirm your phone number")
	says(t, b, journey.MaskPhone(p.e164))
	g.proveByCall("confirm-", "Signed in")
	says(t, b, p.given+" "+p.family)
}

// Issue 19: GOV.UK's timeout warning. With a 10 s journey the dialog opens 5 s
// before the end; 'Continue' keeps the journey (the server's lifetime starts
// again), so a step taken after the first lifetime has passed still works.
func TestBrowserTimeoutWarning(t *testing.T) {
	src := axeSource(t)
	d := startIdP(t, embedded, map[string]string{"IDP_JOURNEY_TTL": "10s"})
	rp := newRelyingParty(t, d)
	b := webtest.NewBrowser(t, true)
	b.Navigate(rp.url)
	b.Click("Login or Register")
	b.FollowLink("Sign up now")
	b.FillLabel("Email address", newPerson(t, true).email)
	b.ClickButton("Send verification code")
	see(t, b, "check-your-email", "Check your email")
	if webtest.Eval[bool](b, `document.body.innerText.includes('If you do not do anything on this page')`) {
		t.Error("with JavaScript the no-script notice shows")
	}
	if !b.WaitUntil(`document.querySelector('dialog.app-timeout-dialog[open]') !== null`, time.Minute) {
		t.Fatal("the timeout warning never opened")
	}
	see(t, b, "timeout-warning", "Check your email")
	says(t, b, "You have not done anything for a while", "we will clear what you have entered in")
	if got := webtest.Eval[string](b, `document.activeElement && document.activeElement.textContent.trim()`); got != "Continue" {
		t.Errorf("focus is on %q in the open dialog, want 'Continue'", got)
	}
	a := &auditor{t: t, axe: src, js: true}
	a.audit(b, "timeout-warning")
	continueDialog(b)
	if !b.WaitUntil(`document.querySelector('dialog.app-timeout-dialog') === null`, time.Minute) {
		t.Fatal("'Continue' did not close the warning")
	}
	// It opens again once the new lifetime nears its end: by then the first has
	// passed.
	if !b.WaitUntil(`document.querySelector('dialog.app-timeout-dialog[open]') !== null`, time.Minute) {
		t.Fatal("the warning did not come back for the new lifetime")
	}
	continueDialog(b)
	if !b.WaitUntil(`document.querySelector('dialog.app-timeout-dialog') === null`, time.Minute) {
		t.Fatal("'Continue' did not close the warning")
	}
	// The page was loaded after the journey's last save: 11.5 s after its load
	// the first 10 s lifetime is over for certain.
	if !b.WaitUntil(`performance.now() > 11500`, time.Minute) {
		t.Fatal("the page's clock did not reach 11.5 s")
	}
	b.FillLabel("Verification code", "000000")
	b.ClickButton("Verify code")
	see(t, b, "still-here", "Check your email")
	showsError(t, b, journey.MsgCodeWrong)
}

// continueDialog presses the timeout warning's 'Continue' (a button that
// loads no page, so not ClickButton, which waits for one).
func continueDialog(b *webtest.Browser) {
	b.Do(chromedp.Click(chromedp.CSS(`dialog.app-timeout-dialog [data-app-timeout-continue]`), chromedp.NodeVisible))
}
