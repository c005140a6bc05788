package app_test

import (
	"context"
	"net/http"
	"testing"
)

// Issue 18: an operator signs in to the console through the journey with the
// phone check; a person with no role is told so (403); a revoked role stops
// working on the next request.
func TestConsoleSignInAndRoles(t *testing.T) {
	c := startConsole(t, embedded, nil)
	owner, ownerUser := c.signedUp(t, "owner")
	b := c.signInToConsole(t, owner, "/")
	b.expectHeading("Operators' console")
	b.expectText("Signed in as " + ownerUser.Email)
	b.expectText("with the role owner")
	t.Log(b.page)

	nobody, _ := c.signedUp(t)
	nb := c.signInToConsole(t, nobody, "/")
	if nb.page.status != http.StatusForbidden {
		t.Errorf("a person without a role: status %d, want 403", nb.page.status)
	}
	nb.expectHeading("You do not have access to the operators' console")
	nb.expectText("idp admins grant")

	if _, err := c.app.Durable.RevokeRole(context.Background(), ownerUser.ID, "owner"); err != nil {
		t.Fatal(err)
	}
	c.open(b, "/")
	if b.page.status != http.StatusForbidden {
		t.Errorf("after the role was revoked: status %d, want 403", b.page.status)
	}
}
