package app_test

import "testing"

// A person who types a password or a phone number that cannot be used reads why, in
// the words of the one rule that refused it (idp/password, factors/phone), on the
// page itself.
func TestRefusedPasswordsAndNumbersSayWhy(t *testing.T) {
	d := startIdP(t, embedded, map[string]string{"IDP_PHONE_COUNTRIES": "GB,IE"})
	p := newPerson(t, true)
	b := d.browser()
	startSignUp(b, p.email)
	_, code := d.emailCode(p.email)
	b.press("Verify code", "code", code)
	b.press("Continue")
	b.expectHeading("Create your account")
	for _, tc := range []struct{ password, says string }{
		{"short", "Password must be 8 characters or more"},
		{"Password123!", "Choose a password that is harder to guess"},
	} {
		b.press("Create", "given-name", p.given, "surname", p.family, "password", tc.password, "confirm-password", tc.password)
		b.expectHeading("Create your account")
		b.expectText(tc.says)
	}
	b.press("Create", "given-name", p.given, "surname", p.family, "password", p.password, "confirm-password", p.password)
	b.expectHeading("Enter your phone number")

	for _, tc := range []struct{ number, says string }{
		{"0800 123 4567", "Enter a landline or mobile phone number, not a freephone number"},
		{"0901 123 4567", "Enter a landline or mobile phone number, not a premium rate number"},
		{"+33 6 12 34 56 78", "Enter a phone number from the UK or Ireland"},
		{"12345", "Enter a phone number in the correct format, like 01632 960 001 or 07700 900 982"},
	} {
		b.press("Call Me", "phone", tc.number)
		b.expectHeading("Enter your phone number")
		b.expectText(tc.says)
	}
	b.press("Send Code", "phone", p.phone)
	b.expectHeading("Check your phone")
}
