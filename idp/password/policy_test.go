package password

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		password string
		want     error
	}{
		{"", ErrTooShort},
		{"abc", ErrTooShort},
		{"7chars!", ErrTooShort},
		{"ünïcödé", ErrTooShort}, // 7 characters, more bytes
		{"ünïcödéx", nil},        // 8 characters
		{"tr0ub4dor&3x", nil},
		{"correct horse battery staple", nil},
		{strings.Repeat("k", MaxLength), nil},
		{strings.Repeat("k", MaxLength+1), ErrTooLong},
		{strings.Repeat("é", MaxLength), nil},
		{"password", ErrCommon},
		{"PASSWORD", ErrCommon},
		{"Password1", ErrCommon},
		{"12345678", ErrCommon},
		{"qwertyuiop", ErrCommon},
		{"iloveyou", ErrCommon},
		{" sunshine ", ErrCommon},
		{"Sunshine2024!", ErrCommon}, // listed word padded with digits and symbols
		{"monkey123456", ErrCommon},  // a short listed word as the stem
		{"liverpool1986", ErrCommon},
		{"Norfolk2026!", ErrCommon},
		{"monkeyface12", nil}, // the stem is not a listed word
		{"12monkeys!!x", nil}, // only trailing digits and symbols are stripped
		{"abc12345678", nil},  // stem shorter than the minimum
		{"b1u3-h0r5e-x", nil},
	} {
		if got := Check(tc.password); !errors.Is(got, tc.want) {
			t.Errorf("Check(%q) = %v, want %v", tc.password, got, tc.want)
		}
	}
}

func TestCheckMessages(t *testing.T) {
	for err, want := range map[error]string{
		ErrTooShort: "Password must be 8 characters or more",
		ErrTooLong:  "Password must be 256 characters or fewer",
		ErrCommon:   "Choose a password that is harder to guess",
	} {
		if err.Error() != want {
			t.Errorf("message %q, want %q", err.Error(), want)
		}
	}
}

func TestCommonListLoaded(t *testing.T) {
	if n := len(common); n < 1000 {
		t.Fatalf("blocklist has %d entries, want at least 1000", n)
	}
	for entry := range common {
		if entry != strings.ToLower(entry) || strings.TrimSpace(entry) != entry || strings.HasPrefix(entry, "#") {
			t.Fatalf("entry %q is not normalised", entry)
		}
		if len(entry) < minStemLen {
			t.Fatalf("entry %q is shorter than a stem can be: it could never match", entry)
		}
	}
}
