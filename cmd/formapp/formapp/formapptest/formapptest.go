// Package formapptest drives the demo form app in a real browser, by the
// labels and buttons a person sees, for end-to-end tests. The identity
// provider's part of the journey is the caller's: Referral stops on the
// provider's first page after 'Login or Register', and carries on from the
// form's page two once the caller has signed in.
//
//	r := formapptest.NewReferral(t, b, formAppURL)
//	r.FillPageOne()            // page one, Continue, the guide's message
//	r.LoginOrRegister()        // now on the provider's 'Sign In' page
//	... sign up or sign in through the provider's pages ...
//	r.BackOnPageTwo("Ada Lovelace") // answers kept, 'Signed in as Ada Lovelace'
//	r.FinishAndSubmit()        // pages two and three, check answers, submitted
//	r.SignOut()                // local and provider sign-out, 'You have signed out'
//
// It is imported only by tests.
package formapptest

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/councilforms/idp/idp/webtest"
)

// The guide's wording, which the form app must show exactly.
const (
	GuideMessage   = "In order to progress with this form you must either log in or complete a simple registration"
	GuideButton    = "Login or Register"
	PageOneTitle   = "About the person you are referring"
	PageTwoTitle   = "About your concern"
	PageThreeTitle = "About you (the referrer)"
)

// PageOne is what Referral types on page one, and later expects to find kept.
var PageOne = map[string]string{
	"Full name":            "Ann Example",
	"Date of birth or age": "27 3 1950",
	"Address":              "1 Market Street, Norwich",
	"Postcode":             "NR1 2DH",
}

// Referral is one person's way through the form in browser b.
type Referral struct {
	t    *testing.T
	b    *webtest.Browser
	base string
}

// NewReferral starts at the form app at base (for example http://127.0.0.1:8081).
func NewReferral(t *testing.T, b *webtest.Browser, base string) *Referral {
	return &Referral{t: t, b: b, base: strings.TrimSuffix(base, "/")}
}

func (r *Referral) wantHeading(want string) {
	r.t.Helper()
	if got := r.b.Heading(); got != want {
		r.b.Screenshot("unexpected-page")
		r.t.Fatalf("on %s the heading is %q, want %q; page text:\n%s", r.b.URL(), got, want, r.b.Text())
	}
}

func (r *Referral) wantText(want string) {
	r.t.Helper()
	if text := r.b.Text(); !strings.Contains(text, want) {
		r.b.Screenshot("missing-text")
		r.t.Fatalf("on %s the page does not say %q; page text:\n%s", r.b.URL(), want, text)
	}
}

// FillPageOne opens the form signed out, fills page one, presses Continue
// and checks the guide's message and 'Login or Register' button.
func (r *Referral) FillPageOne() {
	r.t.Helper()
	r.b.Navigate(r.base + "/")
	r.wantHeading(PageOneTitle)
	if strings.Contains(r.b.Text(), "Signed in as") {
		r.t.Fatal("page one says 'Signed in as' before signing in")
	}
	for _, label := range []string{"Full name", "Date of birth or age", "Address", "Postcode"} {
		r.fill(label, PageOne[label])
	}
	r.b.Screenshot("form-page-one")
	r.b.Click("Continue")
	r.wantText(GuideMessage)
	if !r.b.Has(GuideButton) {
		r.t.Fatalf("no %q button on %s", GuideButton, r.b.URL())
	}
	r.b.Screenshot("form-login-or-register")
}

// LoginOrRegister presses the guide's button; the browser is then at the
// identity provider.
func (r *Referral) LoginOrRegister() {
	r.t.Helper()
	r.b.Click(GuideButton)
}

// BackOnPageTwo checks that the person is back on page two, signed in as
// name, and that every answer on page one was kept.
func (r *Referral) BackOnPageTwo(name string) {
	r.t.Helper()
	r.wantHeading(PageTwoTitle)
	r.wantText("Signed in as " + name)
	r.b.Screenshot("form-page-two-signed-in")
	r.b.Click("Back")
	r.wantHeading(PageOneTitle)
	for label, want := range PageOne {
		id := webtest.Eval[string](r.b, `(() => { const l = [...document.querySelectorAll('label')].find(l => l.textContent.trim() === `+jsString(label)+`); return l ? document.getElementById(l.htmlFor).value : '<no field>' })()`)
		if id != want {
			r.t.Errorf("after signing in, %q holds %q, want %q", label, id, want)
		}
	}
	r.b.Click("Continue")
	r.wantHeading(PageTwoTitle)
}

// FinishAndSubmit answers pages two and three (checking that page three
// is prefilled from the ID token), sends the referral and checks the
// reference number.
func (r *Referral) FinishAndSubmit() {
	r.t.Helper()
	r.wantHeading(PageTwoTitle)
	r.fill("What is your concern?", "Ann has had several falls and lives alone.")
	r.b.Do(chromedp.Click(chromedp.ID("immediate-risk-no")))
	r.b.Click("Continue")
	r.wantHeading(PageThreeTitle)
	for _, id := range []string{"referrer-name", "referrer-email"} {
		if v := webtest.Eval[string](r.b, `document.getElementById('`+id+`').value`); v == "" {
			r.t.Errorf("page three: %s is not prefilled from the ID token", id)
		}
	}
	r.fill("Organisation", "Norwich Medical Practice")
	r.fill("Your role", "Practice nurse")
	r.b.Screenshot("form-page-three")
	r.b.Click("Continue")
	r.wantHeading("Check your answers before sending your referral")
	r.wantText(PageOne["Full name"])
	r.b.Screenshot("form-check-answers")
	r.b.Click("Accept and send")
	r.wantHeading("Referral submitted")
	r.wantText("SCR-")
	r.b.Screenshot("form-submitted")
}

// SignOut presses 'Sign out' and checks the form app's signed-out page
// (after the provider's end-session endpoint sent the browser back).
func (r *Referral) SignOut() {
	r.t.Helper()
	r.b.Click("Sign out")
	r.wantHeading("You have signed out")
	r.b.Screenshot("form-signed-out")
}

// fill types value into the input or textarea labelled label, replacing
// what is there (webtest.Browser.FillLabel cannot clear an empty textarea).
func (r *Referral) fill(label, value string) {
	r.t.Helper()
	id := webtest.Eval[string](r.b, `(() => { const l = [...document.querySelectorAll('label')].find(l => l.textContent.trim() === `+jsString(label)+`); return l ? l.htmlFor : '' })()`)
	if id == "" {
		r.b.Screenshot("missing-field")
		r.t.Fatalf("no field labelled %q on %s", label, r.b.URL())
	}
	webtest.Eval[string](r.b, `document.getElementById(`+jsString(id)+`).value = ''`)
	r.b.Do(chromedp.SendKeys(chromedp.ID(id), value))
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
