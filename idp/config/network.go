package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// The parse functions of the settings that are addresses, ranges and service URLs.

// parseProxies reads addresses ("10.1.2.3") and CIDR ranges ("10.0.0.0/8").
func parseProxies(r rawValue) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(r.text, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, settingError(r, fmt.Sprintf("%q is not an IP address or CIDR range", f))
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// privateRanges are where the dev inbox may answer besides loopback: networks that
// do not route on the internet (RFC 1918, RFC 4193 unique local addresses).
var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"),
}

// parseDevPeers reads addresses and CIDR ranges that must lie inside privateRanges:
// the dev inbox shows every code, so no setting opens it to the internet.
func parseDevPeers(r rawValue) ([]netip.Prefix, error) {
	peers, err := parseProxies(r)
	if err != nil {
		return nil, err
	}
	for _, p := range peers {
		private := false
		for _, block := range privateRanges {
			if p.Bits() >= block.Bits() && block.Contains(p.Addr()) {
				private = true
			}
		}
		if !private {
			return nil, settingError(r, fmt.Sprintf("%s is not inside a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7): the dev inbox shows every code", p))
		}
	}
	return peers, nil
}

func parseAddr(r rawValue) (string, error) {
	host, port, err := net.SplitHostPort(r.text)
	if err != nil {
		return "", settingError(r, "must be host:port, e.g. localhost:8080 or :8080")
	}
	if strings.ContainsAny(host, " /") {
		return "", settingError(r, "host must be a name or an IP address")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", settingError(r, "port must be a number from 0 to 65535")
	}
	return r.text, nil
}

func parseIssuer(r rawValue) (string, error) {
	const want = "must be an absolute http(s) URL without query or fragment, e.g. https://login.example.gov.uk"
	u, err := url.Parse(r.text)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", settingError(r, want)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(r.text, "#") {
		return "", settingError(r, want)
	}
	if u.User != nil {
		return "", settingError(r, "must not contain a user name or password")
	}
	switch u.Scheme {
	case "https":
	case "http":
		switch u.Hostname() {
		case "localhost", "127.0.0.1", "::1":
		default:
			return "", settingError(r, "must use https unless the host is localhost, 127.0.0.1 or ::1")
		}
	default:
		return "", settingError(r, want)
	}
	return strings.TrimRight(r.text, "/"), nil
}

// loopbackIssuer reports whether the issuer's host is this machine: localhost, an
// address in 127.0.0.0/8, or ::1.
func loopbackIssuer(issuer string) bool {
	u, err := url.Parse(issuer)
	if err != nil {
		return false
	}
	return loopbackHost(u.Hostname())
}

// loopbackHost reports whether host is this machine: localhost, an address in
// 127.0.0.0/8 or ::1.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func parseDatabase(r rawValue, c *Config) error {
	const want = "must be postgres://..., postgresql://... or sqlite:PATH"
	switch {
	case strings.HasPrefix(r.text, "postgres://"), strings.HasPrefix(r.text, "postgresql://"):
		u, err := url.Parse(r.text)
		if err != nil {
			// The URL may hold a password: do not echo it.
			return secretError(r, want+" (the URL does not parse)")
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return secretError(r, "names no host (postgres://USER:PASSWORD@HOST:PORT/DATABASE)")
		}
		c.DatabaseURL, c.DatabaseKind = r.text, DatabasePostgres
	case strings.HasPrefix(r.text, "sqlite:"):
		path := strings.TrimPrefix(r.text, "sqlite:")
		if strings.TrimSpace(path) == "" {
			return settingError(r, "sqlite: needs a file path, e.g. sqlite:./data/idp.db")
		}
		if path == ":memory:" || strings.ContainsAny(path, "?#") {
			return settingError(r, "sqlite: needs a plain file path (no query, no :memory:), e.g. sqlite:./data/idp.db")
		}
		c.DatabaseURL, c.DatabaseKind, c.SQLitePath = r.text, DatabaseSQLite, path
	default:
		return settingError(r, want)
	}
	return nil
}

func parseRedis(r rawValue) (string, error) {
	if r.text == "" {
		return "", nil
	}
	u, err := url.Parse(r.text)
	if err != nil {
		return "", secretError(r, "must be redis://... or rediss://... (the URL does not parse)")
	}
	switch u.Scheme {
	case "redis", "rediss":
		if u.Host == "" {
			return "", secretError(r, "names no host (redis://[:PASSWORD@]HOST:PORT/DB)")
		}
	case "unix":
		if u.Path == "" {
			return "", secretError(r, "unix:// needs a socket path")
		}
	default:
		return "", secretError(r, fmt.Sprintf("must be redis://..., rediss://... or unix://... (got scheme %q)", u.Scheme))
	}
	return r.text, nil
}
