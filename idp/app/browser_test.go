package app_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/webtest"
)

// callWait bounds how long a person watches the call-waiting page after pressing #:
// the page polls every 2 seconds with JavaScript (200 ms in these tests).
const callWait = time.Minute

// The council guide in a real browser (Debian's chromium, headless), as a person
// follows it by the labels on the screen: from a form's 'Login or Register' through
// sign-up (email code, names and password, a mobile proved by text twice, with two
// mistakes on the way) back to the form signed in; then, in another browser on
// another day, sign-in with 'Call Me', the # pressed on the dev inbox page in a
// second tab, and the waiting page moves on (by itself with JavaScript, by
// 'Continue' without). Once with JavaScript and once without: every page must
// work with scripts off. Every page is saved as a
// PNG under the test's artifact directory (go test -artifacts keeps them).
func TestBrowserCouncilGuide(t *testing.T) {
	jsModes(t, func(t *testing.T, js bool) {
		d := startIdP(t, embedded, nil)
		rp := newRelyingParty(t, d)
		p := newPerson(t, true)
		name := p.given + " " + p.family

		b := webtest.NewBrowser(t, js)
		b.Navigate(rp.url)
		see(t, b, "form-start", "Make a social care referral")
		says(t, b, guideMessage)
		b.Click("Login or Register")
		g := &guide{t: t, d: d, b: b, p: p, js: js}
		g.signUp(true)

		// 'You'll return to the form ... You'll see your name at the top.'
		see(t, b, "back-at-form", "Signed in")
		says(t, b, "Signed in as "+name)
		c := rp.last()
		if !slices.Equal(c.AMR, []string{"pwd", "sms"}) || c.Phone != p.e164 || !strings.EqualFold(c.Email, p.email) || c.Name != name {
			t.Errorf("the form app got amr %v, phone %q, email %q, name %q", c.AMR, c.Phone, c.Email, c.Name)
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
		g = &guide{t: t, d: d, b: b, p: p, js: js}
		g.signIn("later-")
		g.proveByCall("later-", "Signed in")
		see(t, b, "later-back-at-form", "Signed in")
		says(t, b, "Signed in as "+name)
		if c := rp.last(); !slices.Equal(c.AMR, []string{"pwd", "tel"}) {
			t.Errorf("after the call the form app got amr %v, want [pwd tel]", c.AMR)
		}
	})
}
