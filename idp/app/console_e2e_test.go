package app_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"testing"
)

var menuRe = regexp.MustCompile(`(?s)<nav aria-label="Menu".*?</nav>`)
var hrefRe = regexp.MustCompile(`href="([^"]+)"`)

// menuLinks are the paths the console's header menu links to.
func menuLinks(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for _, m := range hrefRe.FindAllStringSubmatch(menuRe.FindString(body), -1) {
		out = append(out, m[1])
	}
	return out
}

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

	// The owner's menu is every page of the console; a support operator's
	// menu is only theirs, and every other page answers 403.
	menu := menuLinks(t, b.page.body)
	if !slices.Contains(menu, "/people") || !slices.Contains(menu, "/audit") || !slices.Contains(menu, "/operators") {
		t.Fatalf("the owner's menu: %v", menu)
	}
	helper, _ := c.signedUp(t, "support")
	hb := c.signInToConsole(t, helper, "/")
	if got := menuLinks(t, hb.page.body); !slices.Equal(got, []string{"/people"}) {
		t.Errorf("the support operator's menu: %v, want [/people]", got)
	}
	for _, path := range menu {
		if path == "/people" {
			continue
		}
		c.open(hb, path)
		if hb.page.status != http.StatusForbidden {
			t.Errorf("support operator GET %s: %d, want 403", path, hb.page.status)
		}
		hb.expectHeading("You cannot open this page")
		hb.expectText("This page needs the")
	}

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
