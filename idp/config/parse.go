package config

import (
	"math"

	"github.com/councilforms/idp/idp/cost"

	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/mail"
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

// parsePprof reads IDP_PPROF after IDP_METRICS_ADDR: the profiler is served
// only there.
func parsePprof(p *parsing, r rawValue) (err error) {
	if p.c.Pprof, err = parseBool(r); err != nil {
		return err
	}
	if p.c.Pprof && p.c.MetricsAddr == "" {
		return settingError(r, "needs IDP_METRICS_ADDR: the profiler is served only on the metrics listener, never on the public one")
	}
	return nil
}

func parseAdminAddr(p *parsing, r rawValue) (err error) {
	if strings.EqualFold(strings.TrimSpace(r.text), "off") {
		return nil
	}
	if p.c.AdminAddr, err = parseAddr(r); err != nil {
		return err
	}
	if p.c.AdminAddr == p.c.Addr {
		return settingError(r, "must differ from IDP_ADDR: the operators' console is never served on the public listener")
	}
	if p.c.AdminAddr == p.c.MetricsAddr {
		return settingError(r, "must differ from IDP_METRICS_ADDR")
	}
	return nil
}

// parseAdminURL reads IDP_ADMIN_URL after IDP_ADMIN_ADDR; empty derives it from
// the address (http://localhost:8082). With the console off it is empty.
func parseAdminURL(p *parsing, r rawValue) (err error) {
	var u string
	if strings.TrimSpace(r.text) != "" {
		if u, err = parseIssuer(r); err != nil {
			return err
		}
	}
	switch {
	case p.c.AdminAddr == "": // the console is off: no URL, and no client for it
	case u != "":
		p.c.AdminURL = u
	default:
		p.c.AdminURL = LocalURL(p.c.AdminAddr)
	}
	return nil
}

// LocalURL is where a person on this machine reaches a listener on addr:
// http://host:port, with localhost for an empty host or every interface.
func LocalURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
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

// parseSessionIdle reads the idle lifetime of the single sign-on session after the
// absolute one, which bounds it; the default under a shorter absolute lifetime is
// that lifetime.
func parseSessionIdle(p *parsing, r rawValue) (err error) {
	c := p.c
	if c.SessionIdleTTL, err = parseDuration(r); err != nil {
		return err
	}
	if c.SessionIdleTTL > c.SessionTTL {
		if r.given {
			return settingError(r, fmt.Sprintf("must not be longer than the absolute lifetime IDP_SESSION_TTL (%s)", c.SessionTTL))
		}
		c.SessionIdleTTL = c.SessionTTL
	}
	return nil
}

// maxAdminSession is the console session's absolute lifetime (idp/admin's
// default SessionTTL), which the idle timeout cannot exceed.
const maxAdminSession = 8 * time.Hour

func parseAdminIdle(p *parsing, r rawValue) (err error) {
	if p.c.AdminIdleTimeout, err = parseDuration(r); err != nil {
		return err
	}
	if p.c.AdminIdleTimeout > maxAdminSession {
		return settingError(r, "must be at most 8h, the console session's absolute lifetime")
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

// unitCost reads a price of the cost report into the field field gives.
func unitCost(field func(*Config) *cost.Millipence) func(*parsing, rawValue) error {
	return func(p *parsing, r rawValue) error {
		m, err := cost.ParseAmount(r.text)
		if err != nil {
			return settingError(r, err.Error())
		}
		*field(p.c) = m
		return nil
	}
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

// parseOneLine reads optional plain text of at most max bytes on one line.
func parseOneLine(r rawValue, max int) (string, error) {
	text := strings.TrimSpace(r.text)
	switch {
	case len(text) > max:
		return "", settingError(r, fmt.Sprintf("must be %d characters or fewer", max))
	case strings.IndexFunc(text, unicode.IsControl) >= 0:
		return "", settingError(r, "must be one line of text")
	}
	return text, nil
}

// parseContactPhone reads an optional telephone number as people read it.
func parseContactPhone(r rawValue) (string, error) {
	text := strings.TrimSpace(r.text)
	digits := 0
	for _, c := range text {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == ' ' || c == '+' || c == '(' || c == ')':
		default:
			return "", settingError(r, "must be a telephone number: digits, spaces, +, ( and ) only")
		}
	}
	if text != "" && (digits < 3 || len(text) > 30) {
		return "", settingError(r, "must be a telephone number of 3 to 30 characters")
	}
	return text, nil
}

// parseContactEmail reads an optional email address (one address, no name).
func parseContactEmail(r rawValue) (string, error) {
	text := strings.TrimSpace(r.text)
	if text == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(text)
	if err != nil || a.Address != text || a.Name != "" || len(text) > 254 {
		return "", settingError(r, "must be one email address, such as help@example.gov.uk")
	}
	return text, nil
}

// parsePageURL reads an optional link to a web page: absolute https (http only
// for a host on this machine), no user information.
func parsePageURL(r rawValue) (string, error) {
	text := strings.TrimSpace(r.text)
	if text == "" {
		return "", nil
	}
	u, err := url.Parse(text)
	local := err == nil && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1" || u.Hostname() == "::1")
	if err != nil || u.Host == "" || u.User != nil || !(u.Scheme == "https" || (u.Scheme == "http" && local)) ||
		strings.ContainsAny(text, " \"<>") {
		return "", settingError(r, "must be an https:// address of a web page")
	}
	return text, nil
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
// MemoryLimitAuto and MemoryLimitOff are Config.MemoryLimit's values for
// IDP_MEMORY_LIMIT=auto and off.
const (
	MemoryLimitAuto int64 = 0
	MemoryLimitOff  int64 = -1
)

// minMemoryLimit: below this the server's own heap (page templates, pools)
// would keep the collector running all the time.
const minMemoryLimit = 64 << 20

// sizeUnits are GOMEMLIMIT's suffixes.
var sizeUnits = []struct {
	suffix string
	shift  uint
}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}

func parseMemoryLimit(r rawValue) (int64, error) {
	v := strings.TrimSpace(r.text)
	switch strings.ToLower(v) {
	case "auto":
		return MemoryLimitAuto, nil
	case "off":
		return MemoryLimitOff, nil
	}
	for _, u := range sizeUnits {
		digits, ok := strings.CutSuffix(v, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || n < 0 || n > math.MaxInt64>>u.shift || n<<u.shift < minMemoryLimit {
			break
		}
		return n << u.shift, nil
	}
	return 0, settingError(r, "must be auto, off or a size from 64MiB, such as 512MiB or 2GiB")
}

func parseDrain(r rawValue) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(r.text))
	if err != nil || d < 0 || d > maxDrain {
		return 0, settingError(r, "must be a duration from 0s (no drain) to 5m, such as 5s")
	}
	return d, nil
}
