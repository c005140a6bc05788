// Package amr names what a sign-in proves, in one place: the authentication
// method references (RFC 8176) the journey records as each factor is proven
// and ID tokens carry in amr, and the acr the provider derives from them.
// It is pure: the journey and the provider both import it.
package amr

import "slices"

// The methods a sign-in proves.
const (
	Password = "pwd" // the account's password
	SMS      = "sms" // a code sent by text message to the account's phone
	Tel      = "tel" // a voice call to the account's phone, answered with '#'
)

// Canonical is the order amr lists the proven methods in.
var Canonical = []string{Password, SMS, Tel}

// ACR values: what strength of sign-in the amr proves.
const (
	// MultiFactor: a password and a phone (SMS code or voice call).
	MultiFactor = "urn:councilforms:acr:mfa"
	// SingleFactor: one factor only.
	SingleFactor = "urn:councilforms:acr:sfa"
)

// ACR is the acr of a sign-in that proved methods: MultiFactor for a password
// and a phone, SingleFactor otherwise. "otp" (a one-time code, as recorded by
// tokens issued before this package) counts as a phone.
func ACR(methods []string) string {
	phone := slices.Contains(methods, SMS) || slices.Contains(methods, Tel) || slices.Contains(methods, "otp")
	if slices.Contains(methods, Password) && phone {
		return MultiFactor
	}
	return SingleFactor
}
