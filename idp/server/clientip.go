package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP is the address a request came from, for per-address limits and the audit
// log: the peer, or behind trusted proxies (IDP_TRUSTED_PROXIES) the nearest address
// in X-Forwarded-For that is not one of them. Addresses further left are whatever the
// client claimed, so they are never believed.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(peer, trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: trust nothing further left
		}
		peer = a.Unmap()
		if !isTrusted(peer, trusted) {
			break
		}
	}
	return peer.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
