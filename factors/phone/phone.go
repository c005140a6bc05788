package phone

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// DefaultRegion is the region a number written without a country code belongs to.
const DefaultRegion = "GB"

// UKRegions are the regions that share the UK's +44 numbering plan: Great Britain and
// Northern Ireland, Guernsey, Jersey and the Isle of Man. libphonenumber reports many
// +44 mobiles as GG, JE or IM, so accepting only "GB" would refuse real UK-plan numbers.
var UKRegions = []string{"GB", "GG", "IM", "JE"}

// Type is how a number can be reached. It is also what the store keeps next to an
// enrolled number (store.User.PhoneType holds its string).
type Type string

const (
	Mobile   Type = "mobile"   // texts and calls
	Landline Type = "landline" // calls only
)

// CanText reports whether a text message can be sent to a number of this type.
func (t Type) CanText() bool { return t == Mobile }

// The errors Parse returns. Their text is shown to the person as it is, in GOV.UK
// error-message style (Message gives it), so match them with errors.Is and never wrap
// them with detail. A refused kind of number (freephone, premium rate, ...) is also
// ErrNotPersonal; a number from a country not allowed is ErrRegion, whose text names
// the countries that are (Rules.Countries).
var (
	ErrEmpty       = errors.New("Enter a phone number")
	ErrFormat      = errors.New("Enter a phone number in the correct format, like 01632 960 001 or 07700 900 982")
	ErrRegion      = errors.New("Enter a UK phone number")
	ErrNotPersonal = errors.New("Enter a landline or mobile phone number")

	ErrFreephone      error = &refusal{"Enter a landline or mobile phone number, not a freephone number", ErrNotPersonal}
	ErrPremiumRate    error = &refusal{"Enter a landline or mobile phone number, not a premium rate number", ErrNotPersonal}
	ErrSharedCost     error = &refusal{"Enter a landline or mobile phone number, not a shared cost number", ErrNotPersonal}
	ErrPersonalNumber error = &refusal{"Enter a landline or mobile phone number, not a personal number starting 070", ErrNotPersonal}
)

// refusal is an error that also matches a more general one with errors.Is.
type refusal struct {
	msg  string
	kind error
}

func (r *refusal) Error() string        { return r.msg }
func (r *refusal) Is(target error) bool { return target == r.kind }

// Message is the text a person sees for an error from Parse, even wrapped with
// detail: the refusal's or sentinel's own text, or ErrFormat's for any other error.
func Message(err error) string {
	var r *refusal
	if errors.As(err, &r) {
		return r.msg
	}
	for _, e := range []error{ErrEmpty, ErrFormat, ErrRegion, ErrNotPersonal} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return ErrFormat.Error()
}

// regionError is ErrRegion naming the countries whose numbers are accepted.
func regionError(allowed []string) error {
	var names []string
	uk := false
	for _, r := range allowed {
		if slices.Contains(UKRegions, r) {
			if !uk {
				names = append(names, "the UK")
			}
			uk = true
			continue
		}
		name := r
		if reg, err := language.ParseRegion(r); err == nil {
			if n := display.English.Regions().Name(reg); n != "" {
				name = n
			}
		}
		names = append(names, name)
	}
	if len(names) == 0 || len(names) == 1 && uk {
		return ErrRegion // "Enter a UK phone number"
	}
	list := names[0]
	if len(names) > 1 {
		list = strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	}
	return &refusal{"Enter a phone number from " + list, ErrRegion}
}

// maxInputLen bounds what is handed to libphonenumber; no real number written with
// spaces and brackets comes near it.
const maxInputLen = 40

// Number is a parsed, classified phone number.
type Number struct {
	E164   string // e.g. +447400123456
	Type   Type   // Mobile (can take texts and calls) or Landline (calls only)
	Region string // ISO 3166-1 region libphonenumber assigns, e.g. "GB", "JE"
}

// Rules say which numbers the council accepts. The zero value accepts UK-plan
// mobiles and landlines and no drama numbers.
type Rules struct {
	// Countries lists the ISO 3166 regions whose numbers are accepted (GB brings
	// GG, IM and JE with it: see Countries); nil means UKRegions.
	Countries []string
	// DevRanges accepts Ofcom's drama ranges (development mode only); otherwise they
	// are refused as not real numbers.
	DevRanges bool
}

// Parse reads a number as a person types it: spaces, dashes, dots and brackets are
// ignored, and "+44", "0044", "+44 (0)" and a leading "0" are all understood. A number
// without a country code is a DefaultRegion one.
//
// Classification, which decides whether 'Send Code' is offered:
//   - MOBILE, and FIXED_LINE_OR_MOBILE (regions such as the US where the number alone
//     cannot tell) are mobile, so the person is offered both texts and calls; a text
//     that cannot be delivered leaves 'Call Me' to fall back on.
//   - FIXED_LINE, VOIP and UAN (UK 03 numbers, charged as geographic calls) are
//     landlines: calls only.
//   - Freephone, premium rate, shared cost and personal (070, redirecting) numbers
//     are refused, each with its own message (all are ErrNotPersonal); pager,
//     voicemail-only and unclassified numbers with ErrNotPersonal.
func (rules Rules) Parse(input string) (Number, error) {
	s := strings.TrimSpace(input)
	if s == "" {
		return Number{}, ErrEmpty
	}
	if len(s) > maxInputLen {
		return Number{}, ErrFormat
	}
	// libphonenumber also accepts letters (0800 FLOWERS) and extensions ("ext 2"):
	// neither belongs in a number we text or call, so only these characters pass.
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r == ' ', r == '-', r == '(', r == ')', r == '.', r == '+', r == '\u00a0', r == '\t':
		default:
			return Number{}, ErrFormat
		}
	}
	allowed := rules.Countries
	if allowed == nil {
		allowed = UKRegions
	}
	pn, err := phonenumbers.Parse(s, DefaultRegion)
	if err != nil || pn.GetExtension() != "" {
		return Number{}, ErrFormat
	}
	e164 := phonenumbers.Format(pn, phonenumbers.E164)

	if drama, ok := dramaRange(e164); ok {
		if !rules.DevRanges {
			return Number{}, ErrFormat
		}
		// Drama numbers are UK numbers; several are unknown to libphonenumber, so
		// their type comes from the range itself.
		if !slices.Contains(allowed, "GB") {
			return Number{}, regionError(allowed)
		}
		if drama.refused != nil {
			return Number{}, drama.refused
		}
		return Number{E164: e164, Type: drama.typ, Region: "GB"}, nil
	}

	region := phonenumbers.GetRegionCodeForNumber(pn)
	if !phonenumbers.IsValidNumber(pn) {
		// A well-formed number from a country we do not accept says more as
		// "Enter a UK phone number" than as a format error.
		if regions := phonenumbers.GetRegionCodesForCountryCode(int(pn.GetCountryCode())); len(regions) > 0 && !anyAllowed(regions, allowed) {
			return Number{}, regionError(allowed)
		}
		return Number{}, ErrFormat
	}
	if !slices.Contains(allowed, region) {
		return Number{}, regionError(allowed)
	}

	var typ Type
	switch phonenumbers.GetNumberType(pn) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		typ = Mobile
	case phonenumbers.FIXED_LINE, phonenumbers.VOIP, phonenumbers.UAN:
		typ = Landline
	case phonenumbers.TOLL_FREE:
		return Number{}, ErrFreephone
	case phonenumbers.PREMIUM_RATE:
		return Number{}, ErrPremiumRate
	case phonenumbers.SHARED_COST:
		return Number{}, ErrSharedCost
	case phonenumbers.PERSONAL_NUMBER:
		return Number{}, ErrPersonalNumber
	default:
		return Number{}, ErrNotPersonal
	}
	return Number{E164: e164, Type: typ, Region: region}, nil
}

func anyAllowed(regions, allowed []string) bool {
	for _, r := range regions {
		if slices.Contains(allowed, r) {
			return true
		}
	}
	return false
}

// dramaRanges are Ofcom's numbers reserved for TV and radio drama: never assigned to
// anyone, so safe to use as test numbers. The ranges that are not landlines or
// mobiles (freephone, premium rate, UK-wide 03) carry the error they are refused with.
var dramaRanges = []dramaRangeOf{
	{"+447700900", 13, Mobile, nil},        // 07700 900000-900999
	{"+441134960", 13, Landline, nil},      // 0113 496 0000-0999 (Leeds)
	{"+441144960", 13, Landline, nil},      // 0114 496 0xxx (Sheffield)
	{"+441154960", 13, Landline, nil},      // 0115 496 0xxx (Nottingham)
	{"+441164960", 13, Landline, nil},      // 0116 496 0xxx (Leicester)
	{"+441174960", 13, Landline, nil},      // 0117 496 0xxx (Bristol)
	{"+441184960", 13, Landline, nil},      // 0118 496 0xxx (Reading)
	{"+441214960", 13, Landline, nil},      // 0121 496 0xxx (Birmingham)
	{"+441314960", 13, Landline, nil},      // 0131 496 0xxx (Edinburgh)
	{"+441414960", 13, Landline, nil},      // 0141 496 0xxx (Glasgow)
	{"+441514960", 13, Landline, nil},      // 0151 496 0xxx (Liverpool)
	{"+441614960", 13, Landline, nil},      // 0161 496 0xxx (Manchester)
	{"+441914980", 13, Landline, nil},      // 0191 498 0xxx (Tyneside)
	{"+442079460", 13, Landline, nil},      // 020 7946 0000-0999 (London)
	{"+442896496", 13, Landline, nil},      // 028 9649 6xxx (Northern Ireland)
	{"+442920180", 13, Landline, nil},      // 029 2018 0xxx (Cardiff)
	{"+441632960", 13, Landline, nil},      // 01632 960000-960999 (no area)
	{"+448081570", 13, "", ErrFreephone},   // 0808 157 0xxx (freephone)
	{"+449098790", 13, "", ErrPremiumRate}, // 0909 879 0xxx (premium rate)
	{"+443069990", 13, "", ErrNotPersonal}, // 0306 999 0xxx (UK-wide)
}

type dramaRangeOf struct {
	prefix  string // E.164 prefix; the range is every number of that prefix and length
	length  int    // length of the E.164 string
	typ     Type
	refused error // set for a range that is neither mobile nor landline
}

// dramaRange reports whether e164 is in an Ofcom drama range, and that range.
func dramaRange(e164 string) (dramaRangeOf, bool) {
	for _, r := range dramaRanges {
		if len(e164) == r.length && strings.HasPrefix(e164, r.prefix) {
			return r, true
		}
	}
	return dramaRangeOf{}, false
}

// IsDramaNumber reports whether e164 is one of Ofcom's reserved drama numbers, which
// are accepted only in development mode.
func IsDramaNumber(e164 string) bool {
	_, ok := dramaRange(e164)
	return ok
}

// Mask shows a stored E.164 number the way the phone challenge page and logs show it:
// only the last 3 digits, in the shape the person knows. UK-plan numbers are shown in
// national format with the leading 0 (and the 7 of a mobile) kept, e.g. +447400123456
// is "07*** ***456" and +442079460123 is "0** **** *123"; other numbers are shown in
// international format with the country code kept, e.g. "+33 * ** ** *6 78". Input
// that does not parse has every digit but the last 3 hidden.
func Mask(e164 string) string {
	pn, err := phonenumbers.Parse(e164, DefaultRegion)
	if err != nil {
		return maskDigits(e164, 0)
	}
	if pn.GetCountryCode() == 44 {
		national := phonenumbers.Format(pn, phonenumbers.NATIONAL)
		keep := 1 // the national prefix 0
		if strings.HasPrefix(national, "07") {
			keep = 2
		}
		return maskDigits(national, keep)
	}
	intl := phonenumbers.Format(pn, phonenumbers.INTERNATIONAL)
	cc, rest, found := strings.Cut(intl, " ")
	if !found {
		return maskDigits(intl, 0)
	}
	return cc + " " + maskDigits(rest, 0)
}

// maskDigits replaces every digit of s with '*' except the first keep digits and the
// last 3, leaving spaces and other characters where they are.
func maskDigits(s string, keep int) string {
	total := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			total++
		}
	}
	var b strings.Builder
	i := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			if i >= keep && i < total-3 {
				r = '*'
			}
			i++
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Countries reads a comma-separated list of ISO 3166 two-letter codes, as
// IDP_PHONE_COUNTRIES takes it ("GB,IE"), into Rules.Countries: upper case, each once,
// GB bringing the other UKRegions with it. The error says what is wrong with the list
// in a sentence for whoever set it.
func Countries(list string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(list, ",") {
		code := strings.ToUpper(strings.TrimSpace(f))
		if code == "" {
			continue
		}
		if code == "UK" {
			return nil, errors.New("UK is not an ISO 3166 code: use GB for the United Kingdom")
		}
		reg, err := language.ParseRegion(code)
		if len(code) != 2 || err != nil || !reg.IsCountry() || reg.String() != code {
			return nil, fmt.Errorf("%q is not an ISO 3166 two-letter country code (e.g. GB, IE, FR)", code)
		}
		regions := []string{code}
		if code == "GB" {
			regions = UKRegions
		}
		for _, rg := range regions {
			if !slices.Contains(out, rg) {
				out = append(out, rg)
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("must list at least one country code, e.g. GB")
	}
	return out, nil
}
