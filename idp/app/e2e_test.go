package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/web"
)

// person is someone signing up: a drama-range mobile (07700 900xxx) or landline
// (020 7946 0xxx), which development mode accepts.
type person struct {
	email, given, family, password string
	phone, e164                    string
	mobile                         bool
}

func newPerson(t *testing.T, mobile bool) person {
	seq.Lock()
	seq.n++
	n := seq.n
	seq.Unlock()
	p := person{
		email:    fmt.Sprintf("Worker%d.%s@Example.gov.uk", n, strings.ToLower(t.Name()[4:min(len(t.Name()), 14)])),
		given:    "Sam",
		family:   fmt.Sprintf("O'Neill-%d", n),
		password: "correct horse battery staple",
		mobile:   mobile,
	}
	if mobile {
		p.phone, p.e164 = fmt.Sprintf("07700 900%03d", n), fmt.Sprintf("+447700900%03d", n)
	} else {
		p.phone, p.e164 = fmt.Sprintf("020 7946 00%02d", n%100), fmt.Sprintf("+4420794600%02d", n%100)
	}
	return p
}

// signUpToPhone walks the guide from 'Login or Register' to the phone number page.
func signUpToPhone(d *idp, b *browser, p person) {
	d.t.Helper()
	b.startSignIn()
	b.expectHeading("Sign In")
	b.follow("Sign up now")
	b.expectHeading("Sign up")
	b.press("Send verification code", "email", p.email)
	b.expectHeading("Check your email")
	b.expectText("check your spam")
	subject, code := d.emailCode(p.email)
	if subject != "Norfolk County Council account email verification code" {
		d.t.Fatalf("email subject %q", subject)
	}
	b.press("Verify code", "code", code[:3]+" "+code[3:]) // typed with a space
	b.expectHeading("Your email address has now been verified")
	b.press("Continue")
	b.expectHeading("Create your account")
	b.press("Create", "given-name", p.given, "surname", p.family, "password", p.password, "confirm-password", p.password)
	b.expectHeading("Enter your phone number")
}

// startSignUp goes from 'Login or Register' to the email code page.
func startSignUp(b *browser, email string) {
	b.t.Helper()
	b.startSignIn()
	b.follow("Sign up now")
	b.press("Send verification code", "email", email)
	b.expectHeading("Check your email")
}

// proveBySMS answers a phone page by text message: 'Send Code', then the code.
func proveBySMS(d *idp, b *browser, p person, fields ...string) {
	d.t.Helper()
	b.press("Send Code", fields...)
	b.expectHeading("Check your phone")
	if len(fields) > 0 {
		// A number just typed is shown in full, so a typo can be seen.
		b.expectText(shownNumber(p.e164))
	} else {
		b.expectText(journey.MaskPhone(p.e164))
	}
	b.press("Verify code", "code", d.smsCode(p.e164))
}

// proveByCall answers a phone page by 'Call Me' and '#' on the call.
func proveByCall(d *idp, b *browser, p person, fields ...string) {
	d.t.Helper()
	b.press("Call Me", fields...)
	b.expectHeading("We are calling you")
	b.expectText("press the hash key (#)")
	d.pressKeys(p.e164, "#")
	b.expectText("When you have pressed the hash key, select 'Continue'.")
	b.press("Continue")
}

// signUp completes the whole sign-up of the guide and returns the tokens.
func signUp(d *idp, b *browser, p person) *tokens {
	d.t.Helper()
	signUpToPhone(d, b, p)
	if p.mobile {
		proveBySMS(d, b, p, "phone", p.phone)
		b.expectHeading("Confirm your phone number")
		proveBySMS(d, b, p)
	} else {
		proveByCall(d, b, p, "phone", p.phone)
		b.expectHeading("Confirm your phone number")
		proveByCall(d, b, p)
	}
	return b.exchange()
}

func signIn(d *idp, b *browser, p person) {
	d.t.Helper()
	b.startSignIn()
	b.expectHeading("Sign In")
	b.press("Sign in", "email", p.email, "password", p.password)
	b.expectHeading("Confirm it is you")
	b.expectText(journey.MaskPhone(p.e164))
}

func backends(t *testing.T, run func(t *testing.T, b backend)) {
	for _, b := range []backend{embedded, pgAndRedis} {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			run(t, b)
		})
	}
}

func checkClaims(t *testing.T, tok *tokens, p person, amr ...string) {
	t.Helper()
	c := tok.claims
	if c.GivenName != p.given || c.FamilyName != p.family || c.Name != p.given+" "+p.family {
		t.Errorf("names %q %q %q", c.GivenName, c.FamilyName, c.Name)
	}
	if !strings.EqualFold(c.Email, p.email) || !c.EmailVerified {
		t.Errorf("email %q verified=%v", c.Email, c.EmailVerified)
	}
	if c.Phone != p.e164 || !c.PhoneVerified {
		t.Errorf("phone %q verified=%v", c.Phone, c.PhoneVerified)
	}
	if !slices.Equal(c.AMR, amr) {
		t.Errorf("amr %v, want %v", c.AMR, amr)
	}
}

func TestSignUpWithSMSThenSignIn(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		p := newPerson(t, true)
		tok := signUp(d, d.browser(), p)
		checkClaims(t, tok, p, "pwd", "sms")

		// Another day, another browser: the password, then a text every time.
		b := d.browser()
		signIn(d, b, p)
		proveBySMS(d, b, p)
		checkClaims(t, b.exchange(), p, "pwd", "sms")

		// Or a call.
		b = d.browser()
		signIn(d, b, p)
		proveByCall(d, b, p)
		checkClaims(t, b.exchange(), p, "pwd", "tel")

		// The account knows when it last signed in (users show, users export).
		if u, err := d.app.Durable.UserByEmail(context.Background(), p.email); err != nil || u.LastSignInAt.IsZero() {
			t.Errorf("after three sign-ins: last sign-in %v, %v", u, err)
		}

		// Operators see what happened.
		metrics := d.metrics()
		for _, want := range []string{
			`idp_journeys_completed_total{amr="pwd+sms",kind="sign_up"} 1`,
			`idp_journeys_completed_total{amr="pwd+sms",kind="sign_in"} 1`,
			`idp_journeys_completed_total{amr="pwd+tel",kind="sign_in"} 1`,
			`idp_password_checks_total{result="ok"} 2`,
			`idp_accounts_created_total 1`,
			fmt.Sprintf("idp_password_hash_slots %d", runtime.NumCPU()),
			"idp_password_hashes_running 0",
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		// The sign-up's hash and the two sign-ins' verifications at least.
		m := regexp.MustCompile(`idp_password_hash_seconds_count (\d+)`).FindStringSubmatch(metrics)
		if n, err := strconv.Atoi(append(m, "", "")[1]); err != nil || n < 3 {
			t.Errorf("/metrics: argon2id hashes counted %v, want at least 3", m)
		}
	})
}

func TestSignUpOnALandlineByCall(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		b := d.browser()
		p2 := newPerson(t, false)
		signUpToPhone(d, b, p2)
		// A landline takes no text message.
		b.press("Send Code", "phone", p2.phone)
		b.expectText(journey.MsgLandlineNoText)
		b.expectHeading("Enter your phone number")
		proveByCall(d, b, p2, "phone", p2.phone)
		b.expectHeading("Confirm your phone number")
		b.expectNoText("Send Code") // a landline is offered 'Call Me' only
		proveByCall(d, b, p2)
		checkClaims(t, b.exchange(), p2, "pwd", "tel")
	})
}

func TestCallNotAnsweredThenText(t *testing.T) {
	d := startIdP(t, embedded, nil)
	p := newPerson(t, true)
	signUp(d, d.browser(), p)
	b := d.browser()
	signIn(d, b, p)
	b.press("Call Me")
	b.expectHeading("We are calling you")
	d.answerCall(p.e164, "1") // not the hash key
	b.get("/login")
	b.expectText("The call was not answered with the hash key")
	b.expectHeading("Confirm it is you")
	// Nobody answers the next call at all: the page gives up when the call is overdue.
	b.press("Call Me")
	d.clock.advance(5 * time.Minute)
	b.get("/login")
	b.expectText("not answered")
	// While a call rings, the person can switch to a text.
	b.press("Call Me")
	b.expectHeading("We are calling you")
	b.expectText("Not received a call?")
	b.press("Send Code instead")
	b.expectHeading("Check your phone")
	b.press("Verify code", "code", d.smsCode(p.e164))
	checkClaims(t, b.exchange(), p, "pwd", "sms")
}

func TestUnfinishedEnrolmentResumes(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		p := newPerson(t, true)
		signUpToPhone(d, d.browser(), p) // then the person closes the browser

		b := d.browser()
		b.startSignIn()
		b.press("Sign in", "email", p.email, "password", p.password)
		b.expectHeading("Enter your phone number")
		proveBySMS(d, b, p, "phone", p.phone)
		b.expectHeading("Confirm your phone number")
		proveBySMS(d, b, p)
		checkClaims(t, b.exchange(), p, "pwd", "sms")
	})
}

func TestLoginHintPrefillsTheEmail(t *testing.T) {
	d := startIdP(t, embedded, nil)
	b := d.browser()
	b.verifier, b.state = oauth2.GenerateVerifier(), randomString()
	b.get(d.rp.AuthCodeURL(b.state, oauth2.S256ChallengeOption(b.verifier), oauth2.SetAuthURLParam("login_hint", "sam@example.gov.uk")))
	b.expectHeading("Sign In")
	if !strings.Contains(b.page.body, `value="sam@example.gov.uk"`) {
		t.Fatalf("login_hint not in the email box:\n%s", b.page)
	}
}

// A person following a form's 'Login or Register' sees the Sign In page after one
// redirect (/authorize, then the provider's continue step serving the page); a
// reload of that address shows the journey's page again; the last post is
// answered with the redirect to the form app; single sign-on takes one redirect
// on the idp.
func TestSignInPageAfterOneRedirect(t *testing.T) {
	d := startIdP(t, embedded, nil)
	p := newPerson(t, true)
	signUp(d, d.browser(), p)
	b := d.browser()
	var hops []string
	b.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host == "rp.test" {
			return http.ErrUseLastResponse
		}
		hops = append(hops, req.URL.Path)
		return nil
	}
	b.startSignIn()
	b.expectHeading("Sign In")
	if len(hops) != 1 || hops[0] != "/authorize/continue" {
		t.Fatalf("redirects before the Sign In page: %v, want [/authorize/continue]", hops)
	}
	b.get(b.page.url) // reload
	b.expectHeading("Sign In")
	b.press("Sign in", "email", p.email, "password", p.password)
	b.expectHeading("Confirm it is you")
	b.press("Send Code")
	b.expectHeading("Check your phone")
	// The post that completes the sign-in is redirected to the form app: the page's
	// policy must let its form lead there (browsers check redirects after a post).
	if csp := b.page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://rp.test;") {
		t.Errorf("code page policy does not name the form app's origin: %s", csp)
	}
	if !hasCookie(b, d.issuer, web.JourneyCookie) {
		t.Fatal("no journey cookie during the journey")
	}
	hops = nil
	b.press("Verify code", "code", d.smsCode(p.e164))
	if b.code == "" {
		t.Fatalf("not back at the form app: %s", b.page)
	}
	// The code's post is answered with the redirect to the form app itself, and
	// the finished journey's cookie is gone.
	if len(hops) != 0 {
		t.Errorf("redirects between 'Verify code' and the form app: %v, want none", hops)
	}
	if hasCookie(b, d.issuer, web.JourneyCookie) {
		t.Errorf("journey cookie kept after the sign-in finished")
	}
	b.exchange()

	// With the IdP session, the next sign-in goes /authorize -> /authorize/continue
	// -> the form app.
	hops = nil
	b.startSignIn()
	if b.code == "" || len(hops) != 1 || hops[0] != "/authorize/continue" {
		t.Errorf("single sign-on: code %q after redirects %v, want [/authorize/continue]", b.code, hops)
	}
}

func TestClosingThePageKeepsTheJourney(t *testing.T) {
	d := startIdP(t, embedded, nil)
	p := newPerson(t, true)
	b := d.browser()
	startSignUp(b, p.email)
	b.expectHeading("Check your email")
	// The page is closed; the person follows the form's sign-in link again.
	b.startSignIn()
	b.expectHeading("Check your email")
	b.press("Verify code", "code", d.latest("email", p.email).Code)
	b.expectHeading("Your email address has now been verified")
}

func TestForgotPassword(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		p := newPerson(t, true)
		tok := signUp(d, d.browser(), p)
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token with offline_access")
		}

		b := d.browser()
		b.startSignIn()
		b.follow("Forgot your password?")
		b.expectHeading("Reset your password")
		b.press("Send verification code", "email", p.email)
		b.expectHeading("Check your email")
		b.press("Verify code", "code", d.latest("email", p.email).Code)
		b.expectHeading("Confirm it is you")
		proveBySMS(d, b, p)
		b.expectHeading("Create a new password")
		p.password = "a brand new passphrase"
		b.press("Continue", "password", p.password, "confirm-password", p.password)
		after := b.exchange()
		checkClaims(t, after, p, "pwd", "sms")
		// The owner is told, by email, what changed and when (issue 18 item 3).
		if n := d.latest("email", p.email); n.Subject != "Your Norfolk County Council account has changed" ||
			!strings.Contains(n.Body, "The password of your Norfolk County Council account was changed.") || n.Code != "" {
			t.Errorf("after the reset the latest email is %q:\n%s", n.Subject, n.Body)
		}

		// Every refresh token issued before the reset is dead.
		_, err := d.rp.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Fatalf("old refresh token after reset: %v", err)
		}
		// The new password works; the old one does not.
		b = d.browser()
		signIn(d, b, p)
		b = d.browser()
		b.startSignIn()
		b.press("Sign in", "email", p.email, "password", "correct horse battery staple")
		b.expectText(journey.MsgSignInIncorrect)
	})
}

func TestChangePhoneNumber(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		p := newPerson(t, true)
		b := d.browser()
		signUp(d, b, p)

		b.get("/account")
		b.expectHeading("Your account")
		b.expectText(journey.MaskPhone(p.e164))
		b.follow("Change phone number")
		b.expectHeading("Confirm it is you") // the old number first
		proveBySMS(d, b, p)
		b.expectHeading("Enter your phone number")
		q := newPerson(t, false)
		p.phone, p.e164, p.mobile = q.phone, q.e164, false
		proveByCall(d, b, p, "phone", p.phone)
		b.expectHeading("Confirm your phone number")
		proveByCall(d, b, p)
		b.expectHeading("Your account")
		b.expectText("Your phone number has been changed")
		b.expectText(journey.MaskPhone(p.e164))
		if n := d.latest("email", p.email); n.Subject != "Your Norfolk County Council account has changed" ||
			!strings.Contains(n.Body, "changed to a number ending "+journey.PhoneEnding(p.e164)) {
			t.Errorf("after the change the latest email is %q:\n%s", n.Subject, n.Body)
		}

		// The next sign-in challenges the new number.
		b = d.browser()
		signIn(d, b, p)
		proveByCall(d, b, p)
		checkClaims(t, b.exchange(), p, "pwd", "tel")
	})
}

func TestWrongCodes(t *testing.T) {
	d := startIdP(t, embedded, nil)
	p := newPerson(t, true)
	b := d.browser()
	startSignUp(b, p.email)
	code := d.latest("email", p.email).Code
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1000000)
	b.press("Verify code", "code", "12345")
	b.expectText(journey.MsgCodeFormat)
	for range 4 {
		b.press("Verify code", "code", wrong)
		b.expectText(journey.MsgCodeWrong)
	}
	b.press("Verify code", "code", wrong)
	b.expectText(journey.MsgCodeTooManyWrong)
	// Five wrong entries kill the code: even the right one is refused now.
	b.press("Verify code", "code", code)
	b.expectText(journey.MsgCodeTooManyWrong)
	b.press("Send a new code")
	b.expectText("We have sent you a new code")
	code = d.latest("email", p.email).Code
	// A code expires after 10 minutes.
	d.clock.advance(11 * time.Minute)
	b.press("Verify code", "code", code)
	b.expectText(journey.MsgCodeExpired)
	b.press("Send a new code")
	b.press("Verify code", "code", d.latest("email", p.email).Code)
	b.expectHeading("Your email address has now been verified")
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestResendBudget(t *testing.T) {
	d := startIdP(t, embedded, nil)
	p := newPerson(t, true)
	b := d.browser()
	startSignUp(b, p.email)
	for i := range 5 {
		b.press("Send a new code")
		if b.heading() != "Check your email" || !strings.Contains(text(b.page.body), "We have sent you a new code") {
			t.Fatalf("resend %d: %s", i+1, b.page)
		}
	}
	b.press("Send a new code")
	b.expectText("You asked for too many new codes")
	if n := d.count("email", p.email); n != 6 {
		t.Fatalf("%d emails sent, want 6 (one and 5 resends)", n)
	}
	// After the window, sending works again.
	d.clock.advance(16 * time.Minute)
	b.press("Send a new code")
	b.expectText("We have sent you a new code")
}

func TestLockoutAfterTenWrongPasswords(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		p := newPerson(t, true)
		signUp(d, d.browser(), p)
		b := d.browser()
		b.startSignIn()
		for i := 1; i <= 9; i++ {
			b.press("Sign in", "email", p.email, "password", "wrong password "+fmt.Sprint(i))
			b.expectText(journey.MsgSignInIncorrect)
		}
		b.press("Sign in", "email", p.email, "password", "wrong password 10")
		b.expectText("Your account is locked because of too many wrong passwords")
		// Locked even with the right password.
		b.press("Sign in", "email", p.email, "password", p.password)
		b.expectText("Your account is locked")
		b.expectHeading("Sign In")

		// A password reset unlocks it.
		b.follow("Forgot your password?")
		b.press("Send verification code", "email", p.email)
		b.press("Verify code", "code", d.latest("email", p.email).Code)
		proveBySMS(d, b, p)
		p.password = "another good passphrase"
		b.press("Continue", "password", p.password, "confirm-password", p.password)
		b.exchange()
		b = d.browser()
		signIn(d, b, p)
	})
}

// The 'Sign In' page that says an account is locked shows how to reach the
// council (the contact block of the other lock and refusal pages; before, it
// had none), and is the same for an account and for an address with none
// flooded the same way: the same words, the same contact details, the same
// page apart from the address typed, so it does not tell which has an account.
func TestLockedSignInShowsContactWithoutEnumeration(t *testing.T) {
	d := startIdP(t, embedded, map[string]string{"IDP_CONTACT_PHONE": "01632 960 001", "IDP_CONTACT_HOURS": "Monday to Friday, 9am to 5pm"})
	p := newPerson(t, true)
	signUp(d, d.browser(), p)
	nobody := newPerson(t, true)
	pages := map[string]string{}
	for _, email := range []string{p.email, nobody.email} {
		b := d.browser()
		b.startSignIn()
		for i := 1; i <= 10; i++ {
			b.press("Sign in", "email", email, "password", "wrong password "+fmt.Sprint(i))
		}
		b.press("Sign in", "email", email, "password", p.password)
		b.expectHeading("Sign In")
		b.expectText("Your account is locked because of too many wrong passwords")
		b.expectText("Contact Norfolk County Council")
		b.expectText("Telephone: 01632 960 001")
		b.expectText("Monday to Friday, 9am to 5pm")
		pages[email] = strings.ReplaceAll(b.page.body, email, "EMAIL")
	}
	if pages[p.email] != pages[nobody.email] {
		t.Fatalf("the locked pages differ:\n%s\n%s", pages[p.email], pages[nobody.email])
	}
}

func TestNoAccountEnumeration(t *testing.T) {
	d := startIdP(t, embedded, nil)
	p := newPerson(t, true)
	signUp(d, d.browser(), p)
	nobody := newPerson(t, true)

	// Sign-in: the same words for a wrong password and an unknown address.
	b := d.browser()
	b.startSignIn()
	b.press("Sign in", "email", p.email, "password", "not the password")
	wrongPassword := strings.ReplaceAll(text(b.page.body), p.email, "EMAIL")
	b.press("Sign in", "email", nobody.email, "password", "not the password")
	unknown := strings.ReplaceAll(text(b.page.body), nobody.email, "EMAIL")
	if wrongPassword != unknown {
		t.Fatalf("sign-in pages differ:\n%s\n%s", wrongPassword, unknown)
	}

	// Sign-up with an address that has an account: same page, an email saying so.
	pages := map[string]string{}
	for _, email := range []string{p.email, nobody.email} {
		b := d.browser()
		b.startSignIn()
		b.follow("Sign up now")
		b.press("Send verification code", "email", email)
		pages[email] = strings.ReplaceAll(text(b.page.body), email, "EMAIL")
	}
	if pages[p.email] != pages[nobody.email] {
		t.Fatalf("sign-up pages differ:\n%s\n%s", pages[p.email], pages[nobody.email])
	}
	exists := d.latest("email", p.email)
	if exists.Code != "" || !strings.Contains(strings.ToLower(exists.Body), "already have an account") {
		t.Fatalf("account-exists email: code %q body %q", exists.Code, exists.Body)
	}
	if d.latest("email", nobody.email).Code == "" {
		t.Fatal("a new address got no code")
	}

	// Password reset for an unknown address: same page, nothing sent.
	before := d.count("email", nobody.email)
	b = d.browser()
	b.startSignIn()
	b.follow("Forgot your password?")
	b.press("Send verification code", "email", nobody.email)
	b.expectHeading("Check your email")
	if d.count("email", nobody.email) != before {
		t.Fatal("a reset code went to an address without an account")
	}
}

func TestDoubleSubmittedCreateMakesOneAccount(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		p := newPerson(t, true)
		b := d.browser()
		startSignUp(b, p.email)
		b.press("Verify code", "code", d.latest("email", p.email).Code)
		b.press("Continue")
		b.expectHeading("Create your account")
		form := url.Values{"given-name": {p.given}, "surname": {p.family}, "password": {p.password}, "confirm-password": {p.password}}
		var wg sync.WaitGroup
		headings := make([]string, 2)
		for i := range 2 {
			wg.Go(func() {
				c := *b // same cookies, separate page
				c.postForm("/login/details", form)
				headings[i] = c.heading()
			})
		}
		wg.Wait()
		for _, h := range headings {
			if h != "Enter your phone number" {
				t.Errorf("a double-submitted 'Create' showed %q", h)
			}
		}
		ctx := context.Background()
		accounts, err := d.app.Durable.ListUsers(ctx, p.email, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(accounts) != 1 || accounts[0].GivenName != p.given {
			t.Fatalf("accounts after a double 'Create': %+v", accounts)
		}
		events, err := d.app.Durable.ListAudit(ctx, accounts[0].ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		created := 0
		for _, e := range events {
			if e.Kind == "user.created" {
				created++
			}
		}
		if created != 1 {
			t.Errorf("%d user.created events, want 1", created)
		}
		b.get("/login")
		b.expectHeading("Enter your phone number")
	})
}

func TestSkippedStepIsRefused(t *testing.T) {
	d := startIdP(t, embedded, nil)
	p := newPerson(t, true)
	b := d.browser()
	b.startSignIn()
	// Straight to 'Create' without a verified email.
	b.postForm("/login/details", url.Values{"given-name": {p.given}, "surname": {p.family},
		"password": {p.password}, "confirm-password": {p.password}})
	b.expectHeading("Sign In")
	// Straight to the phone code.
	b.postForm("/login/sms-code", url.Values{"code": {"123456"}})
	b.expectHeading("Sign In")
	// An unknown action.
	b.postForm("/login/skip", url.Values{})
	b.expectHeading("Page not found")
	// Without a journey at all.
	c := d.browser()
	c.postForm("/login/details", url.Values{})
	c.expectHeading("Your session has timed out")
}

func TestSendBudgetPerAddressAcrossJourneys(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		p := newPerson(t, true)
		sendFrom := func(b *browser, resends int) {
			b.startSignIn()
			b.follow("Sign up now")
			b.press("Send verification code", "email", p.email)
			b.expectHeading("Check your email")
			for range resends {
				b.press("Send a new code")
				b.expectText("We have sent you a new code")
			}
		}
		sendFrom(d.browser(), 5) // 6 emails: the journey's own resend limit is reached
		b := d.browser()         // a second journey, same address
		sendFrom(b, 3)           // 10 emails: the address's hourly budget is spent
		b.press("Send a new code")
		b.expectText("We cannot send any more messages right now")
		if n := d.count("email", p.email); n != 10 {
			t.Fatalf("%d emails to one address, want 10", n)
		}
		// The budget is a sliding hour: the page says when the next one may go.
		d.clock.advance(b.waitShown())
		b.press("Send a new code")
		b.expectText("We have sent you a new code")
	})
}

// IDP_SEND_HOURLY_PER_RECIPIENT sets the per-address budget (here 4, from 10).
func TestSendBudgetPerRecipientIsConfigurable(t *testing.T) {
	d := startIdP(t, embedded, map[string]string{"IDP_SEND_HOURLY_PER_RECIPIENT": "4"})
	p := newPerson(t, true)
	b := d.browser()
	startSignUp(b, p.email)
	for range 3 {
		b.press("Send a new code")
		b.expectText("We have sent you a new code")
	}
	b.press("Send a new code")
	b.expectText("We cannot send any more messages right now")
	if n := d.count("email", p.email); n != 4 {
		t.Fatalf("%d emails to one address, want 4", n)
	}
}

func TestHomePage(t *testing.T) {
	d := startIdP(t, embedded, nil)
	b := d.browser()
	b.get("/")
	b.expectHeading("Sign in to an online form")
	b.expectText("start from the online form")
	p := newPerson(t, true)
	signUp(d, b, p)
	b.get("/")
	b.expectHeading("Your account")
	b.expectText(p.given + " " + p.family)
}

func TestChangeEmailDuringSignUp(t *testing.T) {
	d := startIdP(t, embedded, nil)
	p := newPerson(t, true)
	b := d.browser()
	typo := strings.Replace(p.email, "@", "@@", 1)
	b.startSignIn()
	b.follow("Sign up now")
	b.press("Send verification code", "email", typo)
	b.expectText("Enter an email address in the correct format")
	wrong := "x" + p.email // a real address, but not theirs
	b.press("Send verification code", "email", wrong)
	b.expectHeading("Check your email")
	b.expectText(wrong)
	b.follow("Change email address")
	b.expectHeading("Sign up")
	if !strings.Contains(b.page.body, `value="`+wrong+`"`) {
		t.Errorf("the address given is not kept for correcting:\n%s", b.page)
	}
	b.press("Send verification code", "email", p.email)
	b.expectHeading("Check your email")
	// The code sent to the wrong address no longer counts.
	b.press("Verify code", "code", d.latest("email", wrong).Code)
	b.expectText(journey.MsgCodeWrong)
	b.press("Verify code", "code", d.latest("email", p.email).Code)
	b.expectHeading("Your email address has now been verified")
}

// A journey saved by the release before ReturnOrigin (in flight during an
// upgrade) still gets a policy that lets its last post reach the form app.
func TestJourneyWithoutReturnOriginStillReachesTheFormApp(t *testing.T) {
	d := startIdP(t, embedded, nil)
	p := newPerson(t, true)
	signUp(d, d.browser(), p)
	b := d.browser()
	signIn(d, b, p)
	b.press("Send Code")
	b.expectHeading("Check your phone")

	// Strip the field from the stored state, as the older release wrote it.
	key := web.JourneyKey(cookieValue(b, d.issuer, web.JourneyCookie))
	ctx := context.Background()
	raw, version, err := d.app.Ephemeral.Get(ctx, key)
	if err != nil {
		t.Fatalf("journey %q: %v", key, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m["ro"] != "https://rp.test" {
		t.Fatalf("stored journey has ro=%v (%v)", m["ro"], err)
	}
	delete(m, "ro")
	raw, _ = json.Marshal(m)
	if _, err := d.app.Ephemeral.CompareAndSet(ctx, key, version, raw, time.Hour); err != nil {
		t.Fatal(err)
	}

	b.get("/login")
	b.expectHeading("Check your phone")
	if csp := b.page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://rp.test;") {
		t.Errorf("policy does not name the form app's origin: %s", csp)
	}
	b.press("Verify code", "code", d.smsCode(p.e164))
	if b.code == "" {
		t.Fatalf("not back at the form app: %s", b.page)
	}
}

// cookieValue is the value of the browser's cookie name for the issuer, "" when none.
func cookieValue(b *browser, issuer, name string) string {
	u, _ := url.Parse(issuer)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func hasCookie(b *browser, issuer, name string) bool { return cookieValue(b, issuer, name) != "" }
