package limits_test

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/limits"
)

var update = flag.Bool("update", false, "rewrite the README's limits table from limits.Rules")

// ruleTests holds a table test for each rule, by its name: a new rule needs one
// (TestEveryRuleHasATest).
var ruleTests = map[string]func(t *testing.T){
	"Consecutive wrong codes (email or text message) before the codes of the email address, number or account are locked": func(t *testing.T) {
		c, last := limits.DefaultCodeGuesses(), time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
		for _, tc := range []struct {
			failures int
			locked   bool
		}{{0, false}, {19, false}, {20, true}, {100, true}} {
			if got := !c.LockedUntil(tc.failures, last).IsZero(); got != tc.locked {
				t.Errorf("%d wrong codes: locked %v, want %v", tc.failures, got, tc.locked)
			}
		}
		if !(limits.CodeGuesses{LockFor: time.Hour}).LockedUntil(1000, last).IsZero() {
			t.Error("a rule with no threshold locks")
		}
	},
	"Lock after too many wrong codes, again after each further wrong code": func(t *testing.T) {
		c, last := limits.DefaultCodeGuesses(), time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
		for _, n := range []int{20, 21, 60} {
			if got, want := c.LockedUntil(n, last), last.Add(time.Hour); !got.Equal(want) {
				t.Errorf("%d wrong codes, the latest at %v: locked until %v, want %v", n, last, got, want)
			}
		}
	},
	"Consecutive wrong passwords from unknown browsers before an account is locked for them": func(t *testing.T) {
		l := limits.DefaultLockout()
		for _, tc := range []struct {
			failures int
			want     time.Duration // 0: not locked
		}{{0, 0}, {9, 0}, {10, time.Minute}} {
			if got := until(l, tc.failures); got != tc.want {
				t.Errorf("%d failures lock for %v, want %v", tc.failures, got, tc.want)
			}
		}
	},
	"First lock, doubling with each further wrong password": func(t *testing.T) {
		l := limits.DefaultLockout()
		for _, tc := range []struct {
			failures int
			want     time.Duration
		}{{11, 2 * time.Minute}, {12, 4 * time.Minute}, {16, 64 * time.Minute}} {
			if got := until(l, tc.failures); got != tc.want {
				t.Errorf("%d failures lock for %v, want %v", tc.failures, got, tc.want)
			}
		}
		if got := until(limits.Lockout{Threshold: 3, Base: time.Second, Max: time.Hour}, 4); got != 2*time.Second {
			t.Errorf("another lockout: %v", got)
		}
	},
	"Longest lock": func(t *testing.T) {
		l := limits.DefaultLockout()
		for _, failures := range []int{19, 20, 1000} {
			if got := until(l, failures); got != 5*time.Hour {
				t.Errorf("%d failures lock for %v, want 5h", failures, got)
			}
		}
		if got := until(limits.Lockout{}, 50); got != 0 {
			t.Errorf("a lockout without a threshold locks for %v", got)
		}
	},
	"Wrong passwords from a browser that signed in to the account before": func(t *testing.T) {
		// Counted by idp/web (checkPassword) against the device cookie's own key.
		if p := limits.DefaultPasswords(); p.KnownBrowserFailures != 10 || p.KnownBrowserWindow != time.Hour {
			t.Errorf("known browser budget %d per %v", p.KnownBrowserFailures, p.KnownBrowserWindow)
		}
	},
	"Wrong passwords from one client network, across accounts, before each check waits longer": func(t *testing.T) {
		p := limits.DefaultPasswords()
		for _, tc := range []struct {
			failures int
			delay    time.Duration
		}{{0, 0}, {19, 0}, {20, 250 * time.Millisecond}, {21, 500 * time.Millisecond}, {23, 2 * time.Second}} {
			if got := p.NetworkDelay(tc.failures); got != tc.delay {
				t.Errorf("NetworkDelay(%d) = %v, want %v", tc.failures, got, tc.delay)
			}
		}
	},
	"Wrong passwords from one client network, across accounts, before it is refused": func(t *testing.T) {
		p := limits.DefaultPasswords()
		for _, tc := range []struct {
			failures int
			refused  bool
		}{{0, false}, {99, false}, {100, true}, {1000, true}} {
			if got := p.NetworkRefused(tc.failures); got != tc.refused {
				t.Errorf("NetworkRefused(%d) = %v, want %v", tc.failures, got, tc.refused)
			}
		}
	},
	"Wrong passwords in one journey before each check waits longer": func(t *testing.T) {
		p := limits.DefaultPasswords()
		for _, tc := range []struct {
			failures int
			delay    time.Duration
		}{{0, 0}, {4, 0}, {5, 250 * time.Millisecond}, {6, 500 * time.Millisecond}, {50, 3 * time.Second}} {
			if got := p.JourneyDelay(tc.failures); got != tc.delay {
				t.Errorf("JourneyDelay(%d) = %v, want %v", tc.failures, got, tc.delay)
			}
		}
	},
	"Longest wait before a password check": func(t *testing.T) {
		p := limits.DefaultPasswords()
		for _, failures := range []int{24, 99, 1000} {
			if got := p.NetworkDelay(failures); got != 3*time.Second {
				t.Errorf("NetworkDelay(%d) = %v, want 3s", failures, got)
			}
		}
	},
	"Failed client authentications as one client id from networks it has not authenticated from": func(t *testing.T) {
		// Counted by idp/provider (clientThrottle); see its client-secret tests.
		if r := limits.ClientSecrets(); r.PerClient != 10 || r.Window != 10*time.Minute {
			t.Errorf("per client %d per %v", r.PerClient, r.Window)
		}
	},
	"Wrong client secrets from one client network, for any clients": func(t *testing.T) {
		if r := limits.ClientSecrets(); r.PerNetwork != 50 || r.PerNetwork < r.PerClient {
			t.Errorf("per network %d (per client %d)", r.PerNetwork, r.PerClient)
		}
	},
	"How long a network where a form app authenticated stays known to it": func(t *testing.T) {
		if r := limits.ClientSecrets(); r.KnownNetworkFor != 30*24*time.Hour {
			t.Errorf("known for %v", r.KnownNetworkFor)
		}
	},
	"Wrong entries of one code before it stops working": func(t *testing.T) {
		// Applied by idp/journey (checkCode); see its TestWrongCodes.
		if limits.DefaultCodeAttempts < 1 || limits.DefaultCodeAttempts > 10 {
			t.Errorf("DefaultCodeAttempts = %d", limits.DefaultCodeAttempts)
		}
	},
	"New codes or calls asked for in one journey, per channel": func(t *testing.T) {
		// Applied by idp/journey (requestSend) from the journey's own log of resends.
		if limits.DefaultResends < 1 || limits.DefaultResendWindow <= 0 {
			t.Errorf("resends %d per %v", limits.DefaultResends, limits.DefaultResendWindow)
		}
	},
	"Codes and calls to one email address or phone number, per hour": func(t *testing.T) {
		slidingCases(t, limits.DefaultSends().RecipientHour(), time.Hour, 10)
	},
	"Codes and calls to one email address or phone number, per day": func(t *testing.T) {
		slidingCases(t, limits.DefaultSends().RecipientDay(), limits.Day, 20)
	},
	"Codes and calls asked for from one client network, per hour": func(t *testing.T) {
		slidingCases(t, limits.DefaultSends().ClientHour(), time.Hour, 200)
	},
	"Different phone numbers not yet verified that one account may try, per day": func(t *testing.T) {
		f := limits.DefaultSends().EnrolNumbers()
		for _, tc := range []struct {
			rank int
			at   time.Duration
			ok   bool
			wait time.Duration
		}{
			{1, 0, true, 0},
			{3, 23 * time.Hour, true, 0},               // the third number tried today
			{4, 20 * time.Hour, false, 4 * time.Hour},  // a fourth: until the UTC day ends
			{4, 24 * time.Hour, false, 24 * time.Hour}, // the rank is of the day it was counted in
			{2, 13 * time.Hour, true, 0},               // a number tried earlier today is still fine
			{100, 23*time.Hour + 59*time.Minute, false, time.Minute},
		} {
			ok, wait := f.Allow(tc.rank, hour0.Add(tc.at))
			if ok != tc.ok || wait != tc.wait {
				t.Errorf("number %d at +%v: %v, %v; want %v, %v", tc.rank, tc.at, ok, wait, tc.ok, tc.wait)
			}
		}
	},
	"Texts and calls to numbers not yet verified, per account, per day": func(t *testing.T) {
		slidingCases(t, limits.DefaultSends().EnrolSends(), limits.Day, 10)
	},
	"Texts and calls sent by all servers together, per day": func(t *testing.T) {
		c := limits.Ceiling{Daily: 100, VerifiedShare: 80}
		for _, tc := range []struct {
			share               limits.Share
			verified, enrolment int
			ok                  bool
		}{
			{limits.ShareVerified, 1, 0, true},
			{limits.ShareVerified, 100, 0, true},   // verified numbers may use the whole day
			{limits.ShareVerified, 101, 0, false},  // but no more
			{limits.ShareVerified, 80, 20, true},   // enrolments spent their share
			{limits.ShareVerified, 81, 20, false},  // the day is full
			{limits.ShareVerified, 80, 500, true},  // refused enrolment spam takes nothing more
			{limits.ShareVerified, 91, 10, false},  // enrolments used half theirs
			{limits.ShareEnrolment, 0, 20, true},   // the enrolments' share
			{limits.ShareEnrolment, 0, 21, false},  // is all they get
			{limits.ShareEnrolment, 90, 10, true},  // while the day has room
			{limits.ShareEnrolment, 95, 10, false}, // and no longer
		} {
			if got := c.Allow(tc.share, tc.verified, tc.enrolment); got != tc.ok {
				t.Errorf("%s with %d verified and %d enrolment: %v, want %v", tc.share, tc.verified, tc.enrolment, got, tc.ok)
			}
		}
		if d := limits.DefaultCeiling(); d.Daily != 10000 || d.Size(limits.ShareVerified)+d.Size(limits.ShareEnrolment) != d.Daily {
			t.Errorf("default ceiling %+v", d)
		}
	},
	"Per cent of the daily ceiling kept for challenges to numbers already verified": func(t *testing.T) {
		for _, tc := range []struct {
			c                   limits.Ceiling
			verified, enrolment int
		}{
			{limits.DefaultCeiling(), 8000, 2000},
			{limits.Ceiling{Daily: 20, VerifiedShare: 80}, 16, 4},
			{limits.Ceiling{Daily: 3, VerifiedShare: 80}, 3, 0}, // 0.6 rounds down: new numbers get none
			{limits.Ceiling{Daily: 7, VerifiedShare: 50}, 4, 3},
			{limits.Ceiling{Daily: 100, VerifiedShare: 0}, 0, 100}, // nothing kept: one budget, as before
			{limits.Ceiling{Daily: 100, VerifiedShare: 150}, 100, 0},
		} {
			if v, e := tc.c.Size(limits.ShareVerified), tc.c.Size(limits.ShareEnrolment); v != tc.verified || e != tc.enrolment {
				t.Errorf("%+v: shares %d and %d, want %d and %d", tc.c, v, e, tc.verified, tc.enrolment)
			}
		}
	},
	"Per cent of a share of the daily ceiling spent that logs a warning": func(t *testing.T) {
		for _, tc := range []struct {
			c     limits.Ceiling
			share limits.Share
			want  int
		}{
			{limits.DefaultCeiling(), limits.ShareVerified, 6400},
			{limits.DefaultCeiling(), limits.ShareEnrolment, 1600},
			{limits.Ceiling{Daily: 20, VerifiedShare: 80}, limits.ShareEnrolment, 4}, // 3.2 rounds up
			{limits.Ceiling{Daily: 3, VerifiedShare: 80}, limits.ShareEnrolment, 0},  // an empty share
			{limits.Ceiling{Daily: 3, VerifiedShare: 80}, limits.ShareVerified, 3},
		} {
			if got := tc.c.WarnAt(tc.share); got != tc.want {
				t.Errorf("%+v %s: warn at %d, want %d", tc.c, tc.share, got, tc.want)
			}
		}
	},
	"Countries whose numbers may be enrolled and sent to": func(t *testing.T) {
		// Applied by factors/phone (Parse) at enrolment and before every send.
		if limits.DefaultPhoneCountries != "GB" {
			t.Errorf("DefaultPhoneCountries = %q", limits.DefaultPhoneCountries)
		}
	},
	"SMS delivery receipts recorded in the audit log, per text the ceiling allows": func(t *testing.T) {
		for _, tc := range []struct {
			daily int
			want  int64
		}{{10000, 40000}, {1, 4}} {
			if got := (limits.Ceiling{Daily: tc.daily}).Receipts(); got != tc.want {
				t.Errorf("ceiling %d: %d receipts, want %d", tc.daily, got, tc.want)
			}
		}
	},
}

func until(l limits.Lockout, failures int) time.Duration {
	u := l.Until(failures, hour0)
	if u.IsZero() {
		return 0
	}
	return u.Sub(hour0)
}

// slidingCases checks a sliding budget of max per window.
func slidingCases(t *testing.T, s limits.Sliding, window time.Duration, max int) {
	t.Helper()
	if s.Max != max || s.Window != window {
		t.Fatalf("budget %+v, want %d per %v", s, max, window)
	}
	for _, tc := range []struct {
		name      string
		prev, cur int
		at        float64 // fraction of the window elapsed
		ok        bool
	}{
		{"the first", 0, 1, 0, true},
		{"the last", 0, max, 0.99, true},
		{"one too many", 0, max + 1, 0.5, false},
		{"just over the boundary", max, 1 + max/50, 0.01, false},
		{"half a window on", max, max / 2, 0.5, true},
		{"half a window on, one more", max, max/2 + 1, 0.5, false},
	} {
		ok, _ := s.Allow(tc.prev, tc.cur, hour0.Add(time.Duration(tc.at*float64(window))))
		if ok != tc.ok {
			t.Errorf("%s (%d then %d at %.2f of %v): %v, want %v", tc.name, tc.prev, tc.cur, tc.at, window, ok, tc.ok)
		}
	}
}

func TestRules(t *testing.T) {
	for _, r := range limits.Rules() {
		t.Run(r.Name, func(t *testing.T) {
			check, ok := ruleTests[r.Name]
			if !ok {
				t.Fatalf("rule %q has no table test in ruleTests", r.Name)
			}
			check(t)
		})
	}
}

func TestEveryRuleIsDescribed(t *testing.T) {
	names := map[string]bool{}
	for _, r := range limits.Rules() {
		if r.Name == "" || r.Default == "" || r.Why == "" {
			t.Errorf("rule %+v lacks a name, a default or a reason", r)
		}
		if names[r.Name] {
			t.Errorf("two rules are called %q", r.Name)
		}
		names[r.Name] = true
	}
	for name := range ruleTests {
		if !names[name] {
			t.Errorf("ruleTests has %q, which is no rule", name)
		}
	}
}

// A rule's setting exists, and takes its default from the rule.
func TestSettingsTakeTheRulesDefaults(t *testing.T) {
	settings := map[string]config.Setting{}
	for _, s := range config.Settings {
		settings[s.Env] = s
	}
	for _, r := range limits.Rules() {
		if r.Setting == "" {
			continue
		}
		s, ok := settings[r.Setting]
		if !ok {
			t.Errorf("rule %q names %s, which is not a setting", r.Name, r.Setting)
			continue
		}
		if s.Default != r.Default {
			t.Errorf("%s defaults to %q, its rule to %q", r.Setting, s.Default, r.Default)
		}
	}
}

const (
	readmePath  = "../../README.md"
	tableStart  = "<!-- limits table: generated from limits.Rules by `go test ./idp/limits -update`; do not edit by hand -->\n"
	tableFinish = "<!-- end of limits table -->"
)

// The README's limits table is limits.Markdown; -update rewrites it.
func TestREADMEListsEveryRule(t *testing.T) {
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(readme, []byte(tableStart))
	j := bytes.Index(readme, []byte(tableFinish))
	if i < 0 || j < i {
		t.Fatalf("README.md has no limits table between %q and %q", strings.TrimSpace(tableStart), tableFinish)
	}
	got, want := string(readme[i+len(tableStart):j]), limits.Markdown()
	if got == want {
		return
	}
	if *update {
		out := append(append(append([]byte{}, readme[:i+len(tableStart)]...), want...), readme[j:]...)
		if err := os.WriteFile(readmePath, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's limits table is not limits.Rules; run go test ./idp/limits -update\ngot:\n%s\nwant:\n%s", got, want)
}
