package limits_test

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/limits"
)

// hour0 is a multiple of a day (and so of an hour) since the Unix epoch.
var hour0 = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)

func TestSlidingAllow(t *testing.T) {
	s := limits.Sliding{Max: 4, Window: time.Hour}
	for _, tc := range []struct {
		name      string
		prev, cur int
		at        time.Duration // into the current window
		ok        bool
		retry     time.Duration
	}{
		{"first hit", 0, 1, 0, true, 0},
		{"at the budget", 0, 4, 30 * time.Minute, true, 0},
		{"over, nothing before: the next window, where this one still weighs", 0, 5, 50 * time.Minute,
			false, 10*time.Minute + 24*time.Minute}, // 5*(1-f)+1 <= 4 from f = 0.4
		{"just after the boundary the last window still counts", 5, 1, 5 * time.Minute,
			false, 31 * time.Minute}, // 5*(1-f)+2 <= 4 from f = 0.6
		{"late in the window the previous one has faded", 5, 1, 40 * time.Minute, true, 0},
		{"exactly at the weight that allows it", 5, 2, 36 * time.Minute, true, 0},
		{"a full previous window, start of this one", 4, 1, 0, false, 30 * time.Minute}, // 4*(1-f)+2 <= 4
		{"this window full on its own", 0, 6, 10 * time.Minute, false, 50*time.Minute + 30*time.Minute},
		{"previous window over the budget too", 9, 5, 10 * time.Minute, false, 50*time.Minute + 24*time.Minute},
		{"this window far over: two thirds into the next", 0, 9, 0, false, time.Hour + 40*time.Minute}, // 9*(1-f)+1 <= 4
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, retry := s.Allow(tc.prev, tc.cur, hour0.Add(tc.at))
			if ok != tc.ok || retry != tc.retry {
				t.Errorf("Allow(%d, %d) at +%v = %v, %v; want %v, %v", tc.prev, tc.cur, tc.at, ok, retry, tc.ok, tc.retry)
			}
		})
	}
	if ok, _ := (limits.Sliding{Max: 0, Window: time.Hour}).Allow(0, 1, hour0); ok {
		t.Error("a budget of 0 allowed a hit")
	}
}

// The retry a refusal gives is exact: one more hit is allowed then, and not a
// millisecond before.
func TestSlidingRetryIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		s := limits.Sliding{Max: 1 + r.IntN(30), Window: []time.Duration{time.Hour, limits.Day}[r.IntN(2)]}
		prev, cur := r.IntN(2*s.Max+2), 1+r.IntN(2*s.Max+2)
		now := hour0.Add(time.Duration(r.Int64N(int64(s.Window))))
		ok, retry := s.Allow(prev, cur, now)
		if ok {
			continue
		}
		if retry <= 0 {
			t.Fatalf("%+v Allow(%d, %d) at %v refused with retry %v", s, prev, cur, now, retry)
		}
		again := func(at time.Time) bool {
			var ok bool
			switch windows := (at.UnixNano() / int64(s.Window)) - (now.UnixNano() / int64(s.Window)); windows {
			case 0:
				ok, _ = s.Allow(prev, cur+1, at)
			case 1:
				ok, _ = s.Allow(cur, 1, at)
			default:
				ok, _ = s.Allow(0, 1, at)
			}
			return ok
		}
		if !again(now.Add(retry)) {
			t.Fatalf("%+v Allow(%d, %d) at %v: retry %v, but a hit then is refused", s, prev, cur, now, retry)
		}
		if again(now.Add(retry - time.Millisecond)) {
			t.Fatalf("%+v Allow(%d, %d) at %v: retry %v, but a hit 1 ms earlier is allowed", s, prev, cur, now, retry)
		}
	}
}

func TestFixedAllow(t *testing.T) {
	f := limits.Fixed{Max: 3, Window: limits.Day}
	for _, tc := range []struct {
		n     int
		at    time.Duration
		ok    bool
		retry time.Duration
	}{
		{1, 0, true, 0},
		{3, 23 * time.Hour, true, 0},
		{4, 18 * time.Hour, false, 6 * time.Hour},
		{40, 0, false, 24 * time.Hour},
	} {
		ok, retry := f.Allow(tc.n, hour0.Add(tc.at))
		if ok != tc.ok || retry != tc.retry {
			t.Errorf("Allow(%d) at +%v = %v, %v; want %v, %v", tc.n, tc.at, ok, retry, tc.ok, tc.retry)
		}
	}
}

func TestWindowLeft(t *testing.T) {
	for _, tc := range []struct {
		now  time.Time
		want time.Duration
	}{
		{hour0, time.Hour},
		{hour0.Add(59*time.Minute + 59*time.Second), time.Second},
		{time.Unix(-1, 0), time.Second}, // before the epoch
	} {
		if got := limits.WindowLeft(time.Hour, tc.now); got != tc.want {
			t.Errorf("WindowLeft(1h, %v) = %v, want %v", tc.now, got, tc.want)
		}
	}
}

// NetworkKey's cases beyond passwords_test.go's: zones, loopback, no address.
func TestNetworkKeyEdges(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
		{"::ffff:10.0.0.1", "10.0.0.1"},
	} {
		if got := limits.NetworkKey(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("NetworkKey(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
	if got := limits.NetworkKey(netip.Addr{}); got != "invalid IP" {
		t.Errorf("NetworkKey of no address = %q", got)
	}
}
