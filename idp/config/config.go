package config

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
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

	"github.com/councilforms/idp/idp/limits"
)

// DatabaseKind says which durable backend IDP_DATABASE_URL selects.
type DatabaseKind string

const (
	DatabasePostgres DatabaseKind = "postgres"
	DatabaseSQLite   DatabaseKind = "sqlite"
)

// Config is the validated configuration. It is built only by Load (or Bind) and is
// read-only afterwards.
type Config struct {
	Addr   string // listen address, host:port
	Issuer string // public base URL, without a trailing slash
	// MetricsAddr is where /metrics is served, host:port, never on Addr; empty
	// when IDP_METRICS_ADDR is off.
	MetricsAddr string

	DatabaseURL  string       // as given (may hold a password: never log it)
	DatabaseKind DatabaseKind // postgres or sqlite
	SQLitePath   string       // the PATH of sqlite:PATH; empty for postgres
	RedisURL     string       // empty selects the in-process ephemeral store
	RedisPrefix  string       // starts every Redis key the idp writes

	Dev     bool   // messages are captured in the dev inbox instead of being sent
	OrgName string // organisation name in page titles and messages
	// DevPeers are private ranges whose requests the dev inbox answers besides
	// loopback peers (a Docker published port forwards from the bridge network).
	DevPeers []netip.Prefix

	LogFormat string     // text or json
	LogLevel  slog.Level // debug, info, warn or error

	// KeyEncryptionKey seals signing keys at rest: 32 bytes, or nil when not set
	// (allowed with SQLite only: the app then keeps a generated key next to the database).
	KeyEncryptionKey []byte
	ClientsFile      string // static clients file; empty for none

	PhoneConfirmTwice bool   // ask for a second phone verification after enrolment
	SigningAlg        string // RS256 or ES256

	AccessTokenTTL      time.Duration
	IDTokenTTL          time.Duration
	RefreshTokenTTL     time.Duration // absolute lifetime of a refresh token family
	RefreshTokenIdleTTL time.Duration // a refresh token unused for this long expires
	SessionTTL          time.Duration // the IdP's single-sign-on session, absolute
	SessionIdleTTL      time.Duration // a single-sign-on session unused this long ends
	// BackchannelRetryMax is the longest wait between two attempts to deliver a
	// back-channel logout notice to a form app that is down.
	BackchannelRetryMax time.Duration
	JourneyTTL          time.Duration // an unfinished sign-up or sign-in journey
	JourneyResumeIdle   time.Duration // idle longer than this, a journey is not offered to a new sign-in request

	// ShutdownDrain is how long the server keeps serving after SIGTERM while /readyz
	// says 503, so that load balancers take it out before it stops accepting; zero
	// stops at once.
	ShutdownDrain time.Duration

	// RefreshTokenReuseInterval: for this long after a rotation the token's own
	// client may present the old token again and get the same successor (a
	// retry of a lost answer); 0 turns it off.
	RefreshTokenReuseInterval time.Duration

	// Delivery of codes (README, "Delivering email, text messages and calls"). Without IDP_DEV, both SMTP and Vonage
	// are required; with IDP_DEV, a channel without a provider goes to the dev inbox.
	SMTPURL   string // IDP_SMTP_URL, empty when not set (may hold a password: never log it)
	EmailFrom string // IDP_EMAIL_FROM

	VonageAPIKey          string // empty when Vonage is not configured
	VonageAPISecret       string // secret
	VonageApplicationID   string
	VonagePrivateKeyFile  string // path of the application's RSA private key (checked at load)
	VonageSignatureSecret string // secret
	VonageFrom            string // sender id or number
	VonageRestURL         string // SMS API base, without a trailing slash
	VonageAPIURL          string // Voice API base, without a trailing slash

	// PhoneCountries are the ISO 3166 regions whose numbers may be enrolled and sent
	// to, upper case. GB brings the regions that share the UK numbering plan (GG, IM,
	// JE), since libphonenumber reports many +44 mobiles as those.
	PhoneCountries []string
	// SendDailyCeiling is how many text messages and calls, together, every server
	// process may send in one UTC day before refusing more (against SMS pumping);
	// SendCeilingVerifiedShare is the per cent of it kept for challenges to numbers
	// already verified on an account.
	SendDailyCeiling         int
	SendCeilingVerifiedShare int
	// SendPerRecipient is how many codes an hour one email address or phone number
	// may be sent (a shared duty phone may need more), SendPerRecipientDay how many
	// in a day; SendPerClient how many one client network may ask for in an hour
	// (an office behind one address needs more).
	SendPerRecipient    int
	SendPerRecipientDay int
	SendPerClient       int
	// EnrolNumbersPerDay is how many different numbers not yet verified one account
	// may try in a UTC day, EnrolSendsPerDay how many texts and calls to them it may
	// be sent in a day.
	EnrolNumbersPerDay int
	EnrolSendsPerDay   int
	// ContactText ends the sentences that send a person to a human for help, e.g.
	// "Try again in 5 hours, or contact the council's customer services".
	ContactText string
	// PasswordNetworkLimit wrong passwords an hour from one network are refused
	// past; from PasswordNetworkSlowdown each check waits longer (limits.Passwords).
	PasswordNetworkLimit    int
	PasswordNetworkSlowdown int

	// The Azure AD B2C ROPC user flow that checks the first password of an account
	// imported from B2C (README, "Moving from Azure AD B2C"): both empty when there
	// is none, and such accounts set a new password at their first sign-in.
	B2CROPCURL      string // IDP_B2C_ROPC_URL, the flow's token endpoint
	B2CROPCClientID string
	B2CROPCTimeout  time.Duration

	// TrustedProxies are the addresses of load balancers and reverse proxies in front
	// of the idp, whose X-Forwarded-For header is believed when finding a person's
	// address (per-address send limits, the audit log). Empty: the peer address.
	TrustedProxies []netip.Prefix
}

// Sends are the send budgets the login pages keep (limits.Sends).
func (c *Config) Sends() limits.Sends {
	return limits.Sends{
		PerRecipientHour: c.SendPerRecipient, PerRecipientDay: c.SendPerRecipientDay, PerClientHour: c.SendPerClient,
		EnrolNumbersDay: c.EnrolNumbersPerDay, EnrolSendsDay: c.EnrolSendsPerDay,
	}
}

// Ceiling is the daily ceiling of texts and calls and its shares (limits.Ceiling).
func (c *Config) Ceiling() limits.Ceiling {
	return limits.Ceiling{Daily: c.SendDailyCeiling, VerifiedShare: c.SendCeilingVerifiedShare}
}

// SMTPConfigured reports whether email goes to an SMTP relay.
func (c *Config) SMTPConfigured() bool { return c.SMTPURL != "" }

// VonageConfigured reports whether text messages and calls go through Vonage.
func (c *Config) VonageConfigured() bool { return c.VonageAPIKey != "" }

// Embedded reports whether the idp runs without external services: SQLite and the
// in-process ephemeral store.
func (c *Config) Embedded() bool {
	return c.DatabaseKind == DatabaseSQLite && c.RedisURL == ""
}

// DiscoveryURL is where relying parties find the OpenID Connect provider metadata.
func (c *Config) DiscoveryURL() string {
	return c.Issuer + "/.well-known/openid-configuration"
}

// HTTPS reports whether the issuer is served over https (and so HSTS applies).
func (c *Config) HTTPS() bool { return strings.HasPrefix(c.Issuer, "https://") }

// Setting describes one configuration setting, for usage text and documentation.
type Setting struct {
	Env     string // IDP_...
	Flag    string // without the leading dashes
	Default string // as text; "" when empty
	Usage   string
	bool    bool
}

// Settings lists every setting in the order they are documented.
var Settings = []Setting{
	{Env: "IDP_ADDR", Flag: "addr", Default: "localhost:8080", Usage: "listen address (host:port)"},
	{Env: "IDP_METRICS_ADDR", Flag: "metrics-addr", Default: "localhost:9090", Usage: "listen address (host:port) of the Prometheus /metrics endpoint, apart from the public one; off for none"},
	{Env: "IDP_ISSUER", Flag: "issuer", Default: "http://localhost:8080", Usage: "public base URL; https required unless the host is localhost"},
	{Env: "IDP_DATABASE_URL", Flag: "database-url", Default: "sqlite:./data/idp.db", Usage: "postgres://... or postgresql://... for PostgreSQL, sqlite:PATH for SQLite"},
	{Env: "IDP_REDIS_URL", Flag: "redis-url", Usage: "redis://... or rediss://...; empty keeps journeys in process"},
	{Env: "IDP_REDIS_PREFIX", Flag: "redis-prefix", Default: "idp:", Usage: "prefix of every Redis key, so that several deployments can share one Redis"},
	{Env: "IDP_DEV", Flag: "dev", Usage: "development mode: messages without a configured provider go to the dev inbox (default true when neither a database nor Redis is configured)", bool: true},
	{Env: "IDP_DEV_PEERS", Flag: "dev-peers", Usage: "development mode: comma-separated private addresses or CIDR ranges whose requests the dev inbox (/dev/...) answers besides loopback ones, e.g. 172.16.0.0/12 for a Docker published port; empty: loopback only"},
	{Env: "IDP_ORG_NAME", Flag: "org-name", Default: "Norfolk County Council", Usage: "organisation name in page titles and messages"},
	{Env: "IDP_LOG_FORMAT", Flag: "log-format", Default: "text", Usage: "text or json"},
	{Env: "IDP_LOG_LEVEL", Flag: "log-level", Default: "info", Usage: "debug, info, warn or error"},
	{Env: "IDP_KEY_ENCRYPTION_KEY", Flag: "key-encryption-key", Usage: "base64 of 32 random bytes sealing signing keys; required with PostgreSQL"},
	{Env: "IDP_CLIENTS_FILE", Flag: "clients-file", Usage: "file of statically registered clients"},
	{Env: "IDP_PHONE_CONFIRM_TWICE", Flag: "phone-confirm-twice", Default: "true", Usage: "verify a new phone number a second time", bool: true},
	{Env: "IDP_SIGNING_ALG", Flag: "signing-alg", Default: "RS256", Usage: "token signing algorithm: RS256 or ES256"},
	{Env: "IDP_ACCESS_TOKEN_TTL", Flag: "access-token-ttl", Default: "15m", Usage: "access token lifetime"},
	{Env: "IDP_ID_TOKEN_TTL", Flag: "id-token-ttl", Default: "15m", Usage: "ID token lifetime"},
	{Env: "IDP_REFRESH_TOKEN_TTL", Flag: "refresh-token-ttl", Default: "720h", Usage: "absolute refresh token lifetime (rotation does not extend it)"},
	{Env: "IDP_REFRESH_TOKEN_IDLE_TTL", Flag: "refresh-token-idle-ttl", Default: "72h", Usage: "a refresh token unused this long expires"},
	{Env: "IDP_REFRESH_TOKEN_REUSE_INTERVAL", Flag: "refresh-token-reuse-interval", Default: "30s", Usage: "for this long after a refresh its client may present the old refresh token again and get the same new one (a retry of a lost answer); 0s turns it off; at most 60s"},
	{Env: "IDP_SESSION_TTL", Flag: "session-ttl", Default: "8h", Usage: "single sign-on session lifetime (absolute: use does not extend it)"},
	{Env: "IDP_SESSION_IDLE_TTL", Flag: "session-idle-ttl", Default: "30m", Usage: "a single sign-on session no form app has used for this long ends (NIST SP 800-63B AAL2 inactivity); at most IDP_SESSION_TTL"},
	{Env: "IDP_BACKCHANNEL_RETRY_MAX", Flag: "backchannel-retry-max", Default: "1m", Usage: "longest wait between two attempts to tell a form app that is down that a session ended (back-channel logout); retries start after 1s and double"},
	{Env: "IDP_JOURNEY_TTL", Flag: "journey-ttl", Default: "1h", Usage: "lifetime of an unfinished sign-up or sign-in"},
	{Env: "IDP_JOURNEY_RESUME_IDLE", Flag: "journey-resume-idle", Default: "10m", Usage: "a new sign-in request starts again at Sign In when the browser's unfinished journey has been idle longer than this (shared computers)"},
	{Env: "IDP_SHUTDOWN_DRAIN", Flag: "shutdown-drain", Default: "5s", Usage: "after SIGTERM, keep serving this long with /readyz answering 503, so load balancers stop sending here; 0s stops at once"},
	{Env: "IDP_SMTP_URL", Flag: "smtp-url", Usage: "mail relay: smtp://user:pass@host:587 (STARTTLS), smtps://user:pass@host (TLS), smtp://host:1025?tls=none (a local relay such as Mailpit); required unless IDP_DEV"},
	{Env: "IDP_EMAIL_FROM", Flag: "email-from", Usage: "From address of emails, e.g. \"Norfolk County Council <no-reply@norfolk.gov.uk>\"; required with IDP_SMTP_URL"},
	{Env: "IDP_VONAGE_API_KEY", Flag: "vonage-api-key", Usage: "Vonage API key (text messages); the IDP_VONAGE_ settings are required unless IDP_DEV"},
	{Env: "IDP_VONAGE_API_SECRET", Flag: "vonage-api-secret", Usage: "Vonage API secret"},
	{Env: "IDP_VONAGE_APPLICATION_ID", Flag: "vonage-application-id", Usage: "Vonage application with the Voice capability (calls)"},
	{Env: "IDP_VONAGE_PRIVATE_KEY_FILE", Flag: "vonage-private-key-file", Usage: "the Vonage application's RSA private key file (PEM), signs Voice API requests"},
	{Env: "IDP_VONAGE_SIGNATURE_SECRET", Flag: "vonage-signature-secret", Usage: "Vonage signature secret, verifies signed webhooks"},
	{Env: "IDP_VONAGE_FROM", Flag: "vonage-from", Usage: "sender of text messages and calls: a sender id of up to 11 letters and digits, or a Vonage number in international format"},
	{Env: "IDP_VONAGE_REST_URL", Flag: "vonage-rest-url", Default: "https://rest.nexmo.com", Usage: "Vonage SMS API base URL"},
	{Env: "IDP_VONAGE_API_URL", Flag: "vonage-api-url", Default: "https://api.nexmo.com", Usage: "Vonage Voice API base URL"},
	{Env: "IDP_PHONE_COUNTRIES", Flag: "phone-countries", Default: limits.DefaultPhoneCountries, Usage: "comma-separated ISO 3166 regions whose phone numbers may be used (GB includes GG, IM and JE)"},
	{Env: "IDP_B2C_ROPC_URL", Flag: "b2c-ropc-url", Usage: "Azure AD B2C ROPC user flow token endpoint, https://<tenant>.b2clogin.com/<tenant>.onmicrosoft.com/<flow>/oauth2/v2.0/token, which checks the first password of accounts imported from B2C; empty: they set a new password at their first sign-in"},
	{Env: "IDP_B2C_ROPC_CLIENT_ID", Flag: "b2c-ropc-client-id", Usage: "application (client) id registered in B2C for the ROPC user flow; required with IDP_B2C_ROPC_URL"},
	{Env: "IDP_B2C_ROPC_TIMEOUT", Flag: "b2c-ropc-timeout", Default: "10s", Usage: "longest wait for B2C to check a password; past it the person is told their password cannot be checked right now"},
	{Env: "IDP_TRUSTED_PROXIES", Flag: "trusted-proxies", Usage: "comma-separated addresses or CIDR ranges of the load balancers in front of the idp, whose X-Forwarded-For is believed (e.g. 10.0.0.0/8); empty trusts none"},
	{Env: "IDP_SEND_DAILY_CEILING", Flag: "send-daily-ceiling", Default: strconv.Itoa(limits.DefaultDailyCeiling), Usage: "text messages and calls all servers may send in one UTC day; past it sending is refused and an alarm metric rises"},
	{Env: "IDP_SEND_CEILING_VERIFIED_SHARE", Flag: "send-ceiling-verified-share", Default: strconv.Itoa(limits.DefaultVerifiedShare), Usage: "per cent (0 to 99) of IDP_SEND_DAILY_CEILING kept for challenges to numbers already verified on an account; texts and calls to new numbers get the rest"},
	{Env: "IDP_SEND_HOURLY_PER_RECIPIENT", Flag: "send-hourly-per-recipient", Default: strconv.Itoa(limits.DefaultSendsPerRecipientHour), Usage: "codes (emails, texts, calls) one email address or phone number may be sent in an hour, at least " + strconv.Itoa(limits.MinSendsPerRecipientHour)},
	{Env: "IDP_SEND_DAILY_PER_RECIPIENT", Flag: "send-daily-per-recipient", Default: strconv.Itoa(limits.DefaultSendsPerRecipientDay), Usage: "codes one email address or phone number may be sent in 24 hours, at least IDP_SEND_HOURLY_PER_RECIPIENT (when not set, it is raised to IDP_SEND_HOURLY_PER_RECIPIENT if that is higher)"},
	{Env: "IDP_SEND_HOURLY_PER_CLIENT", Flag: "send-hourly-per-client", Default: strconv.Itoa(limits.DefaultSendsPerClientHour), Usage: "codes one client network (an IPv4 address, or an IPv6 /64; see IDP_TRUSTED_PROXIES) may ask for in an hour"},
	{Env: "IDP_ENROL_NUMBERS_PER_DAY", Flag: "enrol-numbers-per-day", Default: strconv.Itoa(limits.DefaultEnrolNumbersPerDay), Usage: "different phone numbers not yet verified that one account may try in a UTC day"},
	{Env: "IDP_ENROL_SENDS_PER_DAY", Flag: "enrol-sends-per-day", Default: strconv.Itoa(limits.DefaultEnrolSendsPerDay), Usage: "texts and calls one account may be sent in 24 hours to numbers not yet verified, at least " + strconv.Itoa(limits.MinEnrolSendsPerDay)},
	{Env: "IDP_CONTACT_TEXT", Flag: "contact-text", Default: "contact the council's customer services", Usage: "how a person gets help, ending sentences such as 'Try again in 5 hours, or ...'; e.g. \"call customer services on 01632 960 001\""},
	{Env: "IDP_PASSWORD_NETWORK_LIMIT", Flag: "password-network-limit", Default: strconv.Itoa(limits.DefaultPasswords().NetworkRefuseAfter), Usage: "wrong passwords in an hour, across all accounts, after which one network (an IPv4 address or IPv6 /64) is refused until the hour ends"},
	{Env: "IDP_PASSWORD_NETWORK_SLOWDOWN", Flag: "password-network-slowdown", Default: strconv.Itoa(limits.DefaultPasswords().NetworkSlowAfter), Usage: "wrong passwords in an hour from one network after which each further check waits longer (up to 3 s); at most IDP_PASSWORD_NETWORK_LIMIT"},
}

// Load reads the settings from args (flags) and getenv, flags winning, and validates
// them. The error is one line naming the setting. With -h or --help the error wraps
// flag.ErrHelp and the usage is not printed: callers print Usage themselves.
func Load(args []string, getenv func(string) string) (*Config, error) {
	return load(args, getenv, true)
}

// LoadAdmin is Load for commands that send nothing (idp migrate, clients, keys,
// outbox): the delivery settings are checked when given, but an SMTP relay and
// Vonage are not required without IDP_DEV, so an operator needs only the database
// settings.
func LoadAdmin(args []string, getenv func(string) string) (*Config, error) {
	return load(args, getenv, false)
}

func load(args []string, getenv func(string) string, requireDelivery bool) (*Config, error) {
	fs := flag.NewFlagSet("idp", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	build := bind(fs, getenv, requireDelivery)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w (run with -h for the list of settings)", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (settings are given as --name=value)", fs.Arg(0))
	}
	return build()
}

// Bind registers every setting as a flag on fs, so that a subcommand can add its own
// flags to the same set. After fs.Parse, the returned function validates and returns
// the configuration as Load does.
func Bind(fs *flag.FlagSet, getenv func(string) string) func() (*Config, error) {
	return bind(fs, getenv, true)
}

func bind(fs *flag.FlagSet, getenv func(string) string, requireDelivery bool) func() (*Config, error) {
	values := make([]*flagValue, len(Settings))
	for i, s := range Settings {
		v := &flagValue{bool: s.bool}
		values[i] = v
		fs.Var(v, s.Flag, s.Usage+" ("+s.Env+")")
	}
	return func() (*Config, error) {
		raw := make(map[string]rawValue, len(Settings))
		for i, s := range Settings {
			switch {
			case values[i].set:
				raw[s.Env] = rawValue{text: values[i].text, source: "--" + s.Flag, given: true}
			case getenv(s.Env) != "":
				raw[s.Env] = rawValue{text: getenv(s.Env), source: s.Env, given: true}
			default:
				raw[s.Env] = rawValue{text: s.Default, source: s.Env}
			}
		}
		return parse(raw, requireDelivery)
	}
}

// Usage writes the settings as a table of flags and variables.
func Usage(w io.Writer) {
	for _, s := range Settings {
		def := ""
		if s.Default != "" {
			def = " (default " + s.Default + ")"
		}
		fmt.Fprintf(w, "  --%s, %s\n        %s%s\n", s.Flag, s.Env, s.Usage, def)
	}
}

type rawValue struct {
	text   string
	source string // the variable or flag the value came from, for error messages
	given  bool   // false when it is the default
}

// flagValue records whether a flag was given at all, so that a flag set to its
// default value still wins over the environment.
type flagValue struct {
	text string
	set  bool
	bool bool
}

func (v *flagValue) String() string   { return v.text }
func (v *flagValue) IsBoolFlag() bool { return v.bool }
func (v *flagValue) Set(s string) error {
	v.text, v.set = s, true
	return nil
}

// settingError is the one-line error for a bad value.
func settingError(r rawValue, problem string) error {
	return fmt.Errorf("%s: %s (got %q)", r.source, problem, r.text)
}

// secretError is settingError for values that must not be echoed.
func secretError(r rawValue, problem string) error {
	return fmt.Errorf("%s: %s", r.source, problem)
}

func parse(raw map[string]rawValue, requireDelivery bool) (*Config, error) {
	c := &Config{}
	var err error

	if c.Addr, err = parseAddr(raw["IDP_ADDR"]); err != nil {
		return nil, err
	}
	if r := raw["IDP_METRICS_ADDR"]; !strings.EqualFold(strings.TrimSpace(r.text), "off") {
		if c.MetricsAddr, err = parseAddr(r); err != nil {
			return nil, err
		}
		if c.MetricsAddr == c.Addr {
			return nil, settingError(r, "must differ from IDP_ADDR: metrics are never served on the public listener")
		}
	}
	if c.Issuer, err = parseIssuer(raw["IDP_ISSUER"]); err != nil {
		return nil, err
	}
	if err = parseDatabase(raw["IDP_DATABASE_URL"], c); err != nil {
		return nil, err
	}
	if c.RedisURL, err = parseRedis(raw["IDP_REDIS_URL"]); err != nil {
		return nil, err
	}

	c.RedisPrefix = raw["IDP_REDIS_PREFIX"].text
	if c.RedisPrefix == "" || strings.ContainsAny(c.RedisPrefix, " \t\r\n*?[]") {
		return nil, settingError(raw["IDP_REDIS_PREFIX"], "must be a non-empty key prefix without spaces or glob characters, e.g. idp:")
	}

	// The dev inbox shows every code it captures, so development mode runs only with
	// an issuer on this machine: it is off by default otherwise, and refused if asked for.
	loopback := loopbackIssuer(c.Issuer)
	c.Dev = c.Embedded() && loopback
	if r := raw["IDP_DEV"]; r.given {
		if c.Dev, err = parseBool(r); err != nil {
			return nil, err
		}
		if c.Dev && !loopback {
			return nil, fmt.Errorf("%s: development mode shows every code in its dev inbox, so it needs IDP_ISSUER on localhost, "+
				"127.0.0.0/8 or ::1 (IDP_ISSUER is %s); turn it off and configure IDP_SMTP_URL and the IDP_VONAGE_ settings", r.source, c.Issuer)
		}
	}

	if c.DevPeers, err = parseDevPeers(raw["IDP_DEV_PEERS"]); err != nil {
		return nil, err
	}

	c.OrgName = strings.TrimSpace(raw["IDP_ORG_NAME"].text)
	if c.OrgName == "" {
		return nil, settingError(raw["IDP_ORG_NAME"], "must not be blank")
	}

	switch r := raw["IDP_LOG_FORMAT"]; strings.ToLower(r.text) {
	case "text", "json":
		c.LogFormat = strings.ToLower(r.text)
	default:
		return nil, settingError(r, "must be text or json")
	}
	switch r := raw["IDP_LOG_LEVEL"]; strings.ToLower(r.text) {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		return nil, settingError(r, "must be debug, info, warn or error")
	}

	if c.KeyEncryptionKey, err = parseKey(raw["IDP_KEY_ENCRYPTION_KEY"]); err != nil {
		return nil, err
	}
	if c.KeyEncryptionKey == nil && c.DatabaseKind == DatabasePostgres {
		return nil, errors.New("IDP_KEY_ENCRYPTION_KEY: required with PostgreSQL (base64 of 32 random bytes, e.g. from `openssl rand -base64 32`)")
	}

	if r := raw["IDP_CLIENTS_FILE"]; r.text != "" {
		fi, err := os.Stat(r.text)
		switch {
		case err != nil:
			reason := err.Error()
			var pe *fs.PathError
			if errors.As(err, &pe) {
				reason = pe.Err.Error()
			}
			return nil, settingError(r, "cannot read the file: "+reason)
		case !fi.Mode().IsRegular():
			return nil, settingError(r, "must be a regular file")
		}
		c.ClientsFile = r.text
	}

	if c.PhoneConfirmTwice, err = parseBool(raw["IDP_PHONE_CONFIRM_TWICE"]); err != nil {
		return nil, err
	}

	switch r := raw["IDP_SIGNING_ALG"]; strings.ToUpper(r.text) {
	case "RS256", "ES256":
		c.SigningAlg = strings.ToUpper(r.text)
	default:
		return nil, settingError(r, "must be RS256 or ES256")
	}

	durations := []struct {
		env string
		dst *time.Duration
	}{
		{"IDP_ACCESS_TOKEN_TTL", &c.AccessTokenTTL},
		{"IDP_ID_TOKEN_TTL", &c.IDTokenTTL},
		{"IDP_REFRESH_TOKEN_TTL", &c.RefreshTokenTTL},
		{"IDP_REFRESH_TOKEN_IDLE_TTL", &c.RefreshTokenIdleTTL},
		{"IDP_SESSION_TTL", &c.SessionTTL},
		{"IDP_SESSION_IDLE_TTL", &c.SessionIdleTTL},
		{"IDP_BACKCHANNEL_RETRY_MAX", &c.BackchannelRetryMax},
		{"IDP_JOURNEY_TTL", &c.JourneyTTL},
		{"IDP_JOURNEY_RESUME_IDLE", &c.JourneyResumeIdle},
	}
	for _, d := range durations {
		if *d.dst, err = parseDuration(raw[d.env]); err != nil {
			return nil, err
		}
	}
	if c.RefreshTokenIdleTTL > c.RefreshTokenTTL {
		return nil, settingError(raw["IDP_REFRESH_TOKEN_IDLE_TTL"],
			fmt.Sprintf("must not be longer than the absolute lifetime IDP_REFRESH_TOKEN_TTL (%s)", c.RefreshTokenTTL))
	}

	if idle := raw["IDP_SESSION_IDLE_TTL"]; c.SessionIdleTTL > c.SessionTTL {
		if idle.given {
			return nil, settingError(idle,
				fmt.Sprintf("must not be longer than the absolute lifetime IDP_SESSION_TTL (%s)", c.SessionTTL))
		}
		// The default under a shorter absolute lifetime: the absolute one is the limit.
		c.SessionIdleTTL = c.SessionTTL
	}

	if c.ShutdownDrain, err = parseDrain(raw["IDP_SHUTDOWN_DRAIN"]); err != nil {
		return nil, err
	}
	reuse := raw["IDP_REFRESH_TOKEN_REUSE_INTERVAL"]
	if c.RefreshTokenReuseInterval, err = time.ParseDuration(strings.TrimSpace(reuse.text)); err != nil ||
		c.RefreshTokenReuseInterval < 0 || c.RefreshTokenReuseInterval > time.Minute {
		// Longer would let a stolen spent token pass for its client's retry for longer.
		return nil, settingError(reuse, "must be a duration from 0s (off) to 60s")
	}

	if c.PhoneCountries, err = parseCountries(raw["IDP_PHONE_COUNTRIES"]); err != nil {
		return nil, err
	}
	r := raw["IDP_SEND_DAILY_CEILING"]
	if c.SendDailyCeiling, err = strconv.Atoi(strings.TrimSpace(r.text)); err != nil || c.SendDailyCeiling < 1 {
		return nil, settingError(r, "must be a whole number of messages, at least 1")
	}
	if c.SendCeilingVerifiedShare, err = parsePercent(raw["IDP_SEND_CEILING_VERIFIED_SHARE"]); err != nil {
		return nil, err
	}
	if c.SendPerRecipient, err = wholeAtLeast(raw["IDP_SEND_HOURLY_PER_RECIPIENT"], limits.MinSendsPerRecipientHour,
		fmt.Sprintf("at least %d: a sign-up sends the new number two codes", limits.MinSendsPerRecipientHour)); err != nil {
		return nil, err
	}
	if r := raw["IDP_SEND_DAILY_PER_RECIPIENT"]; r.given {
		if c.SendPerRecipientDay, err = wholeAtLeast(r, c.SendPerRecipient,
			fmt.Sprintf("at least IDP_SEND_HOURLY_PER_RECIPIENT (%d)", c.SendPerRecipient)); err != nil {
			return nil, err
		}
	} else if c.SendPerRecipientDay, err = wholeAtLeast(r, 1, "at least 1"); err != nil {
		return nil, err
	} else {
		// A deployment that raised the hourly budget (a duty phone) keeps it.
		c.SendPerRecipientDay = max(c.SendPerRecipientDay, c.SendPerRecipient)
	}
	if c.PasswordNetworkLimit, err = wholeAtLeast(raw["IDP_PASSWORD_NETWORK_LIMIT"], 1, "at least 1"); err != nil {
		return nil, err
	}
	if c.PasswordNetworkSlowdown, err = wholeAtLeast(raw["IDP_PASSWORD_NETWORK_SLOWDOWN"], 1, "at least 1"); err != nil {
		return nil, err
	}
	if c.PasswordNetworkSlowdown > c.PasswordNetworkLimit {
		return nil, settingError(raw["IDP_PASSWORD_NETWORK_SLOWDOWN"], fmt.Sprintf("must not be more than IDP_PASSWORD_NETWORK_LIMIT (%d)", c.PasswordNetworkLimit))
	}
	if c.SendPerClient, err = wholeAtLeast(raw["IDP_SEND_HOURLY_PER_CLIENT"], 1, "at least 1"); err != nil {
		return nil, err
	}
	if c.EnrolNumbersPerDay, err = wholeAtLeast(raw["IDP_ENROL_NUMBERS_PER_DAY"], 1, "at least 1"); err != nil {
		return nil, err
	}
	if c.EnrolSendsPerDay, err = wholeAtLeast(raw["IDP_ENROL_SENDS_PER_DAY"], limits.MinEnrolSendsPerDay,
		fmt.Sprintf("at least %d: enrolling a number takes two codes", limits.MinEnrolSendsPerDay)); err != nil {
		return nil, err
	}
	if c.ContactText, err = parseContactText(raw["IDP_CONTACT_TEXT"]); err != nil {
		return nil, err
	}
	if c.TrustedProxies, err = parseProxies(raw["IDP_TRUSTED_PROXIES"]); err != nil {
		return nil, err
	}
	if err := parseDelivery(raw, c, requireDelivery); err != nil {
		return nil, err
	}
	if err := parseB2C(raw, c); err != nil {
		return nil, err
	}
	return c, nil
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

// LogValue lets a Config be logged without its secrets: the database and Redis URLs
// (which may hold passwords) are reduced to their kind and host, and the
// key-encryption key to whether it is set.
func (c *Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.String("issuer", c.Issuer),
		slog.String("database", string(c.DatabaseKind)+" "+redactedHost(c.DatabaseURL, c.SQLitePath)),
		slog.String("redis", redactedHost(c.RedisURL, "")),
		slog.Bool("dev", c.Dev),
		slog.Any("dev_peers", c.DevPeers),
		slog.String("org_name", c.OrgName),
		slog.Bool("key_encryption_key_set", c.KeyEncryptionKey != nil),
		slog.String("signing_alg", c.SigningAlg),
		slog.String("smtp", redactedHost(c.SMTPURL, "")),
		slog.String("vonage", c.vonageSummary()),
		slog.Any("phone_countries", c.PhoneCountries),
		slog.Any("trusted_proxies", c.TrustedProxies),
		slog.Int("send_daily_ceiling", c.SendDailyCeiling),
		slog.Int("send_ceiling_verified_share", c.SendCeilingVerifiedShare),
		slog.Int("send_hourly_per_recipient", c.SendPerRecipient),
		slog.Int("send_daily_per_recipient", c.SendPerRecipientDay),
		slog.Int("send_hourly_per_client", c.SendPerClient),
		slog.Int("enrol_numbers_per_day", c.EnrolNumbersPerDay),
		slog.Int("enrol_sends_per_day", c.EnrolSendsPerDay),
		slog.Duration("shutdown_drain", c.ShutdownDrain),
	)
}

// vonageSummary names the Vonage application in logs, never a secret.
func (c *Config) vonageSummary() string {
	if !c.VonageConfigured() {
		return "none"
	}
	return "application " + c.VonageApplicationID + " from " + c.VonageFrom
}

// redactedHost returns the host of a service URL, or path when it is a file.
func redactedHost(raw, path string) string {
	if path != "" {
		return path
	}
	if raw == "" {
		return "none"
	}
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return "(set)"
}
