package app_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Issue 16 item 2: the idp's own 'Sign out' in the header of the account pages
// is a form posting to /logout (cross-origin protection refuses it from
// another site), not a link; a GET of /logout, the address the link had, only
// asks. Plain HTML, no script: the harness browser runs none.
func TestHeaderSignOutIsAPostForm(t *testing.T) {
	d := startIdP(t, embedded, nil)
	b := d.browser()
	signUp(d, b, newPerson(t, true))

	b.get("/account")
	b.expectHeading("Your account")
	if regexp.MustCompile(`<a [^>]*href="/logout"`).MatchString(b.page.body) {
		t.Errorf("the account page links to /logout:\n%s", b.page.body)
	}
	if !strings.Contains(b.page.body, `<form method="post" action="/logout"`) {
		t.Fatalf("the account page has no 'Sign out' form posting to /logout:\n%s", b.page.body)
	}

	// What a link, a bookmark or an image tag would do: asks, ends nothing.
	expectQuestion(t, b, b.get("/logout"))
	expectSSO(t, b)

	// The header's form, posted from the idp's own page: signed out at once.
	b.get("/account")
	pg := b.press("Sign out")
	if pg.status != http.StatusOK || b.heading() != "You have signed out" {
		t.Fatalf("after the header's 'Sign out': %d %q\n%s", pg.status, b.heading(), pg)
	}
	b.get("/account")
	b.expectHeading("You are not signed in")
	expectSignedOut(t, b)
}

// IDP_SESSION_IDLE_TTL reaches the provider: a single sign-on session left
// unused for longer ends, and the next sign-in asks for the password again.
// (The provider's own test, TestSessionIdleTimeout, moves a clock; this one
// waits, so its timeout is seconds.)
func TestSessionIdleTTLSetting(t *testing.T) {
	d := startIdP(t, embedded, map[string]string{"IDP_SESSION_IDLE_TTL": "5s"})
	b := d.browser()
	signUp(d, b, newPerson(t, true))
	expectSSO(t, b)
	time.Sleep(6 * time.Second)
	expectSignedOut(t, b)
}
