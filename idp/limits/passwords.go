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

// JourneySlowAfter wrong passwords in one journey slow each further check there.
const JourneySlowAfter = 5

// JourneyDelay is the wait before checking a password in a journey that has
// already had failures wrong ones: the same growth as a network's, from the
// fifth, so one journey cannot guess quickly either.
func (p Passwords) JourneyDelay(failures int) time.Duration {
	return Passwords{NetworkSlowAfter: JourneySlowAfter, NetworkMaxDelay: p.NetworkMaxDelay}.NetworkDelay(failures)
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

func passwordRules() []Rule {
	p := DefaultPasswords()
	return []Rule{
		{
			Name:    "Wrong passwords from a browser that signed in to the account before",
			Default: itoa(p.KnownBrowserFailures),
			Window:  duration(p.KnownBrowserWindow) + ", fixed",
			Why:     "OWASP Authentication Cheat Sheet, device cookies: the account's lock does not stop its own browser, which is treated as unknown past this",
		},
		{
			Name:    "Wrong passwords from one client network, across accounts, before each check waits longer",
			Default: itoa(p.NetworkSlowAfter),
			Window:  duration(p.NetworkWindow) + ", fixed",
			Setting: "IDP_PASSWORD_NETWORK_SLOWDOWN",
			Why:     "password spraying meets no account's lockout (OWASP ASVS 5 V6.3.1, NIST SP 800-63B 5.2.2), and each check costs an argon2id hash",
		},
		{
			Name:    "Wrong passwords from one client network, across accounts, before it is refused",
			Default: itoa(p.NetworkRefuseAfter),
			Window:  duration(p.NetworkWindow) + ", fixed",
			Setting: "IDP_PASSWORD_NETWORK_LIMIT",
			Why:     "a council office signs in through one address, so the refusal comes late; the page says how long to wait",
		},
		{
			Name:    "Wrong passwords in one journey before each check waits longer",
			Default: itoa(JourneySlowAfter),
			Window:  "the journey",
			Why:     "one journey cannot guess quickly either",
		},
		{
			Name:    "Longest wait before a password check",
			Default: duration(p.NetworkMaxDelay),
			Why:     "the delay doubles from the first slowed check; a person still gets an answer within seconds",
		},
	}
}
