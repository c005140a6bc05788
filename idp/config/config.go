package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/councilforms/idp/idp/cost"
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
	// Pprof serves /debug/pprof/ on MetricsAddr (IDP_PPROF).
	Pprof bool
	// AdminAddr is where the operators' console is served, host:port, never on
	// Addr; empty when IDP_ADMIN_ADDR is off.
	AdminAddr string
	// AdminURL is the console's base URL as browsers see it, without a trailing
	// slash; empty when the console is off.
	AdminURL string
	// AdminIdleTimeout ends a console session unused this long (its absolute
	// cap is 8 hours).
	AdminIdleTimeout time.Duration

	DatabaseURL  string       // as given (may hold a password: never log it)
	DatabaseKind DatabaseKind // postgres or sqlite
	SQLitePath   string       // the PATH of sqlite:PATH; empty for postgres
	RedisURL     string       // empty selects the in-process ephemeral store
	RedisPrefix  string       // starts every Redis key the idp writes

	Dev     bool   // messages are captured in the dev inbox instead of being sent
	OrgName string // organisation name in page titles and messages
	// HeaderColour is the header's background, "#rrggbb", checked for contrast
	// with white text; empty for GOV.UK Frontend's.
	HeaderColour string
	// Logo is the header's image; zero for the organisation name in text.
	Logo Logo
	// DevPeers are private ranges whose requests the dev inbox answers besides
	// loopback peers (a Docker published port forwards from the bridge network).
	DevPeers []netip.Prefix

	LogFormat string     // text or json
	LogLevel  slog.Level // debug, info, warn or error

	// KeyEncryptionKey seals signing keys at rest: 32 bytes, or nil when not set
	// (allowed with SQLite only: the app then keeps a generated key next to the database).
	KeyEncryptionKey []byte
	ClientsFile      string // static clients file; empty for none

	PhoneConfirmTwice bool // ask for a second phone verification after enrolment
	// PhoneRecovery turns on the self-service change of a lost phone number;
	// PhoneRecoveryWait is how long the new number waits before it takes effect.
	PhoneRecovery     bool
	PhoneRecoveryWait time.Duration
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
	// AuditRetention is how long the audit log keeps an event.
	AuditRetention    time.Duration
	JourneyTTL        time.Duration // an unfinished sign-up or sign-in journey
	JourneyResumeIdle time.Duration // idle longer than this, a journey is not offered to a new sign-in request

	// ShutdownDrain is how long the server keeps serving after SIGTERM while /readyz
	// says 503, so that load balancers take it out before it stops accepting; zero
	// stops at once.
	ShutdownDrain time.Duration

	// MemoryLimit is the soft limit on the server's memory that it gives the Go
	// runtime at start (bytes), with a garbage collection pace to match (see
	// app.SetGCPolicy): MemoryLimitAuto works it out from the password hash queue,
	// MemoryLimitOff leaves the runtime's defaults.
	MemoryLimit int64

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
	// SMSUnitCost and CallUnitCost price a text message and a call in the
	// cost report (IDP_SMS_UNIT_COST, IDP_CALL_UNIT_COST); zero when not set.
	SMSUnitCost, CallUnitCost cost.Millipence
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
	// ContactTextWelsh and ContactHoursWelsh are ContactText and ContactHours
	// on the Welsh pages, emails and messages; empty uses the English (or, for
	// the built-in ContactText, its Welsh).
	ContactTextWelsh  string
	ContactHoursWelsh string
	// ContactPhone, ContactEmail and ContactHours are the council's help line
	// and address, shown on the contact, help and refusal pages; each may be
	// empty.
	ContactPhone string
	ContactEmail string
	ContactHours string
	// PrivacyURL and AccessibilityURL are the organisation's privacy notice and
	// accessibility statement (the footer links); empty shows built-in pages
	// saying to ask the council.
	PrivacyURL       string
	AccessibilityURL string
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

	// The B2C tenant and the Graph app registration `idp users import
	// --from-graph` reads accounts with; only that command needs them.
	B2CTenant            string // IDP_B2C_TENANT
	B2CGraphClientID     string
	B2CGraphClientSecret string // secret
	B2CAuthorityURL      string // Microsoft's sign-in base URL (tests change it)
	B2CGraphURL          string // Microsoft Graph's base URL (tests change it)

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

// UnitCosts are the prices of the cost report.
func (c *Config) UnitCosts() cost.Prices {
	return cost.Prices{SMS: c.SMSUnitCost, Call: c.CallUnitCost}
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
		fs.Var(v, s.Flag, s.Env+": "+firstSentence(plainText(s.Doc)))
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

// parsing is one Load in progress: the Config being filled, in the order of Settings.
type parsing struct {
	c               *Config
	raw             map[string]rawValue // every setting's value, by Env
	requireDelivery bool
}

func parse(raw map[string]rawValue, requireDelivery bool) (*Config, error) {
	p := &parsing{c: &Config{}, raw: raw, requireDelivery: requireDelivery}
	for _, s := range Settings {
		if err := s.parse(p, raw[s.Env]); err != nil {
			return nil, err
		}
	}
	// The delivery settings go together (all of Vonage or none; SMTP unless IDP_DEV).
	if err := checkDelivery(p); err != nil {
		return nil, err
	}
	// The B2C user flow's URL and client id go together.
	if err := checkB2C(p); err != nil {
		return nil, err
	}
	return p.c, nil
}

// LogValue lets a Config be logged without its secrets: the database and Redis URLs
// (which may hold passwords) are reduced to their kind and host, and the
// key-encryption key to whether it is set.
func (c *Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.Bool("pprof", c.Pprof),
		slog.String("admin_addr", c.AdminAddr),
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
		slog.Int64("memory_limit", c.MemoryLimit),
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
