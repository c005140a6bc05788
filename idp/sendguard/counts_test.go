package sendguard

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/idp/limits"
	"github.com/councilforms/idp/store"
	dto "github.com/prometheus/client_model/go"
)

// Every text and call is counted once by form app, channel and outcome, after
// the provider's answer: accepted, refused by the provider, or stopped here.
func TestDailyCountsByOutcome(t *testing.T) {
	daily := &memDaily{}
	ceiling := limits.Ceiling{Daily: 3, VerifiedShare: 100}
	g, err := New(Config{Counters: &memCounters{}, Daily: daily, Ceiling: ceiling, Numbers: phone.Rules{}})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 14, 23, 59, 0, 0, time.UTC)
	g.SetClock(func() time.Time { return day })
	ctx := context.Background()
	provider := &fakeProvider{}
	sms, calls := g.SMS(provider), g.Caller(provider)
	const mobile = "+447400123456"

	mustSend := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustSend(sms.SendSMS(ctx, factors.SMS{To: mobile, ClientID: "referral", Verified: true}))
	mustSend(calls.PlaceCall(ctx, factors.Call{ID: "c1", To: mobile, ClientID: "referral", Verified: true}))
	provider.fail = errors.New("vonage: 500")
	if err := sms.SendSMS(ctx, factors.SMS{To: mobile, ClientID: "blue-badge", Verified: true}); err == nil {
		t.Fatal("the provider's refusal was not returned")
	}
	provider.fail = nil
	// A premium-rate number never reaches the provider.
	if err := sms.SendSMS(ctx, factors.SMS{To: "+449098790000", ClientID: "referral", Verified: true}); err == nil {
		t.Fatal("a premium-rate number was sent to")
	}
	// The ceiling of 3 is spent (the premium-rate number did not count against it).
	if err := calls.PlaceCall(ctx, factors.Call{ID: "c2", To: mobile, Verified: true}); !errors.Is(err, factors.ErrSendCeiling) {
		t.Fatalf("call past the ceiling: %v", err)
	}
	if provider.sends != 3 {
		t.Errorf("the provider got %d messages, want 3", provider.sends)
	}
	want := map[string]int64{
		"2026-03-14 referral sms.sent":     1,
		"2026-03-14 referral voice.sent":   1,
		"2026-03-14 blue-badge sms.failed": 1,
		"2026-03-14 referral sms.refused":  1,
		"2026-03-14  voice.refused":        1,
	}
	daily.check(t, want)
}

// A count that cannot be written neither holds back nor repeats the message.
func TestDailyCountFailureKeepsTheSend(t *testing.T) {
	daily := &memDaily{fail: errors.New("database down")}
	g, err := New(Config{Counters: &memCounters{}, Daily: daily, Ceiling: limits.DefaultCeiling(), Numbers: phone.Rules{}})
	if err != nil {
		t.Fatal(err)
	}
	provider := &fakeProvider{}
	if err := g.SMS(provider).SendSMS(context.Background(), factors.SMS{To: "+447400123456", ClientID: "referral"}); err != nil {
		t.Fatalf("a text the provider accepted failed because its count could not be written: %v", err)
	}
	if provider.sends != 1 {
		t.Errorf("the provider got %d messages, want exactly 1", provider.sends)
	}
	if got := testutilValue(g); got != 1 {
		t.Errorf("idp_send_counts_lost_total = %v, want 1", got)
	}
}

func testutilValue(g *Guard) float64 {
	var m dto.Metric
	if err := g.lost.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

type fakeProvider struct {
	sends int
	fail  error
}

func (p *fakeProvider) SendSMS(context.Context, factors.SMS) error {
	p.sends++
	return p.fail
}

func (p *fakeProvider) PlaceCall(context.Context, factors.Call) error {
	p.sends++
	return p.fail
}

// memCounters counts in memory, windows ignored (one test, one window).
type memCounters struct {
	store.Counters
	mu sync.Mutex
	n  map[string]int
}

func (m *memCounters) Hit(_ context.Context, key string, _ time.Duration, _ time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n == nil {
		m.n = map[string]int{}
	}
	m.n[key]++
	return m.n[key], nil
}

func (m *memCounters) Count(_ context.Context, key string, _ time.Duration, _ time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n[key], nil
}

type memDaily struct {
	fail error
	n    map[string]int64
}

func (m *memDaily) AddDailyCount(_ context.Context, at time.Time, clientID, kind string, n int64) error {
	if m.fail != nil {
		return m.fail
	}
	if m.n == nil {
		m.n = map[string]int64{}
	}
	m.n[store.DayOf(at)+" "+clientID+" "+kind] += n
	return nil
}

func (m *memDaily) DailyCounts(context.Context, time.Time, time.Time) ([]store.DailyCount, error) {
	return nil, errors.New("not used")
}

func (m *memDaily) check(t *testing.T, want map[string]int64) {
	t.Helper()
	if len(m.n) != len(want) {
		t.Errorf("daily counts %v, want %v", m.n, want)
	}
	for k, v := range want {
		if m.n[k] != v {
			t.Errorf("daily count %q = %d, want %d (all: %v)", k, m.n[k], v, m.n)
		}
	}
}
