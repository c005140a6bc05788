package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/idp/web"
	"github.com/councilforms/idp/idp/webtest"
)

// attacker is someone who starts a sign-in with its own browser and PKCE
// verifier, hoping to collect the code another person's browser earns.
type attacker struct {
	d           *idp
	c           *http.Client // keeps its own cookies, follows no redirect
	verifier    string
	state       string
	continueURL string
	id          string // the sign-in request id, read from the Location
}

func newAttacker(d *idp) *attacker {
	jar, _ := cookiejar.New(nil)
	return &attacker{d: d, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// start calls /authorize itself and reads the request id from the redirect to
// the continue step.
func (a *attacker) start() {
	a.d.t.Helper()
	a.verifier, a.state = oauth2.GenerateVerifier(), randomString()
	res, err := a.c.Get(a.d.rp.AuthCodeURL(a.state, oauth2.S256ChallengeOption(a.verifier), oidc.Nonce(randomString())))
	if err != nil {
		a.d.t.Fatal(err)
	}
	res.Body.Close()
	loc, err := res.Request.URL.Parse(res.Header.Get("Location"))
	if err != nil || loc.Path != "/authorize/continue" || loc.Query().Get("id") == "" {
		a.d.t.Fatalf("/authorize answered %d, Location %q: not the continue step", res.StatusCode, res.Header.Get("Location"))
	}
	a.continueURL, a.id = loc.String(), loc.Query().Get("id")
}

// poll asks for the request's code as the library's callback would give it,
// with no cookie; it returns the code if one came back.
func (a *attacker) poll() string {
	res, err := http.DefaultClient.Do(mustRequest(a.d.issuer + "/authorize/callback?id=" + url.QueryEscape(a.id)))
	if err != nil {
		return ""
	}
	res.Body.Close()
	if u, err := url.Parse(res.Header.Get("Location")); err == nil && strings.HasPrefix(u.String(), rpRedirect) {
		return u.Query().Get("code")
	}
	return ""
}

func mustRequest(u string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return req
}

// pollUntil polls in the background until stop is closed, returning the first
// code collected.
func (a *attacker) pollUntil(stop <-chan struct{}) func() string {
	var got atomic.Value
	var wg sync.WaitGroup
	wg.Add(1)
	noRedirect := &http.Client{Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			res, err := noRedirect.Do(mustRequest(a.d.issuer + "/authorize/callback?id=" + url.QueryEscape(a.id)))
			if err != nil {
				continue
			}
			res.Body.Close()
			if u, err := url.Parse(res.Header.Get("Location")); err == nil && strings.HasPrefix(u.String(), rpRedirect) &&
				u.Query().Get("code") != "" {
				got.Store(u.Query().Get("code"))
				return
			}
		}
	}()
	return func() string {
		wg.Wait()
		code, _ := got.Load().(string)
		return code
	}
}

// redeem is the attacker's own exchange of a collected code: it fails the test
// if the attacker gets tokens.
func (a *attacker) mustNotRedeem(t *testing.T, code string) {
	t.Helper()
	if code == "" {
		return
	}
	tok, err := a.d.rp.Exchange(context.Background(), code, oauth2.VerifierOption(a.verifier))
	if err == nil {
		raw, _ := tok.Extra("id_token").(string)
		id, _ := a.d.verify.Verify(context.Background(), raw)
		sub := ""
		if id != nil {
			sub = id.Subject
		}
		t.Fatalf("the attacker redeemed the victim's code: tokens for %q", sub)
	}
	t.Fatalf("the attacker collected a code (%v on redeeming it)", err)
}

// expectOtherBrowserPage: the lured browser is told what happened, stays at
// the idp and is not sent to the form app.
func expectOtherBrowserPage(t *testing.T, b *browser, pg page) {
	t.Helper()
	if b.code != "" {
		t.Fatalf("the lured browser was sent to the form app with a code")
	}
	if pg.status != http.StatusBadRequest || b.heading() != provider.OtherBrowserTitle {
		t.Fatalf("lured browser saw %d %q, want %d %q:\n%s", pg.status, b.heading(),
			http.StatusBadRequest, provider.OtherBrowserTitle, pg)
	}
	b.expectText("Go back to the form and select 'Login or Register' again")
}

// The attack of security finding 1: the attacker starts a sign-in, lures the
// victim's browser to its continue link and polls the callback for the code.
// With a live SSO session the victim would see nothing at all.
func TestAttackCodeTheftWithSSOSession(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		p := newPerson(t, true)
		victim := d.browser()
		signUp(d, victim, p) // the victim now has an SSO session
		for try := range 20 {
			a := newAttacker(d)
			a.start()
			stop := make(chan struct{})
			collected := a.pollUntil(stop)
			victim.state, victim.code = a.state, "" // whatever reaches the form app carries the attacker's state
			pg := victim.get(a.continueURL)
			time.Sleep(20 * time.Millisecond)
			close(stop)
			a.mustNotRedeem(t, collected())
			a.mustNotRedeem(t, a.poll())
			if try == 0 {
				expectOtherBrowserPage(t, victim, pg)
			}
		}
		// The victim's own sign-ins still use the session.
		victim.startSignIn()
		if victim.code == "" {
			t.Fatalf("the victim's own sign-in did not use the SSO session:\n%s", victim.page)
		}
		victim.exchange()
	})
}

func TestAttackCodeTheftWithoutSession(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		p := newPerson(t, true)
		signUp(d, d.browser(), p)

		a := newAttacker(d)
		a.start()
		victim := d.browser() // no session: the victim will sign in
		victim.state = a.state
		stop := make(chan struct{})
		collected := a.pollUntil(stop)
		pg := victim.get(a.continueURL)
		if victim.heading() == "Sign In" {
			// Before the fix the victim signs in on the attacker's request.
			victim.press("Sign in", "email", p.email, "password", p.password)
			proveBySMS(d, victim, p)
			time.Sleep(20 * time.Millisecond)
			close(stop)
			a.mustNotRedeem(t, collected())
			a.mustNotRedeem(t, a.poll())
			t.Fatalf("the lured browser was shown the Sign In page of the attacker's request")
		}
		close(stop)
		a.mustNotRedeem(t, collected())
		expectOtherBrowserPage(t, victim, pg)
		// The pages' own entry point refuses it too.
		pg = victim.get("/login?authRequestID=" + url.QueryEscape(a.id))
		expectOtherBrowserPage(t, victim, pg)
		a.mustNotRedeem(t, a.poll())

		// The attacker's own browser can still use its request: nothing was
		// broken for the person who started it.
		res, err := a.c.Get(a.continueURL)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("the starting browser's continue answered %d", res.StatusCode)
		}
	})
}

// The library's callback, which turned any finished request into a code for
// any caller, is not served.
func TestAuthorizeCallbackIsNotServed(t *testing.T) {
	d := startIdP(t, embedded, nil)
	p := newPerson(t, true)
	b := d.browser()
	signUp(d, b, p)
	res, err := http.Get(d.issuer + "/authorize/callback?id=anything")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("/authorize/callback answered %d, want 404", res.StatusCode)
	}
}

// Security finding 3: a half-finished journey must not pass to the next person
// on a shared computer.
func TestSharedComputerBrowserRestart(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		a := newPerson(t, true)
		signUp(d, d.browser(), a)

		pc := d.browser()
		forgotToNewPassword(d, pc, a)
		pc.restart() // A closes the browser at 'Create a new password'

		// The next person follows a form's sign-in link on the same computer.
		pc.startSignIn()
		pc.expectHeading("Sign In")
		pc.expectNoText(journey.MaskEmail(strings.ToLower(a.email)))
	})
}

func TestSharedComputerTabClosed(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		a := newPerson(t, true)
		signUp(d, d.browser(), a)

		pc := d.browser()
		forgotToNewPassword(d, pc, a)
		// A closes only the tab; the next person follows a sign-in link.
		pc.startSignIn()
		pc.expectHeading("You have already started signing in")
		pc.expectNoText("Create a new password")
		pc.expectText(journey.MaskEmail(a.email))
		pc.press("Start again")
		pc.expectHeading("Sign In")
		// A's reset is gone: no way back to it.
		pc.get("/login")
		pc.expectHeading("Sign In")

		// Idle longer than the resume limit: straight to Sign In.
		pc = d.browser()
		forgotToNewPassword(d, pc, a)
		d.clock.advance(11 * time.Minute)
		pc.startSignIn()
		pc.expectHeading("Sign In")
	})
}

// The guide's "without closing the sign-in page" must not matter: the same
// person closing the tab and following the link again carries on.
func TestJourneyResumesAfterTabClosed(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		p := newPerson(t, true)
		signUp(d, d.browser(), p)

		b := d.browser()
		signIn(d, b, p)
		b.startSignIn() // the tab was closed; the form's link again
		b.expectHeading("You have already started signing in")
		b.press("Continue")
		b.expectHeading("Confirm it is you")
		proveBySMS(d, b, p)
		checkClaims(t, b.exchange(), p, "pwd", "sms")

		// A journey with nothing proven yet resumes without asking.
		b = d.browser()
		startSignUp(b, newPerson(t, true).email)
		b.startSignIn()
		b.expectHeading("Check your email")
	})
}

// The journey cookie ends with the browser session, and the store holds only a
// hash of its value.
func TestJourneyCookieIsASessionCookie(t *testing.T) {
	d := startIdP(t, embedded, nil)
	b := d.browser()
	b.startSignIn()
	for _, h := range b.page.header.Values("Set-Cookie") {
		if strings.HasPrefix(h, "__Host-idp_journey=") {
			low := strings.ToLower(h)
			if strings.Contains(low, "max-age") || strings.Contains(low, "expires") {
				t.Errorf("journey cookie outlives the browser session: %s", h)
			}
			return
		}
	}
	t.Fatalf("no journey cookie set: %v", b.page.header.Values("Set-Cookie"))
}

// forgotToNewPassword walks 'Forgot your password?' up to 'Create a new
// password': email and phone proven.
func forgotToNewPassword(d *idp, b *browser, p person) {
	d.t.Helper()
	b.startSignIn()
	b.follow("Forgot your password?")
	b.press("Send verification code", "email", p.email)
	b.press("Verify code", "code", d.latest("email", p.email).Code)
	b.expectHeading("Confirm it is you")
	proveBySMS(d, b, p)
	b.expectHeading("Create a new password")
}

// The code-theft attack with a real browser as the lured victim: signed in to
// the idp (an SSO session), it opens a page on the attacker's site, which
// redirects it to the attacker's continue link. It must stay at the idp on a
// page that says what happened, and the attacker's polls must get nothing.
func TestBrowserLuredVictimGivesTheAttackerNothing(t *testing.T) {
	d := startIdP(t, embedded, nil)
	rp := newRelyingParty(t, d)
	p := newPerson(t, true)
	signUp(d, d.browser(), p)

	b := webtest.NewBrowser(t, true)
	b.Navigate(rp.url)
	b.Click("Login or Register")
	g := &guide{t: t, d: d, b: b, p: p, js: true}
	g.signIn("")
	g.proveBySMS("")
	see(t, b, "signed-in", "Signed in")

	a := newAttacker(d)
	a.start()
	lure := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, a.continueURL, http.StatusFound)
	}))
	t.Cleanup(lure.Close)
	stop := make(chan struct{})
	collected := a.pollUntil(stop)
	b.Navigate(lure.URL + "/free-training")
	b.WaitHeading(provider.OtherBrowserTitle, 10*time.Second)
	close(stop)
	a.mustNotRedeem(t, collected())
	a.mustNotRedeem(t, a.poll())
	says(t, b, "Go back to the form and select 'Login or Register' again")
	if u := b.URL(); !strings.HasPrefix(u, d.issuer) {
		t.Errorf("the lured browser left the idp for %s", u)
	}
}

// A double click on the last 'Verify code' (the browser shows the second
// answer) and a reload afterwards end at the form app with the same code:
// finding 6 of the fault review.
func TestLastStepTwiceEndsAtTheFormApp(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		p := newPerson(t, true)
		signUp(d, d.browser(), p)

		b := d.browser()
		signIn(d, b, p)
		b.press("Send Code")
		code := d.smsCode(p.e164)
		// The second click leaves before the first answer arrives: it carries
		// the cookies the browser had before either.
		idpURL, _ := url.Parse(d.issuer)
		before := b.c.Jar.Cookies(idpURL)
		b.press("Verify code", "code", code)
		first := b.code
		if first == "" {
			t.Fatalf("the first click did not reach the form app:\n%s", b.page)
		}
		b.code = ""
		b.c.Jar.SetCookies(idpURL, before)
		b.press("Verify code", "code", code) // the second click of the double click
		if b.code != first {
			t.Fatalf("the second click ended with code %q, want the first %q; on\n%s", b.code, first, b.page)
		}
		checkClaims(t, b.exchange(), p, "pwd", "sms")
	})
}

// Security finding 4: password spraying across accounts from one network is
// throttled, whether the network is one IPv4 address or many addresses of one
// IPv6 /64; other networks are unaffected.
func TestAttackPasswordSprayFromOneNetwork(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, map[string]string{
			"IDP_TRUSTED_PROXIES": "127.0.0.1/32", "IDP_PASSWORD_NETWORK_LIMIT": "30", "IDP_PASSWORD_NETWORK_SLOWDOWN": "30",
		})
		p := newPerson(t, true)
		signUp(d, d.browser(), p)

		refused := 0
		for i := range 150 {
			b := d.browser()
			b.forwardedFor = fmt.Sprintf("2001:db8:1:2::%x", i+1) // a fresh address of one /64 each time
			b.startSignIn()
			email := fmt.Sprintf("sprayed%d@example.gov.uk", i)
			if i%10 == 0 {
				email = p.email
			}
			b.press("Sign in", "email", email, "password", "Winter2026!")
			switch {
			case strings.Contains(text(b.page.body), "too many attempts to sign in from your network"):
				refused++
			case i >= 30:
				t.Fatalf("try %d from the same /64 was checked:\n%s", i+1, b.page)
			}
		}
		if refused != 120 {
			t.Fatalf("%d of 150 tries refused, want the 120 after the first 30", refused)
		}
		// The person's right password from that network is refused too...
		b := d.browser()
		b.forwardedFor = "2001:db8:1:2::beef"
		b.startSignIn()
		b.press("Sign in", "email", p.email, "password", p.password)
		b.expectText("too many attempts to sign in from your network")
		// ...while another network (the next /64, an IPv4 office) signs in.
		for _, addr := range []string{"2001:db8:1:3::1", "198.51.100.20"} {
			b := d.browser()
			b.forwardedFor = addr
			signIn(d, b, p)
		}
	})
}

// Security finding 5: an attacker's wrong passwords lock the account for
// unknown browsers only; the person's own browser, where they signed in
// before, still signs in.
func TestAttackLockoutDoesNotStopTheKnownBrowser(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, map[string]string{"IDP_TRUSTED_PROXIES": "127.0.0.1/32"})
		p := newPerson(t, true)
		own := d.browser()
		own.forwardedFor = "198.51.100.7"
		signUp(d, own, p) // the person's own browser, now known to the account

		attacker := d.browser()
		attacker.forwardedFor = "203.0.113.66"
		for range 10 {
			attacker.startSignIn()
			attacker.press("Sign in", "email", p.email, "password", "not their password")
		}
		attacker.expectText("Your account is locked")

		// A browser that never signed in to the account is refused, even with
		// the right password.
		other := d.browser()
		other.forwardedFor = "198.51.100.8"
		other.startSignIn()
		other.press("Sign in", "email", p.email, "password", p.password)
		other.expectText("Your account is locked")

		// The person's own browser carries on, another day (the browser was
		// closed: no SSO session, the device cookie stays).
		own.restart()
		signIn(d, own, p)
		proveBySMS(d, own, p)
		checkClaims(t, own.exchange(), p, "pwd", "sms")
	})
}

// Security finding 9: the lock after wrong passwords reads the same for an
// address with an account and one without (no enumeration by the lock
// message), and says the true wait.
func TestAttackLockMessageDoesNotTellAccountsApart(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, map[string]string{"IDP_TRUSTED_PROXIES": "127.0.0.1/32"})
		p := newPerson(t, true)
		signUp(d, d.browser(), p)
		seen := map[string]string{}
		for i, email := range []string{p.email, "nobody.here@example.gov.uk"} {
			b := d.browser()
			b.forwardedFor = fmt.Sprintf("203.0.113.%d", 10+i)
			var last string
			for range 11 {
				b.startSignIn()
				b.press("Sign in", "email", email, "password", "Winter2026!")
				last = text(b.page.body)
			}
			seen[email] = last
		}
		real, unknown := seen[p.email], seen["nobody.here@example.gov.uk"]
		if !strings.Contains(real, "Your account is locked") || !strings.Contains(real, "Try again in 1 minute,") {
			t.Fatalf("real account after 11 wrong passwords:\n%s", real)
		}
		// The pages differ only by the address typed back into the field.
		if strings.ReplaceAll(real, p.email, "X") != strings.ReplaceAll(unknown, "nobody.here@example.gov.uk", "X") {
			t.Fatalf("the lock reads differently for an unknown address:\nreal:    %s\nunknown: %s", real, unknown)
		}
	})
}

// Security finding 10: a listing of the journey store is not a set of journeys
// to take over. The journey is stored under a hash of its cookie, and the
// stored state does not hold the cookie's value.
func TestJourneyStoreHoldsNoCookieValue(t *testing.T) {
	d := startIdP(t, embedded, nil)
	b := d.browser()
	b.startSignIn()
	cookie := cookieValue(b, d.issuer, web.JourneyCookie)
	ctx := context.Background()
	if _, _, err := d.app.Ephemeral.Get(ctx, "journey:"+cookie); err == nil {
		t.Fatalf("the journey is stored under its cookie's value")
	}
	raw, _, err := d.app.Ephemeral.Get(ctx, web.JourneyKey(cookie))
	if err != nil {
		t.Fatalf("no journey under the hash of the cookie: %v", err)
	}
	if strings.Contains(string(raw), cookie) {
		t.Fatalf("the stored journey holds its cookie's value: %s", raw)
	}
}
