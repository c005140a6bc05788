package limits

import (
	"net/netip"
	"testing"
	"time"
)

func TestPasswordsNetwork(t *testing.T) {
	p := DefaultPasswords()
	for _, c := range []struct {
		failures int
		delay    time.Duration
		refused  bool
	}{
		{0, 0, false},
		{19, 0, false},
		{20, 250 * time.Millisecond, false},
		{21, 500 * time.Millisecond, false},
		{23, 2 * time.Second, false},
		{24, 3 * time.Second, false},
		{99, 3 * time.Second, false},
		{100, 3 * time.Second, true},
	} {
		if got := p.NetworkDelay(c.failures); got != c.delay {
			t.Errorf("NetworkDelay(%d) = %v, want %v", c.failures, got, c.delay)
		}
		if got := p.NetworkRefused(c.failures); got != c.refused {
			t.Errorf("NetworkRefused(%d) = %v, want %v", c.failures, got, c.refused)
		}
	}
	if (Passwords{}).NetworkRefused(1000) {
		t.Error("a zero rule refuses")
	}
}

func TestNetworkKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":            "192.0.2.7",
		"::ffff:192.0.2.7":     "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
	} {
		if got := NetworkKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("NetworkKey(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestJourneyDelay(t *testing.T) {
	p := DefaultPasswords()
	if p.JourneyDelay(4) != 0 || p.JourneyDelay(5) != 250*time.Millisecond || p.JourneyDelay(50) != p.NetworkMaxDelay {
		t.Errorf("journey delays %v %v %v", p.JourneyDelay(4), p.JourneyDelay(5), p.JourneyDelay(50))
	}
}
