package app_test

import (
	"context"
	"slices"
	"testing"

	"github.com/councilforms/idp/idp/webtest"
)

// Issue 18, in a real browser with JavaScript and without: a clients operator
// signs in to the console with the phone check, changes a form app's redirect
// URIs and rotates its secret with a day's overlap, by the labels on the
// pages; the form app keeps working with the old secret, and the new one
// works too.
func TestBrowserConsoleFormApps(t *testing.T) {
	jsModes(t, func(t *testing.T, js bool) {
		c := startConsole(t, embedded, nil)
		op, _ := c.signedUp(t, "clients")
		alex, _ := c.signedUp(t)

		b, _ := consoleSignIn(t, c, js, op, "/form-apps", "clients-")
		see(t, b, "form-apps", "Form apps")
		says(t, b, "referral-form", "Operators' console", "Read-only")
		b.FollowLink("referral-form")
		see(t, b, "form-app", "Make a social care referral")
		b.FillLabel("Redirect URIs", rpRedirect+"\nhttps://rp.test/second-callback")
		b.ClickButton("Save changes")
		see(t, b, "form-app-saved", "Make a social care referral")
		says(t, b, "The changes are saved; the secret is unchanged")
		stored, err := c.app.Durable.ClientByID(context.Background(), "referral-form")
		if err != nil || !slices.Equal(stored.RedirectURIs, []string{rpRedirect, "https://rp.test/second-callback"}) {
			t.Fatalf("stored redirect URIs %v, %v", stored.RedirectURIs, err)
		}

		b.Click("Rotate secret")
		see(t, b, "rotate-secret", "Rotate the secret of referral-form")
		if got := b.Value("Overlap in hours"); got != "24" {
			t.Errorf("the overlap offered is %q hours, want 24", got)
		}
		b.FillLabel("Reason", "yearly rotation")
		b.ClickButton("Rotate secret")
		see(t, b, "secret-shown", "The secret of referral-form")
		says(t, b, "This secret is shown only now", "The old secret keeps working until")
		secret := webtest.Eval[string](b, `document.querySelector('code.app-secret').textContent`)
		if len(secret) < 32 {
			t.Fatalf("the secret shown: %q", secret)
		}
		if err := exchangeWith(t, c, alex, c.rp.ClientSecret); err != nil {
			t.Errorf("the old secret during the overlap: %v", err)
		}
		if err := exchangeWith(t, c, alex, secret); err != nil {
			t.Errorf("the new secret: %v", err)
		}
	})
}
