package limits

import (
	"net/netip"
	"time"
)

// Passwords are the rules on wrong passwords beyond the account lockout: the
// budget of a browser that has signed in to the account before (a device
// cookie), and the throttle on one network guessing across many accounts.
type Passwords struct {
	// KnownBrowserFailures wrong passwords in KnownBrowserWindow from a browser
	// holding the account's device cookie are its own budget: they do not count
	// towards the account's lock, and the account's lock (set by failures from
	// unknown browsers) does not apply to it. Past the budget the browser is
	// treated as unknown. Why: OWASP Authentication Cheat Sheet, "device
	// cookies": a lockout an attacker can aim at someone is a denial of service.
	KnownBrowserFailures int
	KnownBrowserWindow   time.Duration

	// NetworkSlowAfter wrong passwords in NetworkWindow from one network (an
	// IPv4 address or an IPv6 /64) slow each further check by a growing delay
	// (NetworkDelay); from NetworkRefuseAfter the network is refused until the
	// window ends. Why: OWASP ASVS 5 V6.3.1 and NIST SP 800-63B §5.2.2 (rate
	// limiting): password spraying across accounts meets no account's lockout,
	// and each check costs an argon2id hash.
	NetworkSlowAfter   int
	NetworkRefuseAfter int
	NetworkWindow      time.Duration
	NetworkMaxDelay    time.Duration
}

// DefaultPasswords: a person's own browser may mistype ten times an hour; one
// network (a council office signs in through one address) may get 20 wrong
// passwords an hour before slowing down and 100 before being refused.
func DefaultPasswords() Passwords {
	return Passwords{
		KnownBrowserFailures: 10,
		KnownBrowserWindow:   time.Hour,
		NetworkSlowAfter:     20,
		NetworkRefuseAfter:   100,
		NetworkWindow:        time.Hour,
		NetworkMaxDelay:      3 * time.Second,
	}
}

// NetworkDelay is how long to wait before checking a password when the network
// has failed failures times in the window: nothing up to NetworkSlowAfter, then
// 250 ms doubling per failure, at most NetworkMaxDelay.
func (p Passwords) NetworkDelay(failures int) time.Duration {
	if failures < p.NetworkSlowAfter {
		return 0
	}
	d := 250 * time.Millisecond
	for i := p.NetworkSlowAfter; i < failures && d < p.NetworkMaxDelay; i++ {
		d *= 2
	}
	return min(d, p.NetworkMaxDelay)
}

// NetworkRefused reports whether a network with failures in the window is refused.
func (p Passwords) NetworkRefused(failures int) bool {
	return p.NetworkRefuseAfter > 0 && failures >= p.NetworkRefuseAfter
}

// JourneyDelay is the wait before checking a password in a journey that has
// already had failures wrong ones: the same growth as a network's, from the
// fifth, so one journey cannot guess quickly either.
func (p Passwords) JourneyDelay(failures int) time.Duration {
	return Passwords{NetworkSlowAfter: 5, NetworkMaxDelay: p.NetworkMaxDelay}.NetworkDelay(failures)
}

// NetworkKey names the network a client address belongs to for per-network
// limits: the IPv4 address itself, or the /64 of an IPv6 address (one
// household or office is given a /64, so counting single IPv6 addresses would
// let it use 2^64 budgets).
func NetworkKey(addr netip.Addr) string {
	addr = addr.Unmap()
	if addr.Is4() || !addr.IsValid() {
		return addr.String()
	}
	p, _ := addr.Prefix(64)
	return p.String()
}
