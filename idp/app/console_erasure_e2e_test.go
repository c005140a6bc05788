package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/store/storetest"
)

// Issue 18: deleting a person in the console erases their personal data from
// every table of the database (the audit log keeps a pseudonymous trail), and
// they can no longer sign in.
func TestConsoleErasure(t *testing.T) {
	c := startConsole(t, embedded, nil)
	op, _ := c.signedUp(t, "support")
	alex, alexUser := c.signedUp(t) // signed in at the form app too: a refresh token
	path := strings.TrimPrefix(c.vars["IDP_DATABASE_URL"], "sqlite:")
	needles := []string{strings.ToLower(alex.email), strings.ToLower(alex.family), alex.e164, alex.e164[3:], alexUser.ID}
	if leaks := storetest.SQLitePersonalData(t, path, needles...); len(leaks) == 0 {
		t.Fatal("the check finds none of the person's data before the erasure: it could not see a leak after")
	}

	b := c.signInToConsole(t, op, "/people/"+alexUser.ID)
	b.expectHeading(alexUser.Email)
	b.follow("Delete account")
	b.expectHeading("Delete the account of " + alexUser.Email)
	b.press("Delete account")
	b.expectText("Enter the reason for deleting the account")
	b.press("Delete account", "reason", "erasure request ref 77")
	b.expectHeading("People")
	b.expectText("The account and its personal data are erased")

	// The servers carry out the queued end of their sessions, then nothing of
	// theirs is left.
	deadline := time.Now().Add(20 * time.Second)
	for {
		leaks := storetest.SQLitePersonalData(t, path, needles...)
		if len(leaks) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after erasure the database still holds:\n%s", strings.Join(leaks, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}

	p := c.browser()
	p.startSignIn()
	p.press("Sign in", "email", alex.email, "password", alex.password)
	p.expectHeading("Sign In")
	p.expectText(journey.MsgSignInIncorrect)
}
