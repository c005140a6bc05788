package journey

import (
	"testing"
	"time"

	"github.com/councilforms/idp/factors/phone"
)

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"+447700900123": "07*** ***123",
		"+442079460123": "02*** ***123",
		"+33612345678":  "+********678",
		"+4412345":      "+****345",
		"":              "",
		"+12":           "**",
		"+44abc":        "*****",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
	if PhoneEnding("+447700900123") != "123" || PhoneEnding("1") != "" {
		t.Fatal("PhoneEnding")
	}
}

func TestLockedUntil(t *testing.T) {
	p := DefaultPolicy()
	for failures, want := range map[int]time.Duration{
		0: 0, 9: 0,
		10: time.Minute, 11: 2 * time.Minute, 12: 4 * time.Minute,
		18: 256 * time.Minute, 19: 5 * time.Hour, 100: 5 * time.Hour,
	} {
		got := p.LockedUntil(failures, t0)
		if want == 0 {
			if !got.IsZero() {
				t.Errorf("%d failures: locked until %v", failures, got)
			}
			continue
		}
		if got.Sub(t0) != want {
			t.Errorf("%d failures: locked for %v, want %v", failures, got.Sub(t0), want)
		}
	}
}

func TestHumanWait(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "1 minute", 30 * time.Second: "1 minute", time.Minute: "1 minute",
		61 * time.Second: "2 minutes", 90 * time.Minute: "90 minutes",
		91 * time.Minute: "2 hours", 5 * time.Hour: "5 hours",
	} {
		if got := humanWait(d); got != want {
			t.Errorf("humanWait(%v) = %q, want %q", d, got, want)
		}
	}
}

// An account's phone counts for the challenge only once verified.
func TestAccountHasPhone(t *testing.T) {
	if !(&Account{UserID: "u", Phone: "+447700900123", PhoneType: phone.Mobile, PhoneVerified: true}).hasPhone() {
		t.Fatal("a verified phone does not count")
	}
	if (&Account{UserID: "u", Phone: "+447700900123"}).hasPhone() {
		t.Fatal("an unverified phone counts for the challenge")
	}
	if (*Account)(nil).hasPhone() {
		t.Fatal("no account has a phone")
	}
}
