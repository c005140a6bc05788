package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/factors/b2c/b2ctest"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/store"
)

// Accounts imported from Azure AD B2C, at their first sign-in here: B2C checks
// the password once (a fake of its ROPC user flow), or, without B2C, the person
// sets a new password by email code and phone. The form app sees the B2C object id
// as sub either way.

const ropcClientID = "0b1e6f4c-3f1a-4d8e-9a55-2c0f1f6b9d21"

// objectID is a B2C object id (a GUID) for the n-th person.
func objectID(p person) string {
	return fmt.Sprintf("4f1a7c2e-8d3b-4b6a-9e0f-%012x", []byte(p.family)[len(p.family)-4:])
}

// importPerson creates p's account as the import does: the B2C object id as its
// id, the email verified, the phone from B2C verified (none when withPhone is
// false), no password.
func importPerson(t *testing.T, d *idp, p person, from string, withPhone bool) *store.User {
	t.Helper()
	now := time.Now().Add(-48 * time.Hour)
	u := &store.User{ID: objectID(p), Email: strings.ToLower(p.email), EmailVerified: true, GivenName: p.given, FamilyName: p.family,
		Status: store.UserActive, ImportedFrom: from, CreatedAt: now, UpdatedAt: now}
	if withPhone {
		u.Phone, u.PhoneVerified = p.e164, true
		u.PhoneType = "mobile"
		if !p.mobile {
			u.PhoneType = "landline"
		}
	}
	if err := d.app.Durable.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("import %s: %v", p.email, err)
	}
	return u
}

func account(t *testing.T, d *idp, id string) *store.User {
	t.Helper()
	u, err := d.app.Durable.UserByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func audited(t *testing.T, d *idp, userID, kind string) bool {
	t.Helper()
	events, err := d.app.Durable.ListAudit(context.Background(), userID, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

func startWithB2C(t *testing.T, be backend) (*idp, *b2ctest.Fake) {
	t.Helper()
	fake := b2ctest.New(t, ropcClientID)
	d := startIdP(t, be, map[string]string{"IDP_B2C_ROPC_URL": fake.TokenURL(), "IDP_B2C_ROPC_CLIENT_ID": ropcClientID})
	return d, fake
}

// An imported person signs in with their B2C password and the phone B2C had; the
// form app gets the B2C object id as sub; the next sign-in never asks B2C.
func TestB2CPasswordAtFirstSignIn(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d, fake := startWithB2C(t, be)
		p := newPerson(t, true)
		importPerson(t, d, p, store.ImportedB2C, true)
		fake.AddUser(objectID(p), p.email, p.password)

		b := d.browser()
		signIn(d, b, p) // the Sign In page as ever, then 'Confirm it is you' on the imported number
		if fake.Calls() != 1 {
			t.Fatalf("B2C asked %d times, want 1", fake.Calls())
		}
		proveBySMS(d, b, p)
		tok := b.exchange()
		if tok.id.Subject != objectID(p) {
			t.Fatalf("sub %q, want the B2C object id %q", tok.id.Subject, objectID(p))
		}
		checkClaims(t, tok, p, "pwd", "sms")
		u := account(t, d, objectID(p))
		if u.PasswordHash == "" || !strings.HasPrefix(u.PasswordHash, "$argon2id$") || u.MigratedAt.IsZero() || u.LastSignInAt.IsZero() {
			t.Fatalf("after the first sign-in: hash %.10q migrated %v last sign-in %v", u.PasswordHash, u.MigratedAt, u.LastSignInAt)
		}
		if !audited(t, d, u.ID, "user.password_migrated") {
			t.Error("no user.password_migrated in the audit log")
		}
		if m := d.metrics(); !strings.Contains(m, `idp_accounts_migrated_total{how="b2c_password"} 1`) {
			t.Errorf("metrics:\n%s", grepLines(m, "idp_accounts_migrated_total"))
		}

		// Next time (B2C switched off, even) the password is ours.
		fake.Down(http.StatusServiceUnavailable)
		b = d.browser()
		signIn(d, b, p)
		proveBySMS(d, b, p)
		if again := b.exchange(); again.id.Subject != objectID(p) {
			t.Fatalf("second sign-in sub %q", again.id.Subject)
		}
		if fake.Calls() != 1 {
			t.Fatalf("B2C asked %d times after the migration, want still 1", fake.Calls())
		}
		// The old B2C password was the one stored; a wrong one is still wrong.
		b = d.browser()
		b.startSignIn()
		b.press("Sign in", "email", p.email, "password", "not my password")
		b.expectText(journey.MsgSignInIncorrect)
	})
}

// A wrong password is refused by B2C and reads as any wrong password; it counts
// towards the lockout, and a locked or disabled account never reaches B2C.
func TestB2CWrongPassword(t *testing.T) {
	d, fake := startWithB2C(t, embedded)
	p := newPerson(t, true)
	importPerson(t, d, p, store.ImportedB2C, true)
	fake.AddUser(objectID(p), p.email, p.password)

	b := d.browser()
	b.startSignIn()
	b.press("Sign in", "email", p.email, "password", "my old password?")
	b.expectHeading("Sign In")
	b.expectText(journey.MsgSignInIncorrect)
	if fake.Calls() != 1 {
		t.Fatalf("B2C asked %d times, want 1", fake.Calls())
	}
	u := account(t, d, objectID(p))
	if u.PasswordHash != "" || !u.MigratedAt.IsZero() || u.FailedLogins != 1 {
		t.Fatalf("after a wrong password: hash %q migrated %v failures %d", u.PasswordHash, u.MigratedAt, u.FailedLogins)
	}

	// Locked: B2C is not asked, even with the right password.
	if err := d.app.Durable.LockUser(context.Background(), u.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	b = d.browser()
	b.startSignIn()
	b.press("Sign in", "email", p.email, "password", p.password)
	b.expectText("Your account is locked")
	if fake.Calls() != 1 {
		t.Fatalf("a locked account asked B2C (%d calls)", fake.Calls())
	}

	// Disabled: B2C is not asked, and the page is the usual one.
	q := newPerson(t, true)
	v := importPerson(t, d, q, store.ImportedB2C, true)
	v.Status = store.UserDisabled
	if err := d.app.Durable.UpdateUser(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	fake.AddUser(objectID(q), q.email, q.password)
	b = d.browser()
	b.startSignIn()
	b.press("Sign in", "email", q.email, "password", q.password)
	b.expectText(journey.MsgSignInIncorrect)
	if fake.Calls() != 1 {
		t.Fatalf("a disabled account asked B2C (%d calls)", fake.Calls())
	}
}

// B2C down: a page saying the password cannot be checked right now, with
// 'Forgot your password?'; nothing is stored, and trying again once B2C is back works.
func TestB2CDown(t *testing.T) {
	d, fake := startWithB2C(t, embedded)
	p := newPerson(t, true)
	importPerson(t, d, p, store.ImportedB2C, true)
	fake.AddUser(objectID(p), p.email, p.password)
	fake.Down(http.StatusServiceUnavailable)

	b := d.browser()
	b.startSignIn()
	b.press("Sign in", "email", p.email, "password", p.password)
	b.expectHeading("We cannot check your password right now")
	if b.page.status != http.StatusOK {
		t.Fatalf("status %d", b.page.status)
	}
	b.expectText("Forgot your password?")
	u := account(t, d, objectID(p))
	if u.PasswordHash != "" || !u.MigratedAt.IsZero() || u.FailedLogins != 0 {
		t.Fatalf("B2C down changed the account: hash %q migrated %v failures %d", u.PasswordHash, u.MigratedAt, u.FailedLogins)
	}

	fake.Down(0)
	b.follow("Try again")
	b.expectHeading("Sign In")
	b.press("Sign in", "email", p.email, "password", p.password)
	b.expectHeading("Confirm it is you")

	// 'Forgot your password?' from that page is the usual reset.
	q := newPerson(t, true)
	importPerson(t, d, q, store.ImportedB2C, true)
	fake.Down(http.StatusInternalServerError)
	b = d.browser()
	b.startSignIn()
	b.press("Sign in", "email", q.email, "password", q.password)
	b.expectHeading("We cannot check your password right now")
	b.follow("Forgot your password?")
	b.expectHeading("Reset your password")
}

// Without B2C to ask, the first sign-in says the council has moved and asks for a
// new password: a code to the imported address, the imported phone, the new
// password, then back to the form app as the same sub.
func TestImportedSetsANewPassword(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		p := newPerson(t, true)
		importPerson(t, d, p, store.ImportedB2C, true)

		b := d.browser()
		b.startSignIn()
		b.expectHeading("Sign In")
		b.press("Sign in", "email", p.email, "password", "whatever I used before")
		b.expectHeading("We have moved to a new sign-in service")
		b.expectText("create a new password")
		b.press("Continue")
		b.expectHeading("Check your email")
		b.press("Verify code", "code", d.latest("email", p.email).Code)
		b.expectHeading("Confirm it is you")
		b.expectText(journey.MaskPhone(p.e164))
		proveBySMS(d, b, p)
		b.expectHeading("Create a new password")
		p.password = "a brand new passphrase"
		b.press("Continue", "password", p.password, "confirm-password", p.password)
		tok := b.exchange()
		if tok.id.Subject != objectID(p) {
			t.Fatalf("sub %q, want %q", tok.id.Subject, objectID(p))
		}
		checkClaims(t, tok, p, "pwd", "sms")
		u := account(t, d, objectID(p))
		if u.MigratedAt.IsZero() || u.LastSignInAt.IsZero() {
			t.Fatalf("migrated %v last sign-in %v", u.MigratedAt, u.LastSignInAt)
		}
		if m := d.metrics(); !strings.Contains(m, `idp_accounts_migrated_total{how="new_password"} 1`) {
			t.Errorf("metrics:\n%s", grepLines(m, "idp_accounts_migrated_total"))
		}

		b = d.browser()
		signIn(d, b, p)
	})
}

// An account from another instance's export, even with B2C configured, sets a new
// password; without a phone it enrols one after the password.
func TestExportedAccountWithoutPhone(t *testing.T) {
	d, fake := startWithB2C(t, embedded)
	p := newPerson(t, true)
	importPerson(t, d, p, store.ImportedExport, false)

	b := d.browser()
	b.startSignIn()
	b.press("Sign in", "email", p.email, "password", "anything")
	b.expectHeading("We have moved to a new sign-in service")
	if fake.Calls() != 0 {
		t.Fatal("an exported account asked B2C")
	}
	b.press("Continue")
	b.press("Verify code", "code", d.latest("email", p.email).Code)
	b.expectHeading("Create a new password")
	b.press("Continue", "password", "a brand new passphrase", "confirm-password", "a brand new passphrase")
	b.expectHeading("Enter your phone number")
	proveBySMS(d, b, p, "phone", p.phone)
	b.expectHeading("Confirm your phone number")
	proveBySMS(d, b, p)
	if tok := b.exchange(); tok.id.Subject != objectID(p) {
		t.Fatalf("sub %q", tok.id.Subject)
	}
}

// A network refused for too many wrong passwords never reaches B2C either.
func TestB2CNotAskedFromAThrottledNetwork(t *testing.T) {
	fake := b2ctest.New(t, ropcClientID)
	d := startIdP(t, embedded, map[string]string{"IDP_B2C_ROPC_URL": fake.TokenURL(), "IDP_B2C_ROPC_CLIENT_ID": ropcClientID,
		"IDP_PASSWORD_NETWORK_LIMIT": "1", "IDP_PASSWORD_NETWORK_SLOWDOWN": "1"})
	p := newPerson(t, true)
	importPerson(t, d, p, store.ImportedB2C, true)
	fake.AddUser(objectID(p), p.email, p.password)

	b := d.browser()
	b.startSignIn()
	b.press("Sign in", "email", "nobody@example.gov.uk", "password", "a guess")
	b.expectText(journey.MsgSignInIncorrect)
	b.press("Sign in", "email", p.email, "password", p.password)
	b.expectText("There have been too many attempts to sign in from your network")
	if fake.Calls() != 0 {
		t.Fatalf("a throttled network asked B2C (%d calls)", fake.Calls())
	}
}
