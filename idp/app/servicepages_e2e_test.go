package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/web"
)

// footerLinks are the GOV.UK footer's meta links every page carries (issue 19;
// before, the footer was the organisation's name alone).
var footerLinks = []string{"Help", "Cookies", "Privacy", "Accessibility statement", "Contact"}

func expectFooter(t *testing.T, b *browser) {
	t.Helper()
	for _, l := range footerLinks {
		if _, ok := b.page.parsed.Link(l); !ok {
			t.Errorf("%s: no footer link %q", b.page.url, l)
		}
	}
}

// The footer's pages answer without a journey, with and without the council's
// settings: help, cookies, contact, privacy and accessibility, and the
// lost-phone page; the contact details appear where the settings give them and
// a sentence sending the person to the council's website where they do not.
func TestServicePages(t *testing.T) {
	for _, tc := range []struct {
		name  string
		vars  map[string]string
		check func(t *testing.T, d *idp, b *browser)
	}{
		{"no settings", nil, func(t *testing.T, d *idp, b *browser) {
			b.get("/contact")
			b.expectHeading("Contact Norfolk County Council")
			b.expectText("To get help, contact the council's customer services.") // IDP_CONTACT_TEXT's default
			b.get("/")
			b.follow("Privacy")
			b.expectHeading("Privacy")
			b.expectText("Ask Norfolk County Council for a copy")
			b.follow("Accessibility statement")
			b.expectHeading("Accessibility statement")
			b.expectText("Ask Norfolk County Council for its accessibility statement")
		}},
		{"settings", map[string]string{"IDP_CONTACT_PHONE": "01632 960 001", "IDP_CONTACT_EMAIL": "help@example.gov.uk",
			"IDP_CONTACT_HOURS": "Monday to Friday, 9am to 5pm", "IDP_PRIVACY_URL": "https://www.example.gov.uk/privacy",
			"IDP_ACCESSIBILITY_URL": "https://www.example.gov.uk/sign-in-accessibility"}, func(t *testing.T, d *idp, b *browser) {
			for _, path := range []string{"/contact", "/help", "/help/lost-phone"} {
				b.get(path)
				b.expectText("Telephone: 01632 960 001")
				b.expectText("Monday to Friday, 9am to 5pm")
				b.expectText("Email: help@example.gov.uk")
			}
			if href, _ := b.page.parsed.Link("Privacy"); href != "https://www.example.gov.uk/privacy" {
				t.Errorf("the footer's Privacy link goes to %q", href)
			}
			if href, _ := b.page.parsed.Link("Accessibility statement"); href != "https://www.example.gov.uk/sign-in-accessibility" {
				t.Errorf("the footer's Accessibility statement link goes to %q", href)
			}
			// An old bookmark of the built-in page goes to the council's.
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := c.Get(d.issuer + "/privacy")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "https://www.example.gov.uk/privacy" {
				t.Errorf("GET /privacy: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := startIdP(t, embedded, tc.vars)
			b := d.browser()
			for path, heading := range map[string]string{
				"/help": "Problems signing in", "/help/lost-phone": "If you cannot use your phone number",
				"/cookies": "Cookies", "/contact": "Contact Norfolk County Council",
			} {
				b.get(path)
				b.expectHeading(heading)
				expectFooter(t, b)
			}
			b.get("/help")
			b.expectText("A code works for 10 minutes")
			// No journey: no 'Back' (to a 'session has timed out' page) and no link
			// to start a reset, which only a form app's sign-in can begin.
			if _, ok := b.page.parsed.Link("Back"); ok {
				t.Error("the help page has a Back link without a journey")
			}
			if _, ok := b.page.parsed.Link("reset your password"); ok {
				t.Error("the help page links a reset without a journey")
			}
			b.follow("find out what to do if you cannot use your phone number")
			b.expectHeading("If you cannot use your phone number")
			b.expectText("What we will check")
			tc.check(t, d, b)
		})
	}
}

// The journey's pages carry the footer and link 'Problems signing in' from the
// Sign In, code and call pages; the phone check at sign-in links 'I cannot use
// this phone number' to a page with a way forward (before, 'Confirm it is you'
// offered only Send Code and Call Me: a dead end without the phone).
func TestLostPhoneAndHelpLinks(t *testing.T) {
	d := startIdP(t, embedded, map[string]string{"IDP_CONTACT_PHONE": "01632 960 001"})
	p := newPerson(t, true)
	b := d.browser()
	signUp(d, b, p)

	c := d.browser()
	c.startSignIn()
	c.expectHeading("Sign In")
	expectFooter(t, c)
	if _, ok := c.page.parsed.Link("Problems signing in"); !ok {
		t.Errorf("no 'Problems signing in' link on Sign In")
	}
	c.press("Sign in", "email", p.email, "password", p.password)
	c.expectHeading("Confirm it is you")
	expectFooter(t, c)
	c.follow("I cannot use this phone number")
	c.expectHeading("If you cannot use your phone number")
	c.expectText("Telephone: 01632 960 001")
	c.expectText("can remove the old phone number from your account")
	c.follow("Back")
	c.expectHeading("Confirm it is you")
	c.press("Send Code")
	c.expectHeading("Check your phone")
	c.follow("Problems signing in")
	c.expectHeading("Problems signing in")
	c.follow("Back")
	c.expectHeading("Check your phone")
	// 'Back' from the code and from the call goes to the choice (before, neither
	// page had one).
	c.follow("Back")
	c.expectHeading("Confirm it is you")
	c.press("Call Me")
	c.expectHeading("We are calling you")
	c.follow("Back")
	c.expectHeading("Confirm it is you")
	d.pressKeys(p.e164, "#") // the call left behind proves nothing
	c.get("/login")
	c.expectHeading("Confirm it is you")

	// From Sign In the help page's 'reset your password' starts a reset.
	e := d.browser()
	e.startSignIn()
	e.follow("Problems signing in")
	e.follow("reset your password")
	e.expectHeading("Reset your password")
}

// recordingJar remembers the name of every cookie the idp sets.
type recordingJar struct {
	http.CookieJar
	mu    sync.Mutex
	names map[string]bool
}

func (j *recordingJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	j.mu.Lock()
	for _, c := range cookies {
		j.names[c.Name] = true
	}
	j.mu.Unlock()
	j.CookieJar.SetCookies(u, cookies)
}

// The cookies page names every cookie the idp sets: a sign-up, a sign-out, a
// sign-in from the same browser (the device cookie) and the account page are
// walked, and each cookie they set must be on the page.
func TestCookiesPageListsEveryCookie(t *testing.T) {
	d := startIdP(t, embedded, nil)
	p := newPerson(t, true)
	b := d.browser()
	rec := &recordingJar{CookieJar: b.c.Jar, names: map[string]bool{}}
	b.c.Jar = rec
	signUp(d, b, p)
	b.get("/account")
	b.press("Sign out")
	signIn(d, b, p)
	proveBySMS(d, b, p)
	b.exchange()
	b.get("/cookies")
	b.expectHeading("Cookies")
	listed := map[string]bool{}
	for _, c := range web.Cookies("en") {
		listed[c.Name] = true
		b.expectText(c.Name)
	}
	if len(rec.names) < 3 {
		t.Fatalf("the walk set only %v", rec.names)
	}
	for name := range rec.names {
		if !listed[name] {
			t.Errorf("the idp set cookie %q, which the cookies page does not list", name)
		}
	}
}

var timeoutRe = regexp.MustCompile(`data-app-timeout="(\d+)"`)

func timeoutLeft(t *testing.T, b *browser) int {
	t.Helper()
	m := timeoutRe.FindStringSubmatch(b.page.body)
	if m == nil {
		t.Fatalf("%s has no timeout warning", b.page.url)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// The timeout warning: a journey page says how long is left, in seconds for the
// script and in words without it; 'Continue' (POST /login/keep-alive, behind the
// cross-origin check) starts the journey's lifetime again.
func TestTimeoutWarningKeepsTheJourney(t *testing.T) {
	d := startIdP(t, embedded, nil)
	b := d.browser()
	startSignUp(b, newPerson(t, true).email)
	if got := timeoutLeft(t, b); got != 3600 {
		t.Errorf("a fresh journey has %d s left, want 3600", got)
	}
	b.expectText("If you do not do anything on this page for 60 minutes, we will clear what you have entered")
	d.clock.advance(50 * time.Minute)
	b.get("/login")
	if got := timeoutLeft(t, b); got != 600 {
		t.Errorf("after 50 minutes %d s left, want 600", got)
	}
	b.expectText("for 10 minutes, we will clear")

	// From another site: refused, nothing kept.
	req, _ := http.NewRequest(http.MethodPost, d.issuer+web.PathKeepAlive, nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site keep-alive: %d, want 403", resp.StatusCode)
	}
	b.get("/login")
	if got := timeoutLeft(t, b); got != 600 {
		t.Errorf("after a refused keep-alive %d s left, want 600", got)
	}

	// The dialog's 'Continue', as the script sends it.
	req, _ = http.NewRequest(http.MethodPost, d.issuer+web.PathKeepAlive, nil)
	req.Header.Set("Origin", d.issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Accept", "application/json")
	resp, err = b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Timeout int }
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || got.Timeout != 3600 {
		t.Fatalf("keep-alive: %d %+v %v", resp.StatusCode, got, err)
	}
	b.get("/login")
	b.expectHeading("Check your email")
	if left := timeoutLeft(t, b); left != 3600 {
		t.Errorf("after 'Continue' %d s left, want 3600", left)
	}

	// Without a journey there is nothing to keep.
	c := d.browser()
	req, _ = http.NewRequest(http.MethodPost, d.issuer+web.PathKeepAlive, nil)
	req.Header.Set("Origin", d.issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err = c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Errorf("keep-alive without a journey: %d, want 410", resp.StatusCode)
	}
	if !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		t.Errorf("keep-alive answers %q", resp.Header.Get("Content-Type"))
	}
}
