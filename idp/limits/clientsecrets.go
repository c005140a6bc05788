package limits

import "time"

// ClientSecretRule limits guesses at form apps' client secrets, at every
// endpoint that checks one (token, introspection, revocation). Failures are
// counted in the durable store in fixed windows; past a threshold the caller
// is refused (429, Retry-After) before any secret is checked, until the window
// ends.
//
// Why: RFC 6749 §2.3.1 says an endpoint taking client passwords MUST protect
// them against brute force, and OWASP ASVS 5.0 V6.1.1 asks for rate limits
// that also prevent malicious lockout, hence the separate budget for a known
// network.
type ClientSecretRule struct {
	// PerClient is how many failed authentications as one client id, from
	// networks that have not authenticated as it before, lock that client id
	// for them for the rest of the Window.
	PerClient int
	// PerNetwork is how many wrong secrets (for any of the confidential
	// clients) from one network lock that network out of client
	// authentication for the rest of the Window, known to a client or not.
	// A network is an IPv4 address or an IPv6 /64.
	PerNetwork int
	// Window is the length of the fixed counting windows.
	Window time.Duration
	// KnownNetworkFor is how long a network where a client authenticated
	// successfully stays known to that client: guesses from elsewhere that
	// lock the client id do not lock it out; it has its own PerClient budget.
	KnownNetworkFor time.Duration
}

// ClientSecrets is the rule for client-secret guesses. Form apps are servers
// configured once with their secret, so a real one fails rarely and ten
// failures in ten minutes is an attack or a broken deployment.
func ClientSecrets() ClientSecretRule {
	return ClientSecretRule{
		PerClient:       10,
		PerNetwork:      50,
		Window:          10 * time.Minute,
		KnownNetworkFor: 30 * 24 * time.Hour,
	}
}

func clientSecretRules() []Rule {
	r := ClientSecrets()
	return []Rule{
		{
			Name:    "Failed client authentications as one client id from networks it has not authenticated from",
			Default: itoa(r.PerClient),
			Window:  duration(r.Window) + ", fixed",
			Why:     "RFC 6749 2.3.1: an endpoint taking client passwords must protect them against brute force; answered 429 with Retry-After",
		},
		{
			Name:    "Wrong client secrets from one client network, for any clients",
			Default: itoa(r.PerNetwork),
			Window:  duration(r.Window) + ", fixed",
			Why:     "one network guessing at many clients; OWASP ASVS 5 V6.1.1",
		},
		{
			Name:    "How long a network where a form app authenticated stays known to it",
			Default: duration(r.KnownNetworkFor),
			Why:     "guesses from elsewhere that lock the client id do not lock the app out; its known network has a budget of its own",
		},
	}
}
