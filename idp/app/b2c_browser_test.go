package app_test

import (
	"strings"
	"testing"

	"github.com/councilforms/idp/idp/webtest"
	"github.com/councilforms/idp/store"
)

// The first sign-in of an account imported from Azure AD B2C in a real browser:
// from the form's 'Login or Register', the Sign In page as ever with the B2C
// password, the text to the number B2C had, and back at the form signed in as the
// imported person. B2C (the fake ROPC flow) is asked once; the second sign-in, in
// another browser, is checked here alone.
func TestBrowserB2CFirstSignIn(t *testing.T) {
	d, fake := startWithB2C(t, embedded)
	rp := newRelyingParty(t, d)
	p := newPerson(t, true)
	importPerson(t, d, p, store.ImportedB2C, true)
	fake.AddUser(objectID(p), p.email, p.password)
	name := p.given + " " + p.family

	for i, step := range []string{"b2c-first-", "b2c-again-"} {
		b := webtest.NewBrowser(t, true)
		b.Navigate(rp.url)
		see(t, b, step+"form-start", "Make a social care referral")
		b.Click("Login or Register")
		g := &guide{t: t, d: d, b: b, p: p, js: true}
		g.signIn(step)
		g.proveBySMS(step)
		see(t, b, step+"back-at-form", "Signed in")
		says(t, b, "Signed in as "+name)
		if c := rp.last(); !strings.EqualFold(c.Email, p.email) || c.Phone != p.e164 {
			t.Errorf("the form app got email %q phone %q", c.Email, c.Phone)
		}
		if fake.Calls() != 1 {
			t.Fatalf("after sign-in %d B2C was asked %d times, want 1", i+1, fake.Calls())
		}
	}
	// The names, email and phone the form app showed are the imported account's,
	// whose id is the B2C object id; the HTTP tests check sub itself.
	if u := account(t, d, objectID(p)); u.MigratedAt.IsZero() || u.PasswordHash == "" {
		t.Fatalf("not migrated: %v %q", u.MigratedAt, u.PasswordHash)
	}
}

// Without B2C, in a real browser: the Sign In page, the page saying the council
// has moved, the email code, the imported phone, a new password, and back at the
// form signed in as the imported person; then a sign-in with the new password.
func TestBrowserImportedSetsANewPassword(t *testing.T) {
	d := startIdP(t, embedded, nil)
	rp := newRelyingParty(t, d)
	p := newPerson(t, true)
	importPerson(t, d, p, store.ImportedB2C, true)
	name := p.given + " " + p.family

	b := webtest.NewBrowser(t, true)
	b.Navigate(rp.url)
	b.Click("Login or Register")
	see(t, b, "moved-sign-in", "Sign In")
	b.FillLabel("Email address", p.email)
	b.FillLabel("Password", "my old B2C password")
	b.ClickButton("Sign in")
	see(t, b, "moved-new-service", "We have moved to a new sign-in service")
	says(t, b, "You need to create a new password", "We will send a verification code to "+p.email)
	b.ClickButton("Continue")
	see(t, b, "moved-check-your-email", "Check your email")
	g := &guide{t: t, d: d, b: b, p: p, js: true}
	b.FillLabel("Verification code", g.inbox().code("email", p.email, "moved-inbox-email-code"))
	b.ClickButton("Verify code")
	see(t, b, "moved-confirm-it-is-you", "Confirm it is you")
	g.proveBySMS("moved-")
	see(t, b, "moved-new-password", "Create a new password")
	p.password = "a brand new passphrase"
	b.FillLabel("New password", p.password)
	b.FillLabel("Confirm password", p.password)
	b.ClickButton("Continue")
	see(t, b, "moved-back-at-form", "Signed in")
	says(t, b, "Signed in as "+name)

	b = webtest.NewBrowser(t, true)
	b.Navigate(rp.url)
	b.Click("Login or Register")
	g = &guide{t: t, d: d, b: b, p: p, js: true}
	g.signIn("moved-again-")
	g.proveBySMS("moved-again-")
	see(t, b, "moved-again-back-at-form", "Signed in")
}
