package app_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
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
	wantConsoleHeader(t, b.page.body)
	b.expectText("Signed in as " + ownerUser.Email)
	b.expectText("with the role owner")
	c.open(b, "/no-such-page")
	b.expectHeading("Page not found")
	wantConsoleHeader(t, b.page.body)
	c.open(b, "/")
	t.Log(b.page)

	// The owner's menu is every page of the console; a support operator's
	// menu is only theirs, and every other page answers 403.
	menu := menuLinks(t, b.page.body)
	if len(menu) < 3 || menu[0] != "/people" || !slices.Contains(menu, "/audit") || menu[len(menu)-1] != "/operators" {
		t.Fatalf("the owner's menu: %v", menu)
	}
	helper, helperUser := c.signedUp(t, "support")
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
	wantConsoleHeader(t, nb.page.body)
	nb.expectText("idp admins grant")

	// Another owner first: the last one keeps the role.
	if _, err := c.app.Durable.GrantRole(context.Background(), &store.AdminRole{UserID: helperUser.ID, Role: "owner", GrantedBy: "cli:test", GrantedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.app.Durable.RevokeRole(context.Background(), ownerUser.ID, "owner"); err != nil {
		t.Fatal(err)
	}
	c.open(b, "/")
	if b.page.status != http.StatusForbidden {
		t.Errorf("after the role was revoked: status %d, want 403", b.page.status)
	}
}

// wantConsoleHeader: the page's header names the console, not the service
// people sign in to.
func wantConsoleHeader(t *testing.T, body string) {
	t.Helper()
	m := regexp.MustCompile(`<span class="govuk-service-navigation__text">([^<]*)</span>`).FindStringSubmatch(body)
	if m == nil || html.UnescapeString(m[1]) != "Operators' console" {
		t.Errorf("the console's header names %q, want Operators' console", m)
	}
}

// Issue 18: an owner grants and revokes roles in the console with a reason,
// audited; the last owner's role is kept.
func TestConsoleOperators(t *testing.T) {
	c := startConsole(t, embedded, nil)
	owner, ownerUser := c.signedUp(t, "owner")
	_, kimUser := c.signedUp(t)
	b := c.signInToConsole(t, owner, "/operators")
	b.expectHeading("Operators")
	b.press("Grant role", "email", "nobody@example.org", "role", "support", "reason", "x")
	b.expectText("There is no account with that email address")
	b.press("Grant role", "email", kimUser.Email, "role", "auditor", "reason", "quarterly audit")
	b.expectText("The role is granted")
	if roles, _ := c.app.Durable.RolesOf(context.Background(), kimUser.ID); !slices.Equal(roles, []string{"auditor"}) {
		t.Fatalf("roles after the grant: %v", roles)
	}

	// Revoking the owner's own role, the last owner's, is refused.
	c.open(b, "/operators/"+ownerUser.ID+"/revoke/owner")
	b.expectHeading("Revoke the role owner from " + ownerUser.Email)
	b.press("Revoke role", "reason", "leaving")
	b.expectText("This is the last owner")
	c.open(b, "/operators/"+kimUser.ID+"/revoke/auditor")
	b.press("Revoke role", "reason", "audit finished")
	b.expectText("The role is revoked")
	if roles, _ := c.app.Durable.RolesOf(context.Background(), kimUser.ID); len(roles) != 0 {
		t.Fatalf("roles after the revoke: %v", roles)
	}
	es, err := c.app.Durable.QueryAudit(context.Background(), store.AuditFilter{UserID: kimUser.ID, Operator: store.ConsoleOperator(ownerUser.Email, ownerUser.ID)})
	if err != nil || len(es) != 2 || es[0].Kind != "admin.role_revoked" || es[0].Reason != "audit finished" ||
		es[1].Kind != "admin.role_granted" || es[1].Reason != "quarterly audit" {
		t.Errorf("audit: %+v %v", es, err)
	}
}

// A console session ends after 30 minutes without a request (IDP_ADMIN_IDLE_TIMEOUT)
// and, however busy, 8 hours after its sign-in; each request within the idle
// timeout keeps it. An ended session sends the browser to sign in again.
func TestConsoleSessionIdleTimeout(t *testing.T) {
	c := startConsole(t, embedded, nil)
	owner, _ := c.signedUp(t, "owner")
	b := c.signInToConsole(t, owner, "/")
	for range 2 {
		c.clock.advance(29 * time.Minute)
		wantConsoleSession(t, c, b, true)
	}
	c.clock.advance(31 * time.Minute)
	wantConsoleSession(t, c, b, false)

	b = c.signInToConsole(t, owner, "/")
	for elapsed := time.Duration(0); elapsed+25*time.Minute < 8*time.Hour; elapsed += 25 * time.Minute {
		c.clock.advance(25 * time.Minute)
		wantConsoleSession(t, c, b, true)
	}
	c.clock.advance(25 * time.Minute)
	wantConsoleSession(t, c, b, false)
}

// wantConsoleSession asks for the console's start page with b's cookies,
// not following redirects: the page when b's console session is live, a
// redirect to the idp's sign-in when it has ended.
func wantConsoleSession(t *testing.T, c *console, b *browser, live bool) {
	t.Helper()
	client := *b.c
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Get(c.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	at := c.clock.now().Format(time.TimeOnly)
	switch {
	case live && resp.StatusCode != http.StatusOK:
		t.Fatalf("at %s: GET / answered %d (to %s), want the console's page", at, resp.StatusCode, resp.Header.Get("Location"))
	case !live && (resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), c.issuer)):
		t.Fatalf("at %s: GET / answered %d (to %q), want a redirect to sign in at the idp", at, resp.StatusCode, resp.Header.Get("Location"))
	}
}
