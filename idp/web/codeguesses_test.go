package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/London on a machine without a zoneinfo database

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/limits"
	"github.com/councilforms/idp/store"
)

// The rule as the pages apply it: locked from the threshold, for LockFor after
// the latest wrong code.
func TestCodeGuessRule(t *testing.T) {
	last := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		rule     limits.CodeGuesses
		failures int
		want     time.Time // zero: not locked
	}{
		{limits.DefaultCodeGuesses(), 0, time.Time{}},
		{limits.DefaultCodeGuesses(), 1, time.Time{}},
		{limits.DefaultCodeGuesses(), 19, time.Time{}},
		{limits.DefaultCodeGuesses(), 20, last.Add(time.Hour)},
		{limits.DefaultCodeGuesses(), 21, last.Add(time.Hour)},
		{limits.DefaultCodeGuesses(), 1000, last.Add(time.Hour)},
		{limits.CodeGuesses{Threshold: 3, LockFor: 5 * time.Minute}, 2, time.Time{}},
		{limits.CodeGuesses{Threshold: 3, LockFor: 5 * time.Minute}, 3, last.Add(5 * time.Minute)},
		{limits.CodeGuesses{}, 1000, time.Time{}},
	} {
		if got := tc.rule.LockedUntil(tc.failures, last); !got.Equal(tc.want) {
			t.Errorf("%+v with %d failures: locked until %v, want %v", tc.rule, tc.failures, got, tc.want)
		}
	}
	if d := limits.DefaultCodeGuesses(); d.Threshold >= 100 || d.Threshold < 10 || d.LockFor <= 0 {
		t.Errorf("default %+v: want a threshold well under NIST's 100 and a lock", d)
	}
}

// Issue 18 item 4: the durable keys name an address or a number only by a
// keyed hash, the same for every spelling the stores treat as one, different
// for different people and under a different key.
func TestCodeGuessKeys(t *testing.T) {
	h := &Handler{cfg: Config{CounterKey: []byte("0123456789abcdef0123456789abcdef")}}
	other := &Handler{cfg: Config{CounterKey: []byte("another key, another deployment!")}}
	ada := h.codeGuessKeys(journey.CodeFactor{Channel: factors.ChannelEmail, To: "Ada@Example.COM", UserID: "u1"})
	if len(ada) != 2 || !strings.HasPrefix(ada[0], "code:dest:email:") || ada[1] != "code:account:email:u1" {
		t.Fatalf("keys %v, want a destination and an account key", ada)
	}
	for _, k := range ada {
		if strings.Contains(strings.ToLower(k), "ada") || strings.Contains(k, "example") {
			t.Errorf("key %q holds the address", k)
		}
	}
	if got := h.codeGuessKeys(journey.CodeFactor{Channel: factors.ChannelEmail, To: " ada@example.com"}); got[0] != ada[0] {
		t.Errorf("another spelling of the address has another key: %s and %s", got[0], ada[0])
	}
	if got := h.codeGuessKeys(journey.CodeFactor{Channel: factors.ChannelEmail, To: "bob@example.com"}); got[0] == ada[0] {
		t.Error("two addresses share a key")
	}
	if got := other.codeGuessKeys(journey.CodeFactor{Channel: factors.ChannelEmail, To: "ada@example.com"}); got[0] == ada[0] {
		t.Error("the key does not depend on the counter key: anyone could test a guess")
	}
	sms := h.codeGuessKeys(journey.CodeFactor{Channel: factors.ChannelSMS, To: "+447700900123"})
	if !strings.HasPrefix(sms[0], "code:dest:sms:") || strings.Contains(sms[0], "7700900123") {
		t.Errorf("number key %q", sms[0])
	}
	for _, v := range []string{"ada@example.com", "+447700900123"} {
		if k := h.personal(v); strings.Contains(k, v) || len(k) < 20 {
			t.Errorf("personal(%q) = %q", v, k)
		}
	}
}

// failureStore is the durable store's runs of failures, and its audit log.
type failureStore struct {
	Store // other methods are not used
	runs  map[string]struct {
		n    int
		last time.Time
	}
	audit []string
}

func (s *failureStore) RecordFailure(_ context.Context, key string, at time.Time) (int, error) {
	r := s.runs[key]
	r.n++
	r.last = at
	s.runs[key] = r
	return r.n, nil
}

func (s *failureStore) Failures(_ context.Context, key string) (int, time.Time, error) {
	r := s.runs[key]
	return r.n, r.last, nil
}

func (s *failureStore) ResetFailures(_ context.Context, key string) error {
	delete(s.runs, key)
	return nil
}

func (s *failureStore) AppendAudit(_ context.Context, e *store.AuditEvent) error {
	s.audit = append(s.audit, e.Kind+" "+e.UserID+" "+e.Detail)
	return nil
}

// The answers to the journey's queries, over a run of wrong codes: the
// threshold locks (said by the wrong code that did it), the lock lasts an hour
// from the latest wrong code, a wrong code after it locks again at once, a right
// code ends the run; an account locked by wrong codes to one number is locked
// at another.
func TestCodeGuessAnswers(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err) // time/tzdata is linked in: this does not depend on the machine
	}
	now := time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC)
	st := &failureStore{runs: map[string]struct {
		n    int
		last time.Time
	}{}}
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{cfg: Config{CodeGuesses: limits.DefaultCodeGuesses(), Location: london},
		Deps: Deps{Store: st, Log: slog.Default(), Now: func() time.Time { return now }}, metrics: m}
	ctx, r := context.Background(), httptest.NewRequest("POST", "/login/sms-code", nil)
	f := journey.CodeFactor{Channel: factors.ChannelSMS, To: "+447700900123", UserID: "u1"}
	check := func(f journey.CodeFactor) time.Time {
		t.Helper()
		ev, err := h.checkCodeGuesses(ctx, r, journey.CheckCodeGuesses{Factor: f})
		if err != nil {
			t.Fatal(err)
		}
		return ev.(journey.CodeGuessesChecked).LockedUntil
	}
	wrong := func(f journey.CodeFactor) time.Time {
		t.Helper()
		ev, err := h.recordWrongCode(ctx, r, journey.RecordWrongCode{Factor: f})
		if err != nil {
			t.Fatal(err)
		}
		return ev.(journey.WrongCodeRecorded).LockedUntil
	}
	for i := 1; i < 20; i++ {
		if u := wrong(f); !u.IsZero() {
			t.Fatalf("wrong code %d locked until %v", i, u)
		}
		now = now.Add(time.Minute)
	}
	if u := check(f); !u.IsZero() {
		t.Fatalf("19 wrong codes: locked until %v", u)
	}
	until := wrong(f)
	if want := now.Add(time.Hour); !until.Equal(want) || until.Location() != london {
		t.Fatalf("the twentieth wrong code locked until %v, want %v in Europe/London", until, want)
	}
	for _, tc := range []struct {
		after time.Duration
		f     journey.CodeFactor
		want  time.Time
	}{
		{0, f, until},
		{59 * time.Minute, f, until},
		// The account is locked at another number; the number for another account.
		{59 * time.Minute, journey.CodeFactor{Channel: factors.ChannelSMS, To: "+447700900999", UserID: "u1"}, until},
		{59 * time.Minute, journey.CodeFactor{Channel: factors.ChannelSMS, To: "+447700900123", UserID: "u2"}, until},
		// Email codes are another factor.
		{59 * time.Minute, journey.CodeFactor{Channel: factors.ChannelEmail, To: "ada@example.com", UserID: "u1"}, time.Time{}},
		{time.Hour, f, time.Time{}},
	} {
		now = until.Add(-time.Hour).Add(tc.after)
		if got := check(tc.f); !got.Equal(tc.want) {
			t.Errorf("%v after the lock, %+v: locked until %v, want %v", tc.after, tc.f, got, tc.want)
		}
	}
	// After the lock, one more wrong code locks again.
	now = until.Add(time.Minute)
	if u := wrong(f); !u.Equal(now.Add(time.Hour)) {
		t.Fatalf("a wrong code after the lock locked until %v, want %v", u, now.Add(time.Hour))
	}
	if !slices.ContainsFunc(st.audit, func(a string) bool {
		return a == "code.guesses_locked u1 codes locked: too many wrong codes (text message to the number ending 123)"
	}) || !slices.ContainsFunc(st.audit, func(a string) bool { return strings.HasPrefix(a, "code.refused u1 ") }) {
		t.Errorf("audit %q", st.audit)
	}
	// A right code ends the runs of the number and the account.
	if err := h.resetWrongCodes(ctx, f); err != nil {
		t.Fatal(err)
	}
	if u := check(journey.CodeFactor{Channel: factors.ChannelSMS, To: "+447700900999", UserID: "u1"}); !u.IsZero() || len(st.runs) != 0 {
		t.Fatalf("after a right code: locked until %v, runs %v", u, st.runs)
	}
}

// The README states the rule's numbers; they must be the package's.
func TestReadmeStatesCodeGuessRule(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.Join(strings.Fields(string(raw)), " ")
	d := limits.DefaultCodeGuesses()
	want := fmt.Sprintf("from %d wrong codes in a row (across journeys) the codes of that address, number or account are locked for %d minutes after the latest wrong one",
		d.Threshold, int(d.LockFor/time.Minute))
	if !strings.Contains(readme, want) {
		t.Errorf("README does not say %q", want)
	}
}
