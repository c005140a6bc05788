package limits

import "time"

// Lockout after wrong passwords from browsers unknown to the account: from
// Threshold consecutive failures the account is locked, for unknown browsers, for
// Base, doubling with each further failure, up to Max. A correct password after
// the lock, or a password reset, ends it. A browser that signed in to the account
// before has its own budget instead (Passwords.KnownBrowserFailures).
type Lockout struct {
	Threshold int
	Base      time.Duration
	Max       time.Duration
}

// Defaults of Lockout: well under the 100 consecutive failures per account that
// NIST SP 800-63B 5.2.2 allows, with room for a person who mistypes.
const (
	DefaultLockoutThreshold = 10
	DefaultLockoutBase      = time.Minute
	DefaultLockoutMax       = 5 * time.Hour
)

// DefaultLockout gives the defaults.
func DefaultLockout() Lockout {
	return Lockout{Threshold: DefaultLockoutThreshold, Base: DefaultLockoutBase, Max: DefaultLockoutMax}
}

// Until returns when an account with failures consecutive wrong passwords is
// unlocked: zero below the threshold, then Base doubling per further failure,
// capped at Max.
func (l Lockout) Until(failures int, now time.Time) time.Time {
	if l.Threshold <= 0 || failures < l.Threshold {
		return time.Time{}
	}
	d := l.Base
	for i := l.Threshold; i < failures && d < l.Max; i++ {
		d *= 2
	}
	return now.Add(min(d, l.Max))
}

func lockoutRules() []Rule {
	return []Rule{
		{
			Name:    "Consecutive wrong passwords from unknown browsers before an account is locked for them",
			Default: itoa(DefaultLockoutThreshold),
			Window:  "until a correct password or a reset",
			Why:     "NIST SP 800-63B 5.2.2: at most 100 consecutive failed attempts per account",
		},
		{
			Name:    "First lock, doubling with each further wrong password",
			Default: duration(DefaultLockoutBase),
			Why:     "a growing delay slows guessing without locking out a person who mistypes once more",
		},
		{
			Name:    "Longest lock",
			Default: duration(DefaultLockoutMax),
			Why:     "a lock never lasts beyond a working day; 'Forgot your password?' ends it at once",
		},
	}
}
