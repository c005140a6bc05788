package app_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/store"
)

// TestPhoneRecoveryE2E walks the self-service change of a lost phone
// (IDP_PHONE_RECOVERY): after the password, 'I cannot use this phone number',
// 'Change your phone number yourself', the code emailed to the account, the new
// number proven by text; the page says when it takes effect and an email
// announces it, and the sign-in does not complete. During the wait sign-in
// still asks the old number; after it, the new one, and completes.
func TestPhoneRecoveryE2E(t *testing.T) {
	for _, b := range []backend{embedded, pgAndRedis} {
		t.Run(string(b), func(t *testing.T) { phoneRecoveryWalk(t, b) })
	}
}

func phoneRecoveryWalk(t *testing.T, b backend) {
	d := startIdP(t, b, map[string]string{"IDP_PHONE_RECOVERY": "true", "IDP_PHONE_RECOVERY_WAIT": "24h",
		"IDP_CONTACT_TEXT": "call customer services on 01632 960 001"})
	p := newPerson(t, true)
	signUp(d, d.browser(), p)
	lost := newPerson(t, true) // the new number, same account
	lost.email, lost.password = p.email, p.password

	c := d.browser()
	signIn(d, c, p)
	c.follow("I cannot use this phone number")
	c.expectHeading("If you cannot use your phone number")
	c.expectText("only after 24 hours")
	c.press("Change your phone number yourself")
	subject, code := d.emailCode(p.email)
	if subject != "Norfolk County Council code to change your phone number" {
		t.Fatalf("the code's email is %q", subject)
	}
	c.expectText(p.email)
	c.press("Verify code", "code", code)
	proveBySMS(d, c, lost, "phone", lost.phone)
	c.expectHeading("Confirm your phone number")
	proveBySMS(d, c, lost)
	c.expectHeading("Your phone number will change")
	c.expectText("We have sent an email to " + p.email)
	if c.code != "" {
		t.Fatal("the form app got a code although the account's phone was not proven")
	}
	notice := d.latest("email", p.email)
	ending := journey.PhoneEnding(lost.e164)
	if notice.Subject != "Your Norfolk County Council account has changed" ||
		!strings.Contains(notice.Body, "ending "+ending) || !strings.Contains(notice.Body, "It will replace the current number on") ||
		!strings.Contains(notice.Body, "call customer services on 01632 960 001") {
		t.Fatalf("the notice of the change: %q\n%s", notice.Subject, notice.Body)
	}

	// During the wait: the old number, still.
	e := d.browser()
	signIn(d, e, p) // asks the old number
	e.expectNoText(journey.MaskPhone(lost.e164))

	// After the wait: the new number, and the sign-in completes.
	d.clock.advance(24*time.Hour + time.Minute)
	f := d.browser()
	f.startSignIn()
	f.press("Sign in", "email", p.email, "password", p.password)
	f.expectHeading("Confirm it is you")
	f.expectText(journey.MaskPhone(lost.e164))
	proveBySMS(d, f, lost)
	if tok := f.exchange(); tok.claims.Phone != lost.e164 || !tok.claims.PhoneVerified {
		t.Fatalf("phone_number %q verified %v, want the new number", tok.claims.Phone, tok.claims.PhoneVerified)
	}
	changed := d.latest("email", p.email)
	if changed.Subject != "Your Norfolk County Council account has changed" || !strings.Contains(changed.Body, "changed to a number ending "+ending) {
		t.Fatalf("the notice after the change: %q\n%s", changed.Subject, changed.Body)
	}
}

// TestPhoneRecoveryOff: without IDP_PHONE_RECOVERY the lost-phone page has no
// button, and a post to the route changes nothing and sends nothing.
func TestPhoneRecoveryOff(t *testing.T) {
	d := startIdP(t, embedded, nil)
	p := newPerson(t, true)
	signUp(d, d.browser(), p)
	c := d.browser()
	signIn(d, c, p)
	c.follow("I cannot use this phone number")
	c.expectHeading("If you cannot use your phone number")
	c.expectNoText("Change your phone number yourself")
	emails := d.count("email", p.email)
	c.postForm(d.issuer+"/login/phone-recovery", url.Values{})
	c.expectHeading("Confirm it is you")
	if n := d.count("email", p.email); n != emails {
		t.Fatalf("the refused route sent %d emails", n-emails)
	}
}

// TestPhoneRecoveryCancelledByOldPhone: the owner who signs in with the
// account's phone while a change waits stops it: after the wait, sign-in still
// asks that phone, and the cancellation is audited.
func TestPhoneRecoveryCancelledByOldPhone(t *testing.T) {
	d := startIdP(t, embedded, map[string]string{"IDP_PHONE_RECOVERY": "true"})
	p := newPerson(t, true)
	signUp(d, d.browser(), p)
	other := newPerson(t, true)

	c := d.browser()
	signIn(d, c, p)
	c.follow("I cannot use this phone number")
	c.press("Change your phone number yourself")
	_, code := d.emailCode(p.email)
	c.press("Verify code", "code", code)
	proveBySMS(d, c, other, "phone", other.phone)
	proveBySMS(d, c, other)
	c.expectHeading("Your phone number will change")

	e := d.browser()
	signIn(d, e, p)
	proveBySMS(d, e, p)
	e.exchange()

	d.clock.advance(72*time.Hour + time.Minute)
	f := d.browser()
	signIn(d, f, p) // still the account's own phone
	f.expectNoText(journey.MaskPhone(other.e164))
	events, err := d.app.Durable.QueryAudit(context.Background(), store.AuditFilter{Kind: "phone.recovery_cancelled"})
	if err != nil || len(events) != 1 || events[0].Detail != "signed in with the account's phone" {
		t.Fatalf("cancellations audited: %+v, %v", events, err)
	}
}
