package journey

import (
	"time"

	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/idp/limits"
)

// Policy holds the rules of the journeys. DefaultPolicy gives the product's defaults,
// the how-often ones from idp/limits. The rules of what a person types live with
// their subject: which phone numbers are accepted in factors/phone (Phone), what a
// new password must be in idp/password (NewPasswordRule, which has no default).
type Policy struct {
	EmailCodeTTL time.Duration // how long an email code is valid
	SMSCodeTTL   time.Duration // how long a text-message code is valid
	CallTimeout  time.Duration // how long a call may take to be answered with #
	MaxAttempts  int           // wrong entries that kill a code

	// ResendLimit resends per ResendWindow per journey and channel (email; phone, which
	// counts texts and calls together). The first message of each email address flow
	// and of each phone proof is not a resend.
	ResendLimit  int
	ResendWindow time.Duration

	// PhoneConfirmTwice: after enrolling a number, verify it once more ('You'll now be
	// asked to repeat this process to confirm your phone number').
	PhoneConfirmTwice bool

	// PhoneRecovery lets a sign-in whose phone is lost change the number
	// itself after the password (StartPhoneRecovery): a code to the account's
	// email address, then the new number proven; it is stored as pending
	// (RequestPhoneChange) and replaces the account's phone PhoneRecoveryWait
	// later. Off, StartPhoneRecovery is refused.
	PhoneRecovery     bool
	PhoneRecoveryWait time.Duration

	// Lockout after wrong passwords (applied by the CheckPassword runner through
	// LockedUntil): from LockoutThreshold consecutive failures the account is locked for
	// LockoutBase, doubling with each further failure, up to LockoutMax.
	LockoutThreshold int
	LockoutBase      time.Duration
	LockoutMax       time.Duration

	// ContactText ends the messages that send a person to a human for help ("Try
	// again in 5 hours, or contact the council's customer services"); empty leaves
	// the "or ..." out.
	ContactText string

	// Phone says which numbers may be enrolled (allowed countries, development
	// ranges); its errors are the messages a person sees. The zero value accepts UK
	// mobiles and landlines.
	Phone phone.Rules

	// NewPasswordRule judges a new password (sign-up, reset): nil, or an error whose
	// text is shown to the person next to the field. Required: the app gives
	// password.Check (length and blocklist). The journey does not import
	// idp/password itself because that package's hasher metrics reach net/http.
	NewPasswordRule func(password string) error

	// NewCode and NewCallID produce codes and call ids; defaults use crypto/rand.
	NewCode   func() (string, error)
	NewCallID func() (string, error)

	// FormatTime writes a time a person reads in a message (when locked codes
	// can be tried again), in the time's own location. Default
	// DefaultFormatTime; the app gives the pages' style (ui.FormatTime), so a
	// message reads like the pages around it.
	FormatTime func(time.Time) string
}

// DefaultFormatTime writes "14:05 on 3 March 2026".
func DefaultFormatTime(t time.Time) string { return t.Format("15:04 on 2 January 2006") }

// DefaultPolicy returns the product's rules (see the package documentation).
func DefaultPolicy() Policy {
	lock := limits.DefaultLockout()
	return Policy{
		EmailCodeTTL:      10 * time.Minute,
		SMSCodeTTL:        10 * time.Minute,
		CallTimeout:       2 * time.Minute,
		MaxAttempts:       limits.DefaultCodeAttempts,
		ResendLimit:       limits.DefaultResends,
		ResendWindow:      limits.DefaultResendWindow,
		PhoneConfirmTwice: true,
		PhoneRecoveryWait: 72 * time.Hour,
		LockoutThreshold:  lock.Threshold,
		LockoutBase:       lock.Base,
		LockoutMax:        lock.Max,
	}
}

// LockedUntil returns when an account with failures consecutive wrong passwords is
// unlocked (limits.Lockout): zero below the threshold, then LockoutBase doubling per
// further failure, capped at LockoutMax.
func (p Policy) LockedUntil(failures int, now time.Time) time.Time {
	return limits.Lockout{Threshold: p.LockoutThreshold, Base: p.LockoutBase, Max: p.LockoutMax}.Until(failures, now)
}
