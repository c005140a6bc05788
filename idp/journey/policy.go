package journey

import (
	"time"
	"unicode/utf8"

	"github.com/councilforms/idp/store"
)

// Policy holds the rules of the journeys. DefaultPolicy gives the product's defaults;
// ClassifyPhone has no default and must be set.
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
}

// DefaultPolicy returns the product's rules (see the package documentation).
func DefaultPolicy() Policy {
	return Policy{
		EmailCodeTTL:      10 * time.Minute,
		SMSCodeTTL:        10 * time.Minute,
		CallTimeout:       2 * time.Minute,
		MaxAttempts:       5,
		ResendLimit:       5,
		ResendWindow:      15 * time.Minute,
		PhoneConfirmTwice: true,
		LockoutThreshold:  10,
		LockoutBase:       time.Minute,
		LockoutMax:        5 * time.Hour,
	}
}

// LockedUntil returns when an account with failures consecutive wrong passwords is
// unlocked: zero below the threshold, then LockoutBase doubling per further failure,
// capped at LockoutMax.
func (p Policy) LockedUntil(failures int, now time.Time) time.Time {
	if p.LockoutThreshold <= 0 || failures < p.LockoutThreshold {
		return time.Time{}
	}
	d := p.LockoutBase
	for i := p.LockoutThreshold; i < failures && d < p.LockoutMax; i++ {
		d *= 2
	}
	return now.Add(min(d, p.LockoutMax))
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
