package app_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
)

// lockOut locks a person's account as three wrong passwords would.
func (c *console) lockOut(t *testing.T, u *store.User) {
	t.Helper()
	ctx := context.Background()
	for range 3 {
		if _, err := c.app.Durable.RecordLoginFailure(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.app.Durable.LockUser(ctx, u.ID, c.clock.now().Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
}

// Issue 18: a support operator finds a locked person, unlocks them with a
// reason, and resets their phone after a fresh sign-in; the person is told
// by email and the audit events name the operator, their address and reason.
func TestConsoleSupportUnlockAndResetPhone(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		c := startConsole(t, be, nil)
		op, opUser := c.signedUp(t, "support")
		alex, alexUser := c.signedUp(t)
		c.lockOut(t, alexUser)

		b := c.signInToConsole(t, op, "/people")
		b.expectHeading("People")
		local := strings.ToLower(alex.email[:strings.Index(alex.email, "@")])
		b.press("Search", "q", local)
		b.expectText("locked until")
		b.follow(alexUser.Email)
		b.expectHeading(alexUser.Email)
		b.expectText("07*** ***" + alex.e164[len(alex.e164)-3:])

		b.follow("Unlock")
		b.expectHeading("Unlock the account of " + alexUser.Email)
		b.press("Unlock")
		if b.page.status != http.StatusBadRequest {
			t.Errorf("unlock without a reason: status %d", b.page.status)
		}
		b.expectText("Enter the reason for unlocking the account")
		if u, _ := c.app.Durable.UserByID(context.Background(), alexUser.ID); u.FailedLogins != 3 {
			t.Fatalf("unlocked without a reason: %+v", u)
		}
		b.press("Unlock", "reason", "helpdesk call 4411")
		b.expectText("The account is unlocked")
		if u, _ := c.app.Durable.UserByID(context.Background(), alexUser.ID); u.FailedLogins != 0 || !u.LockedUntil.IsZero() {
			t.Fatalf("after unlock: %+v", u)
		}

		// Ten minutes on, resetting a phone asks for a fresh sign-in first,
		// and comes back to the confirmation page.
		c.clock.advance(10 * time.Minute)
		b.follow("Reset phone")
		b.expectHeading("Sign In")
		b.press("Sign in", "email", op.email, "password", op.password)
		proveBySMS(c.idp, b, op)
		b.expectHeading("Reset the phone of " + alexUser.Email)
		b.press("Reset phone", "reason", "lost phone, helpdesk call 4412")
		b.expectText("The phone number is removed")
		if u, _ := c.app.Durable.UserByID(context.Background(), alexUser.ID); u.Phone != "" || u.PhoneVerified {
			t.Fatalf("after reset: %+v", u)
		}
		notice := c.latest("email", alex.email)
		if !strings.Contains(notice.Body, "removed the phone number") {
			t.Errorf("the person's notice: %+v", notice)
		}

		es, err := c.app.Durable.QueryAudit(context.Background(), store.AuditFilter{UserID: alexUser.ID, Operator: store.ConsoleOperator(opUser.Email, opUser.ID)})
		if err != nil || len(es) != 2 {
			t.Fatalf("events by the operator: %+v %v", es, err)
		}
		if es[0].Kind != "admin.reset_phone" || es[0].Reason != "lost phone, helpdesk call 4412" || es[0].IP == "" ||
			es[1].Kind != "admin.unlock" || es[1].Reason != "helpdesk call 4411" {
			t.Errorf("audit events: %+v %+v", es[0], es[1])
		}
		if !strings.Contains(es[0].Detail, "in the operators' console") {
			t.Errorf("detail %q", es[0].Detail)
		}
	})
}

// Issue 18: the console refuses a cross-origin POST, and is not served on
// the public listener.
func TestConsoleCrossOriginAndListeners(t *testing.T) {
	c := startConsole(t, embedded, nil)
	op, _ := c.signedUp(t, "support")
	_, alexUser := c.signedUp(t)
	c.lockOut(t, alexUser)
	b := c.signInToConsole(t, op, "/people")

	req, _ := http.NewRequest(http.MethodPost, c.url+"/people/"+url.PathEscape(alexUser.ID)+"/unlock",
		strings.NewReader(url.Values{"reason": {"x"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "sent from another site") {
		t.Errorf("cross-origin POST: %d %q, want 403 from the cross-origin protection", resp.StatusCode, body)
	}
	if u, _ := c.app.Durable.UserByID(context.Background(), alexUser.ID); u.FailedLogins != 3 {
		t.Errorf("a cross-origin POST unlocked the account")
	}

	for _, path := range []string{"/people", "/people/" + alexUser.ID, "/audit", "/operators", "/form-apps", "/sign-in", "/callback"} {
		resp, err := http.Get(c.issuer + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("public listener GET %s: %d, want 404", path, resp.StatusCode)
		}
	}

	off := startIdP(t, embedded, map[string]string{"IDP_ADMIN_ADDR": "off"})
	if off.app.AdminHandler() != nil {
		t.Error("IDP_ADMIN_ADDR=off: a console handler")
	}
	var banner strings.Builder
	off.app.PrintURLs(&banner)
	if !strings.Contains(banner.String(), "Console:    off (IDP_ADMIN_ADDR)") {
		t.Errorf("banner with the console off:\n%s", banner.String())
	}
	banner.Reset()
	c.app.PrintURLs(&banner)
	if !strings.Contains(banner.String(), c.url) || !strings.Contains(banner.String(), "idp admins grant EMAIL owner") {
		t.Errorf("banner with no owner:\n%s", banner.String())
	}
}

// The person page lists the person's sessions at the idp (one a browser
// signed in): when each started, when it was last used, and the form apps
// it signed in to.
func TestConsolePersonShowsIdPSessions(t *testing.T) {
	c := startConsole(t, embedded, nil)
	op, _ := c.signedUp(t, "support")
	started := c.clock.now().UTC().Format("2 Jan 2006 15:04")
	_, alexUser := c.signedUp(t)

	b := c.signInToConsole(t, op, "/people/"+alexUser.ID)
	b.expectHeading(alexUser.Email)
	sessions := section(t, b.page.body, "Sessions at the idp")
	for _, want := range []string{"Started", "Last used", "Form apps", started, "referral-form"} {
		if !strings.Contains(sessions, want) {
			t.Errorf("the sessions table lacks %q:\n%s", want, sessions)
		}
	}

}

// section is the part of a page from the heading h2 to the next heading.
func section(t *testing.T, body, h2 string) string {
	t.Helper()
	_, rest, ok := strings.Cut(body, ">"+h2+"</h2>")
	if !ok {
		t.Fatalf("no heading %q on the page", h2)
	}
	if i := strings.Index(rest, "<h2"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}
