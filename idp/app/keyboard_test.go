package app_test

import (
	"strings"
	"testing"

	"github.com/councilforms/idp/idp/webtest"
)

// Keyboard-only sign-up: a person who cannot use a mouse follows the guide from the
// form's 'Login or Register' to being back at the form signed in, reaching every
// link, field and button with Tab alone (each with its focus visible), typing into
// the focused field and pressing Enter. With JavaScript and without.
func TestBrowserKeyboardOnlySignUp(t *testing.T) {
	jsModes(t, func(t *testing.T, js bool) {
		d := startIdP(t, embedded, nil)
		rp := newRelyingParty(t, d)
		p := newPerson(t, true)
		b := webtest.NewBrowser(t, js)
		g := &guide{t: t, d: d, b: b, p: p, js: js}
		press := func(name, step, heading string) {
			t.Helper()
			b.TabTo(name)
			b.PressEnter()
			see(t, b, step, heading)
		}
		fill := func(label, value string) {
			t.Helper()
			b.TabTo(label)
			b.Type(value)
		}

		b.Navigate(rp.url)
		press("Login or Register", "kb-sign-in", "Sign In")
		press("Sign up now", "kb-sign-up", "Sign up")
		fill("Email address", p.email)
		press("Send verification code", "kb-check-your-email", "Check your email")
		fill("Verification code", g.inbox().code("email", p.email, "kb-inbox-email"))
		press("Verify code", "kb-email-verified", "Your email address has now been verified")
		press("Continue", "kb-create-account", "Create your account")
		fill("Given name", p.given)
		family := "Surname"
		if strings.Contains(b.Text(), "Family name") {
			family = "Family name"
		}
		fill(family, p.family)
		fill("Password", p.password)
		fill("Confirm password", p.password)
		press("Create", "kb-phone-number", "Enter your phone number")
		fill("Phone number", p.phone)
		press("Send Code", "kb-check-your-phone", "Check your phone")
		fill("Verification code", g.inbox().code("sms", p.e164, "kb-inbox-sms"))
		press("Verify code", "kb-confirm-phone", "Confirm your phone number")
		press("Send Code", "kb-check-your-phone-again", "Check your phone")
		fill("Verification code", g.inbox().code("sms", p.e164, "kb-inbox-sms-again"))
		press("Verify code", "kb-back-at-form", "Signed in")
		says(t, b, "Signed in as "+p.given+" "+p.family)
	})
}
