package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/councilforms/idp/factors/email/smtptest"
	"github.com/councilforms/idp/factors/vonage/vonagetest"
	"github.com/councilforms/idp/idp/journey"
)

// startProduction runs the idp out of development mode: email through an SMTP
// relay (the outbox and its worker), texts and calls through a fake Vonage that
// checks every request as the real API would.
func startProduction(t *testing.T, be backend) *idp {
	t.Helper()
	relay := smtptest.Start(t)
	fake := vonagetest.New(t)
	key := filepath.Join(t.TempDir(), "vonage-private.key")
	if err := os.WriteFile(key, fake.PrivateKeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	d := startIdP(t, be, map[string]string{
		"IDP_DEV":                     "false",
		"IDP_SMTP_URL":                relay.URL(),
		"IDP_EMAIL_FROM":              "Norfolk County Council <no-reply@forms.example.gov.uk>",
		"IDP_VONAGE_API_KEY":          fake.APIKey,
		"IDP_VONAGE_API_SECRET":       fake.APISecret,
		"IDP_VONAGE_APPLICATION_ID":   fake.ApplicationID,
		"IDP_VONAGE_PRIVATE_KEY_FILE": key,
		"IDP_VONAGE_SIGNATURE_SECRET": fake.SignatureSecret,
		"IDP_VONAGE_FROM":             "NorfolkCC",
		"IDP_VONAGE_REST_URL":         fake.URL,
		"IDP_VONAGE_API_URL":          fake.URL,
	})
	d.relay, d.vonage = relay, fake
	t.Cleanup(func() {
		if p := fake.Problems(); len(p) > 0 {
			t.Errorf("requests the real Vonage would refuse: %v", p)
		}
	})
	return d
}

// realPerson has numbers outside Ofcom's drama ranges, which production refuses.
func realPerson(t *testing.T, mobile bool) person {
	p := newPerson(t, mobile)
	n := p.e164[len(p.e164)-2:]
	if mobile {
		p.phone, p.e164 = "07400 123 4"+n, "+4474001234"+n
	} else {
		p.phone, p.e164 = "020 7123 44"+n, "+4420712344"+n
	}
	return p
}

func TestProductionSignUpByEmailAndText(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startProduction(t, be)
		p := realPerson(t, true)
		tok := signUp(d, d.browser(), p)
		checkClaims(t, tok, p, "pwd", "sms")
		if n := len(d.relay.To(p.email)); n != 1 {
			t.Errorf("%d emails reached the relay, want 1", n)
		}
		sms := d.vonage.SentSMS()
		if len(sms) != 2 || sms[0].From != "NorfolkCC" || !strings.Contains(sms[0].Text, "Norfolk County Council") {
			t.Errorf("texts sent: %+v", sms)
		}
		// Development endpoints do not exist in production.
		if got := d.browser().get("/dev/inbox.json"); got.status != 404 {
			t.Errorf("GET /dev/inbox.json in production: %d", got.status)
		}
	})
}

func TestProductionLandlineByCall(t *testing.T) {
	d := startProduction(t, embedded)
	p := realPerson(t, false)
	tok := signUp(d, d.browser(), p)
	checkClaims(t, tok, p, "pwd", "tel")
	calls := d.vonage.Calls()
	if len(calls) != 2 || !strings.Contains(calls[0].Script, "Norfolk County Council") || !strings.HasPrefix(calls[0].EventURL, d.issuer) {
		t.Errorf("calls placed: %+v", calls)
	}
}

func TestProductionCallTimesOutOrIsRejected(t *testing.T) {
	d := startProduction(t, embedded)
	p := realPerson(t, false)
	signUp(d, d.browser(), p)
	ctx := context.Background()
	number := strings.TrimPrefix(p.e164, "+")

	b := d.browser()
	signIn(d, b, p)
	b.press("Call Me")
	if _, err := d.vonage.TimeOut(ctx, number); err != nil {
		t.Fatal(err)
	}
	b.get("/login")
	b.expectText(journey.MsgCallNotAnswered)
	b.expectHeading("Confirm it is you")

	b.press("Call Me")
	if _, err := d.vonage.Reject(ctx, number); err != nil {
		t.Fatal(err)
	}
	b.get("/login")
	b.expectHeading("Confirm it is you")
	b.expectText("choose another way")

	// The third call is answered.
	proveByCall(d, b, p)
	checkClaims(t, b.exchange(), p, "pwd", "tel")
}

func TestProductionTextRefusedOffersACall(t *testing.T) {
	d := startProduction(t, embedded)
	p := realPerson(t, true)
	signUp(d, d.browser(), p)

	d.vonage.SetSMSStatus(p.e164, "9") // the account is out of credit
	b := d.browser()
	signIn(d, b, p)
	// More refused texts than the number's hourly budget: none of them is
	// charged to it, and no page claims a code was sent.
	for range 12 {
		b.press("Send Code")
		b.expectHeading("Confirm it is you")
		b.expectText("We cannot send text messages at the moment. Select 'Call Me' and we will call you instead")
		b.expectNoText("We have sent")
	}
	b.press("Call Me")
	b.expectHeading("We are calling you")
	d.pressKeys(p.e164, "#")
	b.get("/login")
	checkClaims(t, b.exchange(), p, "pwd", "tel")

	// Texts work again: the refused ones left the budgets as they were.
	d.vonage.SetSMSStatus(p.e164, "0")
	b = d.browser()
	signIn(d, b, p)
	proveBySMS(d, b, p)
	checkClaims(t, b.exchange(), p, "pwd", "sms")
}

func TestProductionWebhooksMustBeSigned(t *testing.T) {
	d := startProduction(t, embedded)
	p := realPerson(t, false)
	signUpToPhone(d, d.browser(), p)
	b := d.browser()
	b.startSignIn()
	b.press("Sign in", "email", p.email, "password", p.password)
	b.press("Call Me", "phone", p.phone)
	call := d.vonage.Calls()[0]
	body := []byte(fmt.Sprintf(`{"uuid":%q,"dtmf":{"digits":"#","timed_out":false}}`, call.UUID))
	ctx := context.Background()
	for name, token := range map[string]string{
		"unsigned":     "",
		"wrong secret": vonagetest.SignWith("not the signature secret at all", body, nil),
		"other body":   d.vonage.Sign([]byte(`{"uuid":"x"}`), nil),
	} {
		res, err := d.vonage.Post(ctx, call.InputURL, body, token)
		if err != nil || res.Status != 401 {
			t.Errorf("%s webhook: %+v %v, want 401", name, res, err)
		}
	}
	b.get("/login")
	b.expectHeading("We are calling you") // nothing moved
	signed := d.vonage.Sign(body, nil)
	if res, err := d.vonage.Post(ctx, call.InputURL, body, signed); err != nil || res.Status/100 != 2 {
		t.Fatalf("signed webhook: %+v %v", res, err)
	}
	if res, err := d.vonage.Post(ctx, call.InputURL, body, signed); err != nil || res.Status != 401 {
		t.Errorf("replayed webhook: %+v %v, want 401", res, err)
	}
	b.get("/login")
	b.expectHeading("Confirm your phone number")
}
