package journey

import (
	"time"
	"unicode/utf8"

	"github.com/councilforms/idp/idp/limits"
	"github.com/councilforms/idp/store"
)

// Policy holds the rules of the journeys. DefaultPolicy gives the product's defaults,
// the how-often ones from idp/limits; ClassifyPhone has no default and must be set.
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

	// ClassifyPhone parses a number as typed (region, allowed countries and dev ranges
	// are its business) and returns it in E.164 with its type. A number that is neither
	// mobile nor landline should come back with store.PhoneNone.
	ClassifyPhone func(input string) (e164 string, t store.PhoneType, err error)

	// CheckPassword returns a GOV.UK-style message when a new password is not
	// acceptable, or "". Default: DefaultPasswordRule.
	CheckPassword func(password string) string

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

// Password length bounds of DefaultPasswordRule (NIST 800-63B, ASVS 5).
const (
	MinPasswordLen = 8
	MaxPasswordLen = 256
)

// DefaultPasswordRule checks length only: no composition rules, as NIST 800-63B asks.
func DefaultPasswordRule(password string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return "Your password must be at least 8 characters"
	case n > MaxPasswordLen:
		return "Your password must be 256 characters or fewer"
	}
	return ""
}
