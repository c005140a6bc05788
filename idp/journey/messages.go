package journey

import (
	"fmt"
	"time"
)

// FieldError is a mistake the person can fix, in GOV.UK error-message style. Field is
// the form field it belongs to (one of the Field constants), for the error summary
// link and the inline message.
type FieldError struct {
	Field   string
	Message string
}

// Form field names that FieldError.Field refers to. They are the input ids of the
// pages (ui.Field*), so a page links an error to its input without translation;
// idp/web checks that the two lists agree.
const (
	FieldEmail      = "email"
	FieldPassword   = "password"
	FieldConfirm    = "confirm-password"
	FieldGivenName  = "given-name"
	FieldFamilyName = "surname"
	FieldCode       = "code"
	FieldPhone      = "phone"
	FieldMethod     = "method"
)

// Messages a person may see. Pages and tests refer to them by name. The phone
// number's are factors/phone's (phone.Message), a new password's idp/password's.
const (
	MsgEnterEmail         = "Enter your email address"
	MsgEmailFormat        = "Enter an email address in the correct format, like name@example.com"
	MsgEmailTooLong       = "Email address must be 254 characters or fewer"
	MsgEnterPassword      = "Enter your password"
	MsgSignInIncorrect    = "Your email address or password is incorrect"
	MsgEnterGivenName     = "Enter your given name"
	MsgEnterFamilyName    = "Enter your family name"
	MsgGivenNameTooLong   = "Given name must be 100 characters or fewer"
	MsgFamilyNameTooLong  = "Family name must be 100 characters or fewer"
	MsgNameCharacters     = "Names must not contain control characters"
	MsgCreatePassword     = "Enter a password"
	MsgConfirmPassword    = "Confirm your password"
	MsgPasswordsDontMatch = "Passwords do not match"
	MsgEnterCode          = "Enter the code"
	MsgCodeFormat         = "Enter the code using only 6 digits"
	MsgCodeWrong          = "The code you entered is not correct, or may have expired"
	MsgCodeExpired        = "The code has expired. Ask for a new code"
	MsgCodeTooManyWrong   = "You entered the wrong code too many times. Ask for a new code"
	MsgLandlineNoText     = "We cannot send a text message to a landline. Select 'Call Me' instead"
	MsgPhoneSameNumber    = "Enter your new phone number, not the one already on your account"
	MsgCallNotAnswered    = "The call was not answered with the hash key (#) in time. Try again, or choose another way"
	MsgCallBusy           = "The line was busy. Try again, or choose another way"
	MsgCallFailed         = "We could not call this number. Check the number, or choose another way"
)

// msgLocked tells a person their account is locked, for how long, and what else
// they can do: reset the password, or ask a human (contact, Policy.ContactText;
// empty leaves it out). The words are the same whether or not the address has
// an account: an unknown address is locked the same way.
func msgLocked(until, now time.Time, contact string) string {
	msg := "Your account is locked because of too many wrong passwords. Try again in " + humanWait(until.Sub(now))
	if contact == "" {
		return msg + ", or reset your password with 'Forgot your password?'"
	}
	return msg + ", reset your password with 'Forgot your password?', or " + contact
}

// msgThrottled: too many wrong passwords from the person's network.
func msgThrottled(wait time.Duration) string {
	return fmt.Sprintf("There have been too many attempts to sign in from your network. Wait %s, then try again", humanWait(wait))
}

// msgTooManyResends: the journey's own resend budget is spent.
func msgTooManyResends(wait time.Duration) string {
	return fmt.Sprintf("You asked for too many new codes. Wait %s, then try again", humanWait(wait))
}

// msgSendRefused: the durable per-address, per-number or per-IP budget is spent.
func msgSendRefused(wait time.Duration) string {
	if wait <= 0 {
		return "We cannot send any more messages right now. Try again later"
	}
	return fmt.Sprintf("We cannot send any more messages right now. Wait %s, then try again", humanWait(wait))
}

// msgTooManyNewNumbers: the account tried its day's different new numbers.
func msgTooManyNewNumbers(wait time.Duration, contact string) string {
	return "You have tried too many different phone numbers today. " + tryAgainOr(wait, contact)
}

// msgTooManyEnrolmentSends: the account's day's codes to new numbers are spent.
func msgTooManyEnrolmentSends(wait time.Duration, contact string) string {
	return "We have sent too many codes to new phone numbers for this account today. " + tryAgainOr(wait, contact)
}

// MsgSendCeiling: the service's daily ceiling of texts and calls is spent, or its
// share for numbers not yet verified (verified false); wait is until it resets.
func MsgSendCeiling(verified bool, wait time.Duration, contact string) string {
	if verified {
		return "We cannot send text messages or make calls at the moment. " + tryAgainOr(wait, contact)
	}
	return "We cannot send codes to new phone numbers at the moment. " + tryAgainOr(wait, contact)
}

// tryAgainOr: "Try again in 5 hours, or contact the council's customer services".
func tryAgainOr(wait time.Duration, contact string) string {
	msg := "Try again later"
	if wait > 0 {
		msg = "Try again in " + humanWait(wait)
	}
	if contact != "" {
		msg += ", or " + contact
	}
	return msg
}

// humanWait rounds a wait up to whole minutes or hours: "1 minute", "15 minutes", "2 hours".
func humanWait(d time.Duration) string {
	// Up to half a second over a whole minute is the gap between the caller's clock
	// and the journey's, not another minute to wait.
	minutes := int((d + time.Minute - time.Second/2 - 1) / time.Minute)
	if minutes < 1 {
		minutes = 1
	}
	if minutes > 90 {
		hours := (minutes + 59) / 60
		return plural(hours, "hour")
	}
	return plural(minutes, "minute")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
