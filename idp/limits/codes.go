package limits

import (
	"strconv"
	"time"
)

// CodeGuesses caps wrong one-time codes (email and text message) across
// journeys. A journey's code dies after a few wrong entries, but a fresh journey
// gets a fresh code, so wrong codes are also counted in the durable store, per
// destination (the email address, the phone number) and per account, until a
// right code ends the run. From Threshold consecutive wrong codes that factor is
// locked: no code is checked, not even a right one, until LockFor after the
// latest wrong one. A wrong code after the lock has ended locks it again at
// once, so past the threshold a guesser gets one try per LockFor: at most 20 in
// the first hour and 43 in the first day, where fresh journeys alone allowed
// 1,200 a day.
type CodeGuesses struct {
	Threshold int           // consecutive wrong codes that lock the factor
	LockFor   time.Duration // how long after the latest wrong code it stays locked
}

// Defaults of CodeGuesses: a person who mistypes, or asks for several codes and
// types an old one, is far from 20; 20 guesses at a 6-digit code succeed 1 time
// in 50,000.
const (
	DefaultCodeGuessThreshold = 20
	DefaultCodeGuessLock      = time.Hour
)

// DefaultCodeGuesses gives the defaults.
func DefaultCodeGuesses() CodeGuesses {
	return CodeGuesses{Threshold: DefaultCodeGuessThreshold, LockFor: DefaultCodeGuessLock}
}

// LockedUntil is when a factor whose run is failures wrong codes long, the
// latest at last, unlocks: the zero time below the threshold (or with no
// threshold), else last plus LockFor. The factor is locked while now is before
// it.
func (c CodeGuesses) LockedUntil(failures int, last time.Time) time.Time {
	if c.Threshold <= 0 || failures < c.Threshold {
		return time.Time{}
	}
	return last.Add(c.LockFor)
}

// codeGuessRules describes the rules for the README's limits table.
func codeGuessRules() []Rule {
	lock := strconv.Itoa(int(DefaultCodeGuessLock/time.Minute)) + " minutes"
	if DefaultCodeGuessLock == time.Hour {
		lock = "1 hour"
	}
	return []Rule{
		{
			Name:    "Consecutive wrong codes (email or text message) before the codes of the email address, number or account are locked",
			Default: strconv.Itoa(DefaultCodeGuessThreshold),
			Window:  "across journeys, until a right code",
			Why:     "NIST SP 800-63B §5.2.2: at most 100 consecutive failed attempts per account; fresh journeys alone gave 1,200 guesses a day",
		},
		{
			Name:    "Lock after too many wrong codes, again after each further wrong code",
			Default: lock,
			Window:  "from the latest wrong code",
			Why:     "NIST SP 800-63B §5.2.2 rate limiting: past the threshold one guess per lock keeps far below 100, and a call still proves the phone",
		},
	}
}
