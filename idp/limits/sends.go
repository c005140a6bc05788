package limits

import "time"

// Budgets on codes (emails, texts) and calls, against flooding a person and
// against SMS and call pumping (security finding 2): per recipient, per client
// network, per account while it enrols a number, and the daily ceiling of texts
// and calls across all servers with a share kept for numbers already verified.
// The login pages check the first three before each message (store.Counters),
// the delivery of texts and calls the ceiling.

// Defaults.
const (
	DefaultSendsPerRecipientHour = 10
	DefaultSendsPerRecipientDay  = 20
	DefaultSendsPerClientHour    = 200
	DefaultEnrolNumbersPerDay    = 3
	DefaultEnrolSendsPerDay      = 10
	DefaultDailyCeiling          = 10000
	// DefaultVerifiedShare is the per cent of the daily ceiling kept for
	// challenges to numbers already verified on an account.
	DefaultVerifiedShare = 80
	// DefaultPhoneCountries are the ISO 3166 regions numbers may be in, as
	// IDP_PHONE_COUNTRIES takes them.
	DefaultPhoneCountries = "GB"
)

// Fixed parts of the rules.
const (
	// MinSendsPerRecipientHour and MinEnrolSendsPerDay: a sign-up sends the new
	// number two codes (enrolment, then confirmation); fewer than three would
	// leave no room for one resend.
	MinSendsPerRecipientHour = 3
	MinEnrolSendsPerDay      = 3
	// ShareWarningPercent of a share of the ceiling spent logs a warning.
	ShareWarningPercent = 80
	// ReceiptsPerText SMS delivery receipts are recorded per text the ceiling
	// allows in a UTC day: a text gets a few (accepted, buffered, delivered).
	ReceiptsPerText = 4
	// Day is the length of the daily windows: fixed ones are UTC days.
	Day = 24 * time.Hour
)

// Sends are the budgets the login pages check before each code or call. Zero
// fields take the defaults (WithDefaults).
type Sends struct {
	PerRecipientHour int // one email address or phone number, texts and calls together
	PerRecipientDay  int
	PerClientHour    int // one client network (NetworkKey)
	EnrolNumbersDay  int // distinct numbers not yet verified that one account may try
	EnrolSendsDay    int // texts and calls to numbers not yet verified, per account
}

// DefaultSends gives the defaults.
func DefaultSends() Sends {
	return Sends{
		PerRecipientHour: DefaultSendsPerRecipientHour,
		PerRecipientDay:  DefaultSendsPerRecipientDay,
		PerClientHour:    DefaultSendsPerClientHour,
		EnrolNumbersDay:  DefaultEnrolNumbersPerDay,
		EnrolSendsDay:    DefaultEnrolSendsPerDay,
	}
}

// WithDefaults fills the zero (or negative) fields with the defaults.
func (s Sends) WithDefaults() Sends {
	d := DefaultSends()
	for _, f := range []struct{ v, def *int }{
		{&s.PerRecipientHour, &d.PerRecipientHour}, {&s.PerRecipientDay, &d.PerRecipientDay},
		{&s.PerClientHour, &d.PerClientHour}, {&s.EnrolNumbersDay, &d.EnrolNumbersDay},
		{&s.EnrolSendsDay, &d.EnrolSendsDay},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return s
}

// The budgets as windows.
func (s Sends) RecipientHour() Sliding { return Sliding{Max: s.PerRecipientHour, Window: time.Hour} }
func (s Sends) RecipientDay() Sliding  { return Sliding{Max: s.PerRecipientDay, Window: Day} }
func (s Sends) ClientHour() Sliding    { return Sliding{Max: s.PerClientHour, Window: time.Hour} }
func (s Sends) EnrolSends() Sliding    { return Sliding{Max: s.EnrolSendsDay, Window: Day} }

// EnrolNumbers counts distinct numbers per UTC day: the sliding EnrolSends
// bounds what a boundary could add.
func (s Sends) EnrolNumbers() Fixed { return Fixed{Max: s.EnrolNumbersDay, Window: Day} }

// Share is a part of the daily ceiling.
type Share string

const (
	// ShareVerified: challenges to a number already verified on an account.
	ShareVerified Share = "verified"
	// ShareEnrolment: texts and calls to a number being enrolled (sign-up, an
	// account without a phone, a change of number).
	ShareEnrolment Share = "enrolment"
)

// Shares lists the shares.
var Shares = []Share{ShareVerified, ShareEnrolment}

// Ceiling is the daily ceiling of texts and calls across all servers, per UTC
// day, split in two shares. Enrolments may use only their share, so enrolment
// spam cannot stop people with a verified number signing in; challenges to
// verified numbers may use whatever enrolments have not.
type Ceiling struct {
	Daily         int
	VerifiedShare int // per cent of Daily kept for ShareVerified
}

// DefaultCeiling gives the defaults.
func DefaultCeiling() Ceiling {
	return Ceiling{Daily: DefaultDailyCeiling, VerifiedShare: DefaultVerifiedShare}
}

// Size is how many texts and calls a share is given: enrolments the rest of
// VerifiedShare, rounded down; verified numbers what is left of Daily.
func (c Ceiling) Size(sh Share) int {
	enrol := int(int64(c.Daily) * int64(100-min(max(c.VerifiedShare, 0), 100)) / 100)
	if sh == ShareEnrolment {
		return enrol
	}
	return c.Daily - enrol
}

// Allow reports whether a text or call in share sh may go, given the day's
// counts of each share with this one included in its own. Counts may include
// sends refused earlier; an enrolment count is taken at most at its share's
// size, so refused enrolment spam never takes from verified numbers.
func (c Ceiling) Allow(sh Share, verified, enrolment int) bool {
	enrolled := min(enrolment, c.Size(ShareEnrolment))
	if sh == ShareEnrolment {
		return enrolment <= c.Size(ShareEnrolment) && enrolled+verified <= c.Daily
	}
	return verified+enrolled <= c.Daily
}

// WarnAt is the count of a share at which ShareWarningPercent of it is spent,
// for one warning a day; 0 for an empty share.
func (c Ceiling) WarnAt(sh Share) int {
	n := c.Size(sh)
	if n <= 0 {
		return 0
	}
	return int((int64(n)*ShareWarningPercent + 99) / 100)
}

// Receipts is how many SMS delivery receipts are recorded per UTC day: they are
// unsigned, so anyone could post them.
func (c Ceiling) Receipts() int64 { return ReceiptsPerText * int64(c.Daily) }

func sendRules() []Rule {
	return []Rule{
		{
			Name:    "Codes and calls to one email address or phone number, per hour",
			Default: itoa(DefaultSendsPerRecipientHour),
			Window:  "1 hour, sliding",
			Setting: "IDP_SEND_HOURLY_PER_RECIPIENT",
			Why:     "keeps a flood off one inbox or phone; at least " + itoa(MinSendsPerRecipientHour) + ", since a sign-up sends the new number two codes",
		},
		{
			Name:    "Codes and calls to one email address or phone number, per day",
			Default: itoa(DefaultSendsPerRecipientDay),
			Window:  "24 hours, sliding",
			Setting: "IDP_SEND_DAILY_PER_RECIPIENT",
			Why:     "an hourly budget alone lets one number be rung or texted all day (security findings 2, 18); at least the hourly budget",
		},
		{
			Name:    "Codes and calls asked for from one client network, per hour",
			Default: itoa(DefaultSendsPerClientHour),
			Window:  "1 hour, sliding",
			Setting: "IDP_SEND_HOURLY_PER_CLIENT",
			Why:     "one IPv4 address or one IPv6 /64 (a site is given a whole /64, RFC 6177): a council office signs in through one address; OWASP ASVS 5 2.4.1 anti-automation",
		},
		{
			Name:    "Different phone numbers not yet verified that one account may try, per day",
			Default: itoa(DefaultEnrolNumbersPerDay),
			Window:  "UTC day",
			Setting: "IDP_ENROL_NUMBERS_PER_DAY",
			Why:     "SMS pumping: one account with no phone texted 200 numbers in 2 s (security finding 2); a person mistypes a number or two, then contacts the council",
		},
		{
			Name:    "Texts and calls to numbers not yet verified, per account, per day",
			Default: itoa(DefaultEnrolSendsPerDay),
			Window:  "24 hours, sliding",
			Setting: "IDP_ENROL_SENDS_PER_DAY",
			Why:     "an enrolment (sign-up, an account without a phone, a change of number) needs 2 and a few resends; at least " + itoa(MinEnrolSendsPerDay),
		},
		{
			Name:    "Texts and calls sent by all servers together, per day",
			Default: itoa(DefaultDailyCeiling),
			Window:  "UTC day",
			Setting: "IDP_SEND_DAILY_CEILING",
			Why:     "every text and call costs the council money: the budget's last line, with an alarm metric (OWASP ASVS 5 2.4.1: overuse of costly resources)",
		},
		{
			Name:    "Per cent of the daily ceiling kept for challenges to numbers already verified",
			Default: itoa(DefaultVerifiedShare),
			Window:  "UTC day",
			Setting: "IDP_SEND_CEILING_VERIFIED_SHARE",
			Why:     "enrolment spam spends at most the rest, so it cannot stop existing people signing in; from 0 to 99",
		},
		{
			Name:    "Per cent of a share of the daily ceiling spent that logs a warning",
			Default: itoa(ShareWarningPercent),
			Window:  "UTC day",
			Why:     "time to act before a share runs out; each share also has its metrics",
		},
		{
			Name:    "Countries whose numbers may be enrolled and sent to",
			Default: DefaultPhoneCountries,
			Setting: "IDP_PHONE_COUNTRIES",
			Why:     "SMS pumping mostly buys texts to foreign premium ranges; checked again before every text and call",
		},
		{
			Name:    "SMS delivery receipts recorded in the audit log, per text the ceiling allows",
			Default: itoa(ReceiptsPerText),
			Window:  "UTC day",
			Why:     "receipts are not signed, so anyone could post them to fill the audit log (security finding 16)",
		},
	}
}
