package phone

import (
	"errors"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/councilforms/idp/store"
)

// DefaultRegion is the region a number written without a country code belongs to.
const DefaultRegion = "GB"

// UKRegions are the regions that share the UK's +44 numbering plan: Great Britain and
// Northern Ireland, Guernsey, Jersey and the Isle of Man. libphonenumber reports many
// +44 mobiles as GG, JE or IM, so accepting only "GB" would refuse real UK-plan numbers.
var UKRegions = []string{"GB", "GG", "IM", "JE"}

// The errors Parse returns. Their text is shown to the person as it is, in GOV.UK
// error-message style, so match them with errors.Is and never wrap them with detail.
var (
	ErrEmpty       = errors.New("Enter a phone number")
	ErrFormat      = errors.New("Enter a phone number in the correct format, like 01632 960 001, 07700 900 982 or +44 808 157 0192")
	ErrRegion      = errors.New("Enter a UK phone number")
	ErrNotPersonal = errors.New("Enter a landline or mobile number")
)

// maxInputLen bounds what is handed to libphonenumber; no real number written with
// spaces and brackets comes near it.
const maxInputLen = 40

// Number is a parsed, classified phone number.
type Number struct {
	E164   string          // e.g. +447400123456
	Type   store.PhoneType // store.PhoneMobile (can take texts and calls) or store.PhoneLandline (calls only)
	Region string          // ISO 3166-1 region libphonenumber assigns, e.g. "GB", "JE"
}

// Parse reads a number as a person types it: spaces, dashes, dots and brackets are
// ignored, and "+44", "0044", "+44 (0)" and a leading "0" are all understood.
// defaultRegion (DefaultRegion when empty) is the region of a number without a country
// code. allowedRegions lists the regions whose numbers are accepted; nil means
// UKRegions. allowDevRanges accepts Ofcom's drama ranges (development mode only);
// otherwise they are refused as not real numbers.
//
// Classification, which decides whether 'Send Code' is offered:
//   - MOBILE, and FIXED_LINE_OR_MOBILE (regions such as the US where the number alone
//     cannot tell) are mobile, so the person is offered both texts and calls; a text
//     that cannot be delivered leaves 'Call Me' to fall back on.
//   - FIXED_LINE, VOIP and UAN (UK 03 numbers, charged as geographic calls) are
//     landlines: calls only.
//   - Premium rate, shared cost, freephone, personal (070, redirecting), pager,
//     voicemail-only and unclassified numbers are refused with ErrNotPersonal.
func Parse(input, defaultRegion string, allowDevRanges bool, allowedRegions []string) (Number, error) {
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
	if defaultRegion == "" {
		defaultRegion = DefaultRegion
	}
	if allowedRegions == nil {
		allowedRegions = UKRegions
	}
	pn, err := phonenumbers.Parse(s, defaultRegion)
	if err != nil || pn.GetExtension() != "" {
		return Number{}, ErrFormat
	}
	e164 := phonenumbers.Format(pn, phonenumbers.E164)

	if drama, ok := dramaRange(e164); ok {
		if !allowDevRanges {
			return Number{}, ErrFormat
		}
		// Drama numbers are UK numbers; several are unknown to libphonenumber, so
		// their type comes from the range itself.
		if !slices.Contains(allowedRegions, "GB") {
			return Number{}, ErrRegion
		}
		if drama == store.PhoneNone {
			return Number{}, ErrNotPersonal
		}
		return Number{E164: e164, Type: drama, Region: "GB"}, nil
	}

	region := phonenumbers.GetRegionCodeForNumber(pn)
	if !phonenumbers.IsValidNumber(pn) {
		// A well-formed number from a country we do not accept says more as
		// "Enter a UK phone number" than as a format error.
		if regions := phonenumbers.GetRegionCodesForCountryCode(int(pn.GetCountryCode())); len(regions) > 0 && !anyAllowed(regions, allowedRegions) {
			return Number{}, ErrRegion
		}
		return Number{}, ErrFormat
	}
	if !slices.Contains(allowedRegions, region) {
		return Number{}, ErrRegion
	}

	var typ store.PhoneType
	switch phonenumbers.GetNumberType(pn) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		typ = store.PhoneMobile
	case phonenumbers.FIXED_LINE, phonenumbers.VOIP, phonenumbers.UAN:
		typ = store.PhoneLandline
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
// anyone, so safe to use as test numbers. Type PhoneNone marks ranges that are not
// landlines or mobiles (freephone, premium rate, UK-wide 03).
var dramaRanges = []struct {
	prefix string // E.164 prefix; the range is every number of that prefix and length
	length int    // length of the E.164 string
	typ    store.PhoneType
}{
	{"+447700900", 13, store.PhoneMobile},   // 07700 900000-900999
	{"+441134960", 13, store.PhoneLandline}, // 0113 496 0000-0999 (Leeds)
	{"+441144960", 13, store.PhoneLandline}, // 0114 496 0xxx (Sheffield)
	{"+441154960", 13, store.PhoneLandline}, // 0115 496 0xxx (Nottingham)
	{"+441164960", 13, store.PhoneLandline}, // 0116 496 0xxx (Leicester)
	{"+441174960", 13, store.PhoneLandline}, // 0117 496 0xxx (Bristol)
	{"+441184960", 13, store.PhoneLandline}, // 0118 496 0xxx (Reading)
	{"+441214960", 13, store.PhoneLandline}, // 0121 496 0xxx (Birmingham)
	{"+441314960", 13, store.PhoneLandline}, // 0131 496 0xxx (Edinburgh)
	{"+441414960", 13, store.PhoneLandline}, // 0141 496 0xxx (Glasgow)
	{"+441514960", 13, store.PhoneLandline}, // 0151 496 0xxx (Liverpool)
	{"+441614960", 13, store.PhoneLandline}, // 0161 496 0xxx (Manchester)
	{"+441914980", 13, store.PhoneLandline}, // 0191 498 0xxx (Tyneside)
	{"+442079460", 13, store.PhoneLandline}, // 020 7946 0000-0999 (London)
	{"+442896496", 13, store.PhoneLandline}, // 028 9649 6xxx (Northern Ireland)
	{"+442920180", 13, store.PhoneLandline}, // 029 2018 0xxx (Cardiff)
	{"+441632960", 13, store.PhoneLandline}, // 01632 960000-960999 (no area)
	{"+448081570", 13, store.PhoneNone},     // 0808 157 0xxx (freephone)
	{"+449098790", 13, store.PhoneNone},     // 0909 879 0xxx (premium rate)
	{"+443069990", 13, store.PhoneNone},     // 0306 999 0xxx (UK-wide)
}

// dramaRange reports whether e164 is in an Ofcom drama range, and that range's type.
func dramaRange(e164 string) (store.PhoneType, bool) {
	for _, r := range dramaRanges {
		if len(e164) == r.length && strings.HasPrefix(e164, r.prefix) {
			return r.typ, true
		}
	}
	return store.PhoneNone, false
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
