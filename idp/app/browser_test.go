package app_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/web"
	"github.com/councilforms/idp/idp/webtest"
)

// callWait bounds how long a person watches the call-waiting page after pressing #:
// the page polls every 2 seconds with JavaScript and refreshes every 5 without.
const callWait = time.Minute

// The council guide in a real browser (Debian's chromium, headless), as a person
// follows it by the labels on the screen: from a form's 'Login or Register' through
// sign-up (email code, names and password, a mobile proved by text twice) back to
// the form signed in; then, in another browser on another day, sign-in with 'Call
// Me', the # pressed on the dev inbox page in a second tab while the waiting page
// moves on by itself. Once with JavaScript and once without: every page must work
// with scripts off. Every page is saved as a PNG under the test's artifact
// directory (go test -artifacts -run TestBrowser ./idp/app/ keeps them).
func TestBrowserCouncilGuide(t *testing.T) {
	for _, js := range []bool{true, false} {
		name := "javascript"
		if !js {
			name = "no-javascript"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := startIdP(t, embedded, nil)
			rp := newRelyingParty(t, d)
			p := newPerson(t, true)
			masked := journey.MaskPhone(p.e164)

			// Sign-up, guide steps 1 to 12.
			b := webtest.NewBrowser(t, js)
			b.Navigate(rp.url)
			see(t, b, "form-start", "Make a social care referral")
			says(t, b, guideMessage)
			b.Click("Login or Register")
			see(t, b, "sign-in", "Sign In")
			checkScripts(t, b, js)
			checkCookies(t, b)
			says(t, b, "Forgot your password?")
			b.FollowLink("Sign up now")
			see(t, b, "sign-up", "Sign up")
			b.FillLabel("Email address", p.email)
			b.ClickButton("Send verification code")
			see(t, b, "check-your-email", "Check your email")
			says(t, b, "We have sent a 6-digit code to "+p.email, "check your spam or junk folder")

			// Without closing the sign-in page, the person opens their email.
			in := openInbox(t, b, d.issuer)
			code := in.code("email", p.email, "inbox-email-code")
			says(t, in.tab, "Norfolk County Council account email verification code")

			b.FillLabel("Verification code", wrongCode(code))
			b.ClickButton("Verify code")
			see(t, b, "email-code-wrong", "Check your email")
			showsError(t, b, journey.MsgCodeWrong)
			b.FillLabel("Verification code", code[:3]+" "+code[3:]) // typed with a space
			b.ClickButton("Verify code")
			see(t, b, "email-verified", "Your email address has now been verified")
			b.ClickButton("Continue")

			see(t, b, "create-account", "Create your account")
			b.FillLabel("Given name", p.given)
			b.FillLabel("Surname", p.family)
			b.FillLabel("Password", p.password)
			b.FillLabel("Confirm password", p.password+" typo")
			b.ClickButton("Create")
			see(t, b, "create-account-mismatch", "Create your account")
			showsError(t, b, journey.MsgPasswordsDontMatch)
			if got := b.Value("Given name"); got != p.given {
				t.Errorf("after the error the given name holds %q, want %q", got, p.given)
			}
			b.FillLabel("Password", p.password)
			b.FillLabel("Confirm password", p.password)
			b.ClickButton("Create")

			see(t, b, "phone-number", "Enter your phone number")
			b.FillLabel("Phone number", p.phone)
			b.ClickButton("Send Code")
			see(t, b, "check-your-phone", "Check your phone")
			says(t, b, "We have sent a 6-digit code by text message to "+masked)
			hidesNumber(t, b, p)
			b.FillLabel("Verification code", in.code("sms", p.e164, "inbox-sms-code"))
			b.ClickButton("Verify code")

			// 'You'll now be asked to repeat this process to confirm your phone number.'
			see(t, b, "confirm-phone", "Confirm your phone number")
			says(t, b, masked)
			hidesNumber(t, b, p)
			if !b.HasButton("Send Code") || !b.HasButton("Call Me") {
				t.Fatalf("a mobile is offered 'Send Code' and 'Call Me'; the page says:\n%s", b.Text())
			}
			b.ClickButton("Send Code")
			see(t, b, "confirm-check-your-phone", "Check your phone")
			b.FillLabel("Verification code", in.code("sms", p.e164, "inbox-sms-confirm-code"))
			b.ClickButton("Verify code")

			// 'You'll return to the form ... You'll see your name at the top.'
			see(t, b, "back-at-form", "Signed in")
			says(t, b, "Signed in as "+p.given+" "+p.family)
			c := rp.last()
			if !slices.Equal(c.AMR, []string{"pwd", "sms"}) || c.Phone != p.e164 || !strings.EqualFold(c.Email, p.email) {
				t.Errorf("the form app got amr %v, phone %q, email %q", c.AMR, c.Phone, c.Email)
			}

			// Another day, another browser: email and password, then 'Call Me'.
			b = webtest.NewBrowser(t, js)
			b.Navigate(rp.url)
			b.Click("Login or Register")
			see(t, b, "later-sign-in", "Sign In")
			b.FillLabel("Email address", p.email)
			b.FillLabel("Password", "not my password")
			b.ClickButton("Sign in")
			see(t, b, "later-sign-in-wrong-password", "Sign In")
			showsError(t, b, journey.MsgSignInIncorrect)
			b.FillLabel("Password", p.password)
			b.ClickButton("Sign in")
			see(t, b, "later-confirm-it-is-you", "Confirm it is you")
			says(t, b, "We need to check it is you using your phone number "+masked)
			hidesNumber(t, b, p)
			b.ClickButton("Call Me")
			see(t, b, "later-calling", "We are calling you")
			says(t, b, "Answer the call to "+masked+" and press the hash key (#) on your phone")
			if js {
				// The page asks /login/status whether the call was answered.
				if !b.WaitUntil(`performance.getEntriesByType('resource').some(e => new URL(e.name).pathname === '`+web.PathStatus+`')`, callWait) {
					t.Fatalf("the call-waiting page never polled %s", web.PathStatus)
				}
			}
			in = openInbox(t, b, d.issuer)
			in.pressHash("later-inbox-call")
			// Nobody clicks anything: the waiting page moves on by itself.
			b.WaitHeading("Signed in", callWait)
			see(t, b, "later-back-at-form", "Signed in")
			says(t, b, "Signed in as "+p.given+" "+p.family)
			if c := rp.last(); !slices.Equal(c.AMR, []string{"pwd", "tel"}) {
				t.Errorf("after the call the form app got amr %v, want [pwd tel]", c.AMR)
			}
		})
	}
}

// checkScripts proves the run is what it says: app.js marks the page when it runs.
func checkScripts(t *testing.T, b *webtest.Browser, js bool) {
	t.Helper()
	if ran := webtest.Eval[bool](b, `document.body.classList.contains('js-enabled')`); ran != js {
		t.Fatalf("the page's script ran: %v, want %v", ran, js)
	}
}

// checkCookies answers the cookie question: the idp's __Host- cookies are Secure,
// and Chromium keeps them on http://127.0.0.1 (a potentially trustworthy origin),
// so a test issuer needs neither https nor localhost.
func checkCookies(t *testing.T, b *webtest.Browser) {
	t.Helper()
	for _, c := range b.Cookies() {
		if c.Name == web.JourneyCookie {
			if !c.Secure || !c.HTTPOnly || c.Path != "/" || c.Domain != "127.0.0.1" {
				t.Errorf("journey cookie kept as secure=%v httponly=%v path=%q domain=%q", c.Secure, c.HTTPOnly, c.Path, c.Domain)
			}
			return
		}
	}
	t.Fatalf("the browser did not keep the %s cookie on %s", web.JourneyCookie, b.URL())
}

// hidesNumber checks that the page shows the phone number only masked.
func hidesNumber(t *testing.T, b *webtest.Browser, p person) {
	t.Helper()
	text := b.Text()
	for _, full := range []string{p.phone, p.e164, strings.ReplaceAll(p.phone, " ", "")} {
		if strings.Contains(text, full) {
			t.Fatalf("the page shows the whole number %q:\n%s", full, text)
		}
	}
}

// wrongCode is a 6-digit code that is not code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}
