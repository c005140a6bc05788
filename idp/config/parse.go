package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The parse functions of Settings. Each reads one setting into the Config, and may
// check it against a setting parsed before it; errors name the setting (settingError).

// text reads a value as it is, without surrounding spaces.
func text(field func(*Config) *string) func(*parsing, rawValue) error {
	return func(p *parsing, r rawValue) error {
		*field(p.c) = strings.TrimSpace(r.text)
		return nil
	}
}

// baseURL reads a service base URL, without a trailing slash.
func baseURL(field func(*Config) *string) func(*parsing, rawValue) error {
	return func(p *parsing, r rawValue) error {
		*field(p.c) = strings.TrimRight(strings.TrimSpace(r.text), "/")
		return nil
	}
}

// duration reads a positive duration.
func duration(field func(*Config) *time.Duration) func(*parsing, rawValue) error {
	return func(p *parsing, r rawValue) (err error) {
		*field(p.c), err = parseDuration(r)
		return err
	}
}

// atLeast reads a whole number of at least min; why ends the error ("at least 1").
func atLeast(min int, why string, field func(*Config) *int) func(*parsing, rawValue) error {
	return func(p *parsing, r rawValue) (err error) {
		*field(p.c), err = wholeAtLeast(r, min, why)
		return err
	}
}

func parseMetricsAddr(p *parsing, r rawValue) (err error) {
	if strings.EqualFold(strings.TrimSpace(r.text), "off") {
		return nil
	}
	if p.c.MetricsAddr, err = parseAddr(r); err != nil {
		return err
	}
	if p.c.MetricsAddr == p.c.Addr {
		return settingError(r, "must differ from IDP_ADDR: metrics are never served on the public listener")
	}
	return nil
}

func parseRedisPrefix(p *parsing, r rawValue) error {
	if r.text == "" || strings.ContainsAny(r.text, " \t\r\n*?[]") {
		return settingError(r, "must be a non-empty key prefix without spaces or glob characters, e.g. idp:")
	}
	p.c.RedisPrefix = r.text
	return nil
}

// parseDev reads IDP_DEV after the issuer and the stores. The dev inbox shows every
// code it captures, so development mode runs only with an issuer on this machine: it
// is off by default otherwise, and refused if asked for.
func parseDev(p *parsing, r rawValue) (err error) {
	c := p.c
	loopback := loopbackIssuer(c.Issuer)
	c.Dev = c.Embedded() && loopback
	if !r.given {
		return nil
	}
	if c.Dev, err = parseBool(r); err != nil {
		return err
	}
	if c.Dev && !loopback {
		return fmt.Errorf("%s: development mode shows every code in its dev inbox, so it needs IDP_ISSUER on localhost, "+
			"127.0.0.0/8 or ::1 (IDP_ISSUER is %s); turn it off and configure IDP_SMTP_URL and the IDP_VONAGE_ settings", r.source, c.Issuer)
	}
	return nil
}

func parseOrgName(p *parsing, r rawValue) error {
	if p.c.OrgName = strings.TrimSpace(r.text); p.c.OrgName == "" {
		return settingError(r, "must not be blank")
	}
	return nil
}

func parseLogFormat(p *parsing, r rawValue) error {
	switch strings.ToLower(r.text) {
	case "text", "json":
		p.c.LogFormat = strings.ToLower(r.text)
		return nil
	}
	return settingError(r, "must be text or json")
}

func parseLogLevel(p *parsing, r rawValue) error {
	switch strings.ToLower(r.text) {
	case "debug":
		p.c.LogLevel = slog.LevelDebug
	case "info":
		p.c.LogLevel = slog.LevelInfo
	case "warn", "warning":
		p.c.LogLevel = slog.LevelWarn
	case "error":
		p.c.LogLevel = slog.LevelError
	default:
		return settingError(r, "must be debug, info, warn or error")
	}
	return nil
}

// parseKeyEncryptionKey reads the key after IDP_DATABASE_URL: PostgreSQL needs one.
func parseKeyEncryptionKey(p *parsing, r rawValue) (err error) {
	if p.c.KeyEncryptionKey, err = parseKey(r); err != nil {
		return err
	}
	if p.c.KeyEncryptionKey == nil && p.c.DatabaseKind == DatabasePostgres {
		return errors.New("IDP_KEY_ENCRYPTION_KEY: required with PostgreSQL (base64 of 32 random bytes, e.g. from `openssl rand -base64 32`)")
	}
	return nil
}

func parseClientsFile(p *parsing, r rawValue) error {
	if r.text == "" {
		return nil
	}
	fi, err := os.Stat(r.text)
	switch {
	case err != nil:
		reason := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			reason = pe.Err.Error()
		}
		return settingError(r, "cannot read the file: "+reason)
	case !fi.Mode().IsRegular():
		return settingError(r, "must be a regular file")
	}
	p.c.ClientsFile = r.text
	return nil
}

func parseSigningAlg(p *parsing, r rawValue) error {
	switch alg := strings.ToUpper(r.text); alg {
	case "RS256", "ES256":
		p.c.SigningAlg = alg
		return nil
	}
	return settingError(r, "must be RS256 or ES256")
}

// parseRefreshIdle reads the idle lifetime after the absolute one, which bounds it.
func parseRefreshIdle(p *parsing, r rawValue) (err error) {
	if p.c.RefreshTokenIdleTTL, err = parseDuration(r); err != nil {
		return err
	}
	if p.c.RefreshTokenIdleTTL > p.c.RefreshTokenTTL {
		return settingError(r, fmt.Sprintf("must not be longer than the absolute lifetime IDP_REFRESH_TOKEN_TTL (%s)", p.c.RefreshTokenTTL))
	}
	return nil
}

func parseReuseInterval(p *parsing, r rawValue) (err error) {
	d, err := time.ParseDuration(strings.TrimSpace(r.text))
	if err != nil || d < 0 || d > time.Minute {
		// Longer would let a stolen spent token pass for its client's retry for longer.
		return settingError(r, "must be a duration from 0s (off) to 60s")
	}
	p.c.RefreshTokenReuseInterval = d
	return nil
}

// parsePrivateKeyFile keeps the path as given (checkDelivery reads the file once all
// of Vonage is known to be set).
func parsePrivateKeyFile(p *parsing, r rawValue) error {
	if strings.TrimSpace(r.text) != "" {
		p.c.VonagePrivateKeyFile = r.text
	}
	return nil
}

func parseDailyCeiling(p *parsing, r rawValue) (err error) {
	n, err := strconv.Atoi(strings.TrimSpace(r.text))
	if err != nil || n < 1 {
		return settingError(r, "must be a whole number of messages, at least 1")
	}
	p.c.SendDailyCeiling = n
	return nil
}

// parsePerRecipientDay reads the daily budget after the hourly one, its floor.
func parsePerRecipientDay(p *parsing, r rawValue) (err error) {
	c := p.c
	if r.given {
		c.SendPerRecipientDay, err = wholeAtLeast(r, c.SendPerRecipient,
			fmt.Sprintf("at least IDP_SEND_HOURLY_PER_RECIPIENT (%d)", c.SendPerRecipient))
		return err
	}
	if c.SendPerRecipientDay, err = wholeAtLeast(r, 1, "at least 1"); err != nil {
		return err
	}
	// A deployment that raised the hourly budget (a duty phone) keeps it.
	c.SendPerRecipientDay = max(c.SendPerRecipientDay, c.SendPerRecipient)
	return nil
}

// parseNetworkSlowdown reads the slowdown after the limit, its ceiling.
func parseNetworkSlowdown(p *parsing, r rawValue) (err error) {
	if p.c.PasswordNetworkSlowdown, err = wholeAtLeast(r, 1, "at least 1"); err != nil {
		return err
	}
	if p.c.PasswordNetworkSlowdown > p.c.PasswordNetworkLimit {
		return settingError(r, fmt.Sprintf("must not be more than IDP_PASSWORD_NETWORK_LIMIT (%d)", p.c.PasswordNetworkLimit))
	}
	return nil
}

// wholeAtLeast reads a whole number of at least min.
func wholeAtLeast(r rawValue, min int, why string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(r.text))
	if err != nil || n < min {
		return 0, settingError(r, "must be a whole number, "+why)
	}
	return n, nil
}

// parsePercent reads a share of the daily ceiling: 0 to 99, with or without "%".
func parsePercent(r rawValue) (int, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(r.text), "%"))
	if err != nil || n < 0 || n > 99 {
		return 0, settingError(r, "must be a whole per cent from 0 to 99 (100 would leave nothing for new numbers)")
	}
	return n, nil
}

// maxContactText bounds IDP_CONTACT_TEXT: it ends a sentence on a page.
const maxContactText = 200

// parseContactText reads the end of a sentence: plain text, no line breaks.
func parseContactText(r rawValue) (string, error) {
	text := strings.TrimSpace(r.text)
	switch {
	case text == "":
		return "", settingError(r, "must not be blank")
	case len(text) > maxContactText:
		return "", settingError(r, fmt.Sprintf("must be %d characters or fewer", maxContactText))
	case strings.IndexFunc(text, unicode.IsControl) >= 0:
		return "", settingError(r, "must be one line of text")
	}
	return strings.TrimRight(text, "."), nil
}

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
	host := u.Hostname()
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

func parseBool(r rawValue) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(r.text)) {
	case "1", "t", "true", "yes", "on":
		return true, nil
	case "0", "f", "false", "no", "off":
		return false, nil
	}
	return false, settingError(r, "must be true or false")
}

func parseKey(r rawValue) ([]byte, error) {
	if r.text == "" {
		return nil, nil
	}
	text := strings.TrimSpace(r.text)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(text); err == nil {
			if len(key) != 32 {
				return nil, secretError(r, fmt.Sprintf("must decode to 32 bytes, decodes to %d", len(key)))
			}
			return key, nil
		}
	}
	return nil, secretError(r, "must be base64 of 32 random bytes (e.g. from `openssl rand -base64 32`)")
}

func parseDuration(r rawValue) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(r.text))
	if err != nil {
		return 0, settingError(r, "must be a duration such as 15m, 8h or 720h")
	}
	if d <= 0 {
		return 0, settingError(r, "must be positive")
	}
	return d, nil
}

// maxDrain bounds IDP_SHUTDOWN_DRAIN: an orchestrator kills a process that takes
// longer than its grace period to stop (Kubernetes: 30 s by default), so a drain of
// minutes is a mistake, not a choice.
const maxDrain = 5 * time.Minute

// parseDrain reads a duration that may be zero (no drain).
func parseDrain(r rawValue) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(r.text))
	if err != nil || d < 0 || d > maxDrain {
		return 0, settingError(r, "must be a duration from 0s (no drain) to 5m, such as 5s")
	}
	return d, nil
}
