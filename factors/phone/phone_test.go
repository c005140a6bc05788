package phone

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const (
		mob  = Mobile
		land = Landline
	)
	tests := []struct {
		name    string
		input   string
		dev     bool
		regions []string
		e164    string
		typ     Type
		region  string
		err     error
	}{
		// Real-format numbers in ranges libphonenumber knows.
		{name: "mobile national", input: "07400 123456", e164: "+447400123456", typ: mob, region: "GB"},
		{name: "mobile no spaces", input: "07400123456", e164: "+447400123456", typ: mob, region: "GB"},
		{name: "mobile dashes", input: "07400-123-456", e164: "+447400123456", typ: mob, region: "GB"},
		{name: "mobile +44", input: "+44 7400 123456", e164: "+447400123456", typ: mob, region: "GB"},
		{name: "mobile +44 (0)", input: "+44 (0)7400 123456", e164: "+447400123456", typ: mob, region: "GB"},
		{name: "mobile 0044", input: "0044 7400 123456", e164: "+447400123456", typ: mob, region: "GB"},
		{name: "mobile 0044 dashes", input: "0044-7400-123456", e164: "+447400123456", typ: mob, region: "GB"},
		{name: "mobile surrounding space", input: "  07300 123456\t", e164: "+447300123456", typ: mob, region: "GB"},
		{name: "mobile dots", input: "07400.123.456", e164: "+447400123456", typ: mob, region: "GB"},
		{name: "Guernsey mobile is UK plan", input: "07781 123456", e164: "+447781123456", typ: mob, region: "GG"},
		{name: "Isle of Man mobile is UK plan", input: "07624 123456", e164: "+447624123456", typ: mob, region: "IM"},
		{name: "landline 5-digit area code", input: "01234 567890", e164: "+441234567890", typ: land, region: "GB"},
		{name: "landline brackets", input: "(01234) 567890", e164: "+441234567890", typ: land, region: "GB"},
		{name: "Jersey landline", input: "01534 123456", e164: "+441534123456", typ: land, region: "JE"},
		{name: "London landline outside drama range", input: "020 7946 1000", e164: "+442079461000", typ: land, region: "GB"},
		{name: "VoIP 056 is call-only", input: "056 1234 5678", e164: "+445612345678", typ: land, region: "GB"},
		{name: "UK-wide 03 is call-only", input: "0300 123 4567", e164: "+443001234567", typ: land, region: "GB"},

		// Numbers that cannot be a personal second factor.
		{name: "freephone", input: "0800 123 4567", err: ErrFreephone},
		{name: "freephone 0808", input: "0808 123 4567", err: ErrFreephone},
		{name: "premium rate", input: "0901 123 4567", err: ErrPremiumRate},
		{name: "084 number is a service number, charged as premium rate", input: "0845 123 4567", err: ErrPremiumRate},
		{name: "personal 070", input: "070 3123 4567", err: ErrPersonalNumber},

		// Empty and malformed input.
		{name: "empty", input: "", err: ErrEmpty},
		{name: "blank", input: "   ", err: ErrEmpty},
		{name: "letters", input: "abc", err: ErrFormat},
		{name: "vanity letters", input: "0800 FLOWERS", err: ErrFormat},
		{name: "extension", input: "+44 7400 123456 ext 2", err: ErrFormat},
		{name: "too short", input: "07", err: ErrFormat},
		{name: "too long", input: "+44 7911 123456 789", err: ErrFormat},
		{name: "overlong input", input: "0740012345607400123456074001234560740012345", err: ErrFormat},
		{name: "44 without plus is read as the country code", input: "44 7400 123456", e164: "+447400123456", typ: mob, region: "GB"},

		// Ofcom drama ranges: refused outside development mode...
		{name: "drama mobile refused", input: "07700 900982", err: ErrFormat},
		{name: "drama mobile +44 refused", input: "+44 7700 900000", err: ErrFormat},
		{name: "drama London refused although libphonenumber calls it valid", input: "020 7946 0123", err: ErrFormat},
		{name: "drama Manchester refused", input: "0161 496 0000", err: ErrFormat},
		{name: "drama 01632 refused", input: "01632 960 001", err: ErrFormat},
		// ...and accepted in it.
		{name: "dev drama mobile first", input: "07700 900000", dev: true, e164: "+447700900000", typ: mob, region: "GB"},
		{name: "dev drama mobile last", input: "07700 900 999", dev: true, e164: "+447700900999", typ: mob, region: "GB"},
		{name: "dev drama mobile 0044", input: "0044 7700 900982", dev: true, e164: "+447700900982", typ: mob, region: "GB"},
		{name: "dev next to drama mobile range is still invalid", input: "07700 901000", dev: true, err: ErrFormat},
		{name: "dev drama London first", input: "020 7946 0000", dev: true, e164: "+442079460000", typ: land, region: "GB"},
		{name: "dev drama London last", input: "(020) 7946 0999", dev: true, e164: "+442079460999", typ: land, region: "GB"},
		{name: "dev drama 01632", input: "01632 960 001", dev: true, e164: "+441632960001", typ: land, region: "GB"},
		{name: "dev drama freephone is still not personal", input: "+44 808 157 0192", dev: true, err: ErrFreephone},
		{name: "dev drama premium rate", input: "0909 879 0000", dev: true, err: ErrPremiumRate},
		{name: "freephone drama outside dev", input: "+44 808 157 0192", err: ErrFormat},
		{name: "dev drama with GB not allowed", input: "07700 900982", dev: true, regions: []string{"FR"}, err: ErrRegion},

		// Foreign numbers.
		{name: "French mobile refused by default", input: "+33 6 12 34 56 78", err: ErrRegion},
		{name: "Irish mobile refused by default", input: "+353 85 123 4567", err: ErrRegion},
		{name: "invalid foreign number still says UK", input: "+33 9999 9999 9", err: ErrRegion},
		{name: "French mobile allowed", input: "+33 6 12 34 56 78", regions: []string{"GB", "FR"}, e164: "+33612345678", typ: mob, region: "FR"},
		{name: "US number allowed is mobile (cannot tell)", input: "+1 202 555 0123", regions: []string{"US"}, e164: "+12025550123", typ: mob, region: "US"},
		{name: "GB refused when only FR allowed", input: "07400 123456", regions: []string{"FR"}, err: ErrRegion},
		{name: "Guernsey refused when only GB allowed", input: "07781 123456", regions: []string{"GB"}, err: ErrRegion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Rules{Countries: tc.regions, DevRanges: tc.dev}.Parse(tc.input)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Parse(%q) = %+v, %v; want error %q", tc.input, got, err, tc.err)
				}
				if got != (Number{}) {
					t.Errorf("Parse(%q) returned %+v with an error", tc.input, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.input, err)
			}
			want := Number{E164: tc.e164, Type: tc.typ, Region: tc.region}
			if got != want {
				t.Errorf("Parse(%q) = %+v, want %+v", tc.input, got, want)
			}
		})
	}
}

// Every refusal of a kind of number is also ErrNotPersonal, and a refusal of a
// country ErrRegion, so callers can match the general reason.
func TestRefusalsMatchTheirKind(t *testing.T) {
	for _, err := range []error{ErrFreephone, ErrPremiumRate, ErrSharedCost, ErrPersonalNumber} {
		if !errors.Is(err, ErrNotPersonal) || errors.Is(err, ErrRegion) {
			t.Errorf("%q: not ErrNotPersonal only", err)
		}
	}
	_, err := Rules{Countries: []string{"GB", "GG", "IM", "JE", "IE"}}.Parse("+33 6 12 34 56 78")
	if !errors.Is(err, ErrRegion) || errors.Is(err, ErrNotPersonal) {
		t.Errorf("French number with GB and IE allowed: %v", err)
	}
}

// What the person reads, word for word: the one place these messages are written.
func TestMessages(t *testing.T) {
	ukIE := []string{"GB", "GG", "IM", "JE", "IE"}
	for _, tc := range []struct {
		input     string
		countries []string
		want      string
	}{
		{"", nil, "Enter a phone number"},
		{"12345", nil, "Enter a phone number in the correct format, like 01632 960 001 or 07700 900 982"},
		{"0800 123 4567", nil, "Enter a landline or mobile phone number, not a freephone number"},
		{"0901 123 4567", nil, "Enter a landline or mobile phone number, not a premium rate number"},
		{"070 3123 4567", nil, "Enter a landline or mobile phone number, not a personal number starting 070"},
		{"+33 6 12 34 56 78", nil, "Enter a UK phone number"},
		{"+33 6 12 34 56 78", ukIE, "Enter a phone number from the UK or Ireland"},
		{"+1 202 555 0123", []string{"GB", "IE", "FR"}, "Enter a phone number from the UK, Ireland or France"},
		{"07400 123456", []string{"FR"}, "Enter a phone number from France"},
	} {
		_, err := Rules{Countries: tc.countries}.Parse(tc.input)
		if got := Message(err); got != tc.want {
			t.Errorf("Parse(%q) with %v: message %q, want %q", tc.input, tc.countries, got, tc.want)
		}
	}
	if got := Message(errors.New("libphonenumber: detail")); got != ErrFormat.Error() {
		t.Errorf("Message of another error = %q", got)
	}
	if got := Message(fmt.Errorf("enrol +4480...: %w", ErrFreephone)); got != ErrFreephone.Error() {
		t.Errorf("Message of a wrapped refusal = %q", got)
	}
	if got := Message(fmt.Errorf("detail: %w", ErrEmpty)); got != "Enter a phone number" {
		t.Errorf("Message of a wrapped sentinel = %q", got)
	}
}

func TestCountries(t *testing.T) {
	for _, tc := range []struct {
		list string
		want []string
		err  string
	}{
		{"GB", UKRegions, ""},
		{"gb, ie", []string{"GB", "GG", "IM", "JE", "IE"}, ""},
		{"IE,FR,IE", []string{"IE", "FR"}, ""},
		{"UK", nil, "UK is not an ISO 3166 code: use GB for the United Kingdom"},
		{"GBR", nil, `"GBR" is not an ISO 3166 two-letter country code (e.g. GB, IE, FR)`},
		{" , ", nil, "must list at least one country code, e.g. GB"},
	} {
		got, err := Countries(tc.list)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("Countries(%q) = %v, %v; want error %q", tc.list, got, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Countries(%q) = %v, %v; want %v", tc.list, got, err, tc.want)
		}
	}
}

func TestIsDramaNumber(t *testing.T) {
	for e164, want := range map[string]bool{
		"+447700900000":  true,
		"+447700900999":  true,
		"+447700901000":  false,
		"+44770090000":   false, // one digit short
		"+4477009000000": false, // one digit long
		"+442079460000":  true,
		"+442079460999":  true,
		"+442079461000":  false,
		"+441632960001":  true,
		"+447400123456":  false,
	} {
		if got := IsDramaNumber(e164); got != want {
			t.Errorf("IsDramaNumber(%s) = %v, want %v", e164, got, want)
		}
	}
}

func TestMask(t *testing.T) {
	for e164, want := range map[string]string{
		"+447400123456": "07*** ***456",
		"+447700900982": "07*** ***982",
		"+442079460123": "0** **** *123",
		"+441234567890": "0**** ***890",
		"+443001234567": "0*** *** *567",
		"+33612345678":  "+33 * ** ** *6 78",
		"+12025550123":  "+1 ***-***-*123",
		"not a number":  "not a number",
		"":              "",
	} {
		if got := Mask(e164); got != want {
			t.Errorf("Mask(%s) = %q, want %q", e164, got, want)
		}
	}
}

func TestMaskDigits(t *testing.T) {
	for _, tc := range []struct {
		in   string
		keep int
		want string
	}{
		{"12345", 0, "**345"},
		{"12345", 1, "1*345"},
		{"123", 0, "123"},
		{"12", 2, "12"},
		{"07400 123456", 2, "07*** ***456"},
	} {
		if got := maskDigits(tc.in, tc.keep); got != tc.want {
			t.Errorf("maskDigits(%q, %d) = %q, want %q", tc.in, tc.keep, got, tc.want)
		}
	}
}

// Every drama range accepts its first and last number in development mode and is
// refused outside it; the numbers just outside a range are not drama numbers.
func TestDramaRangeBounds(t *testing.T) {
	for _, r := range dramaRanges {
		free := r.length - len(r.prefix)
		first := r.prefix + strings.Repeat("0", free)
		last := r.prefix + strings.Repeat("9", free)
		for _, n := range []string{first, last} {
			if !IsDramaNumber(n) {
				t.Errorf("IsDramaNumber(%s) = false", n)
			}
			got, err := Rules{DevRanges: true}.Parse(n)
			if r.refused != nil {
				if !errors.Is(err, r.refused) {
					t.Errorf("dev Parse(%s) = %+v, %v; want %v", n, got, err, r.refused)
				}
			} else if err != nil || got.Type != r.typ || got.E164 != n {
				t.Errorf("dev Parse(%s) = %+v, %v; want %s", n, got, err, r.typ)
			}
			if _, err := (Rules{}).Parse(n); !errors.Is(err, ErrFormat) {
				t.Errorf("Parse(%s) outside dev: %v, want ErrFormat", n, err)
			}
		}
		if IsDramaNumber(r.prefix + strings.Repeat("0", free+1)) {
			t.Errorf("range %s matches a longer number", r.prefix)
		}
		// The number after the last one of the range falls outside it.
		after := []byte(last)
		i := len(r.prefix) - 1
		for after[i] == '9' {
			i--
		}
		after[i]++
		if IsDramaNumber(string(after[:len(r.prefix)]) + strings.Repeat("0", free)) {
			t.Errorf("range %s matches %s", r.prefix, after)
		}
	}
}

func TestMaskNeverShowsMoreThanThreeDigits(t *testing.T) {
	for _, e164 := range []string{"+447400123456", "+442079460123", "+33612345678", "+12025550123", "+447781123456"} {
		m := Mask(e164)
		shown := 0
		for _, r := range m {
			if r >= '0' && r <= '9' {
				shown++
			}
		}
		// The 0 (and 7) of a UK number or the country code are not part of the subscriber's secret.
		if m[0] == '0' && m[1] == '7' {
			shown -= 2
		} else if m[0] == '0' {
			shown--
		} else if m[0] == '+' {
			for _, r := range m[1:] {
				if r == ' ' {
					break
				}
				shown--
			}
		}
		if shown != 3 {
			t.Errorf("Mask(%s) = %q shows %d subscriber digits", e164, m, shown)
		}
	}
}
