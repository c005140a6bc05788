package app_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/councilforms/idp/store"
)

// secretShown is the client secret a console page shows once.
func secretShown(t *testing.T, b *browser) string {
	t.Helper()
	m := regexp.MustCompile(`<code class="app-secret">([^<]+)</code>`).FindStringSubmatch(b.page.body)
	if m == nil {
		t.Fatalf("no secret on the page\n%s", b.page)
	}
	return m[1]
}

// exchangeWith signs p in to the form app in a new browser and redeems the
// code with secret (in the Authorization header only, so a refused secret
// is not retried with the spent code).
func exchangeWith(t *testing.T, c *console, p person, secret string) error {
	t.Helper()
	b := c.browser()
	signIn(c.idp, b, p)
	proveBySMS(c.idp, b, p)
	if b.code == "" {
		t.Fatalf("not back at the form app:\n%s", b.page)
	}
	rp := b.relyingParty()
	conf := *rp.Config
	conf.ClientSecret, conf.Endpoint.AuthStyle = secret, oauth2.AuthStyleInHeader
	rp.Config = &conf
	_, err := rp.Exchange(context.Background(), b.authorization(), b.code)
	return err
}

// Issue 18: a clients operator sees every form app (the built-in ones
// read-only), changes a redirect URI without touching the secret, rotates the
// secret with an overlap (the old one keeps working until it ends, then is
// refused), disables and enables the form app, and adds and removes one;
// every action is audited with the operator. A support operator cannot open
// the pages.
func TestConsoleFormApps(t *testing.T) {
	c := startConsole(t, embedded, nil)
	op, opUser := c.signedUp(t, "clients")
	alex, _ := c.signedUp(t)
	ctx := context.Background()
	byOp := store.ConsoleOperator(opUser.Email, opUser.ID)

	b := c.signInToConsole(t, op, "/form-apps")
	b.expectHeading("Form apps")
	b.expectText("referral-form Make a social care referral confidential database enabled")
	b.expectText("idp-admin-console Operators' console confidential built in Read-only")
	b.follow("idp-admin-console")
	b.expectText("This form app is read-only here")
	if b.page.parsed.HasField("name") {
		t.Error("a built-in form app has a change form")
	}

	// Change a redirect URI; the secret stays.
	c.open(b, "/form-apps/referral-form")
	b.expectHeading("Make a social care referral")
	b.press("Save changes", "redirect_uris", "http://forms.example.gov.uk/plain-http")
	b.expectText("Redirect URI") // the rule's message on the field
	if b.page.status != http.StatusBadRequest {
		t.Errorf("a refused change: status %d", b.page.status)
	}
	b.press("Save changes", "redirect_uris", rpRedirect+"\nhttps://rp.test/other-callback")
	b.expectText("The changes are saved; the secret is unchanged")
	stored, err := c.app.Durable.ClientByID(ctx, "referral-form")
	if err != nil || !slices.Equal(stored.RedirectURIs, []string{rpRedirect, "https://rp.test/other-callback"}) {
		t.Fatalf("stored redirect URIs %v, %v", stored.RedirectURIs, err)
	}
	if err := exchangeWith(t, c, alex, c.rp.ClientSecret); err != nil {
		t.Fatalf("the unchanged secret after the change: %v", err)
	}

	// Rotate the secret with an hour's overlap.
	b.follow("Rotate secret")
	b.expectHeading("Rotate the secret of referral-form")
	b.press("Rotate secret", "overlap", "1")
	b.expectText("Enter the reason for rotating the secret")
	b.press("Rotate secret", "overlap", "1", "reason", "yearly rotation")
	newSecret := secretShown(t, b)
	b.expectText("The old secret keeps working until")
	old := c.rp.ClientSecret
	if err := exchangeWith(t, c, alex, old); err != nil {
		t.Errorf("the old secret during the overlap: %v", err)
	}
	if err := exchangeWith(t, c, alex, newSecret); err != nil {
		t.Errorf("the new secret: %v", err)
	}
	// The old secret works until the overlap the operator chose ends (the
	// provider's own clock moving past it: TestRotatedSecretOverlap); a
	// rotation without overlap (a leaked secret) stops the current one at once.
	stored, _ = c.app.Durable.ClientByID(ctx, "referral-form")
	if want := c.clock.now().Add(time.Hour); stored.PreviousSecretExpiresAt.Before(want.Add(-time.Minute)) || stored.PreviousSecretExpiresAt.After(want) {
		t.Errorf("the old secret works until %v, want an hour from %v", stored.PreviousSecretExpiresAt, c.clock.now())
	}
	c.clock.advance(time.Hour + time.Minute)
	b.follow("Go to the form app")
	b.follow("Rotate secret")
	// An hour later: the operator signs in again first.
	b.expectHeading("Sign In")
	b.press("Sign in", "email", op.email, "password", op.password)
	proveBySMS(c.idp, b, op)
	b.expectHeading("Rotate the secret of referral-form")
	b.press("Rotate secret", "overlap", "0", "reason", "secret leaked")
	newest := secretShown(t, b)
	b.expectText("The old secret no longer works")
	for name, secret := range map[string]string{"the first": old, "the replaced": newSecret} {
		if err := exchangeWith(t, c, alex, secret); err == nil || !strings.Contains(err.Error(), "invalid_client") {
			t.Errorf("%s secret after a rotation without overlap: %v, want invalid_client", name, err)
		}
	}
	if err := exchangeWith(t, c, alex, newest); err != nil {
		t.Errorf("the newest secret: %v", err)
	}
	newSecret = newest
	c.rp.ClientSecret = newest // the form app deploys it

	// Disabling asks for a reason.
	c.open(b, "/form-apps/referral-form/disable")
	b.expectHeading("Disable Make a social care referral (referral-form)")
	b.press("Disable form app", "reason", "form closed for the summer")
	b.expectText("The form app is disabled")
	if got, _ := c.app.Durable.ClientByID(ctx, "referral-form"); got.DisabledAt.IsZero() {
		t.Fatal("not disabled")
	}
	ab := c.browser()
	ab.startSignIn()
	if ab.code != "" || ab.page.status < 400 {
		t.Errorf("a disabled form app's sign-in: %d\n%s", ab.page.status, ab.page)
	}
	b.follow("Enable")
	b.press("Enable form app", "reason", "form open again")
	b.expectText("The form app is enabled")
	if err := exchangeWith(t, c, alex, newSecret); err != nil {
		t.Errorf("after enabling: %v", err)
	}

	// Add a form app (the secret shown once), then remove it.
	c.open(b, "/form-apps/new")
	b.press("Add form app", "client_id", "blue-badge", "name", "Apply for a Blue Badge", "redirect_uris", "https://forms.example.gov.uk/blue-badge/callback")
	if s := secretShown(t, b); len(s) < 32 {
		t.Errorf("secret %q", s)
	}
	if b.page.header.Get("Cache-Control") != "no-store" {
		t.Errorf("the secret's page may be cached: %q", b.page.header.Get("Cache-Control"))
	}
	c.open(b, "/form-apps/new")
	b.press("Add form app", "client_id", "idp-admin-console", "name", "Shadow", "redirect_uris", "https://forms.example.gov.uk/x")
	b.expectText("built in to the service")
	c.open(b, "/form-apps/blue-badge/remove")
	b.press("Remove form app", "reason", "added by mistake")
	b.expectText("The form app is removed")
	if _, err := c.app.Durable.ClientByID(ctx, "blue-badge"); err == nil {
		t.Error("the removed form app is still stored")
	}

	// Every action names the operator.
	for kind, reason := range map[string]string{"client.updated": "",
		"client.disabled": "form closed for the summer", "client.enabled": "form open again", "client.created": "", "client.removed": "added by mistake"} {
		es, err := c.app.Durable.QueryAudit(ctx, store.AuditFilter{Kind: kind, Operator: byOp})
		if err != nil || len(es) != 1 || es[0].Reason != reason || es[0].ClientID == "" {
			t.Errorf("audit of %s: %+v %v", kind, es, err)
		}
	}
	if es, _ := c.app.Durable.QueryAudit(ctx, store.AuditFilter{Kind: "client.secret_rotated", Operator: byOp}); len(es) != 2 || es[0].Reason != "secret leaked" || es[1].Reason != "yearly rotation" {
		t.Errorf("audit of the rotations: %+v", es)
	}
	if es, _ := c.app.Durable.QueryAudit(ctx, store.AuditFilter{Kind: "client.updated"}); len(es) == 1 && !strings.Contains(es[0].Detail, "https://rp.test/other-callback") {
		t.Errorf("the change's audit event does not name the new redirect URI: %q", es[0].Detail)
	}

	// A support operator cannot open the form apps pages.
	sup, _ := c.signedUp(t, "support")
	sb := c.signInToConsole(t, sup, "/form-apps")
	if sb.page.status != http.StatusForbidden {
		t.Errorf("support operator on /form-apps: %d", sb.page.status)
	}
}
