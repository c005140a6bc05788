package limits

import (
	"strconv"
	"time"
)

// Rules kept inside one journey (its state in the ephemeral store): they go with
// the journey, and the durable budgets of sends.go bound what fresh journeys add.
const (
	// DefaultCodeAttempts wrong entries kill a code; a new one must be asked for.
	DefaultCodeAttempts = 5
	// DefaultResends new codes (or calls) per DefaultResendWindow, per journey and
	// channel (email; phone, texts and calls together). The first message of each
	// email address and of each phone proof is not a resend.
	DefaultResends      = 5
	DefaultResendWindow = 15 * time.Minute
)

func journeyRules() []Rule {
	return []Rule{
		{
			Name:    "Wrong entries of one code before it stops working",
			Default: itoa(DefaultCodeAttempts),
			Window:  "the code's life",
			Why:     "NIST SP 800-63B 5.2.2 throttles out-of-band codes too; 5 guesses at a 6-digit code succeed 1 time in 200,000",
		},
		{
			Name:    "New codes or calls asked for in one journey, per channel",
			Default: itoa(DefaultResends),
			Window:  duration(DefaultResendWindow) + ", sliding",
			Why:     "spares a person's inbox and phone a flood from one page; the durable budgets below bound fresh journeys",
		},
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// duration prints a whole number of days, hours, minutes or seconds as a person
// reads it.
func duration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return plural(int(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute")
	case d%time.Second == 0:
		return plural(int(d/time.Second), "second")
	}
	return d.String()
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
