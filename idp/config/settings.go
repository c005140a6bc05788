package config

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/councilforms/idp/idp/cost"
	"github.com/councilforms/idp/idp/limits"
)

// Setting is one configuration setting: its names, its default, its documentation
// and how its value is read into a Config. Settings is the only list of them: the
// flags, the environment variables, `idp help` and the README's configuration
// tables are all made from it (a test keeps the README in step).
type Setting struct {
	Env     string // IDP_...
	Flag    string // without the leading dashes: Env without IDP_, lower case, - for _
	Default string // the value when neither the flag nor the variable is given; "" for empty
	// DefaultDoc describes the default when it is not one value (IDP_DEV depends on
	// other settings); "" shows Default.
	DefaultDoc string
	// Doc says what the setting does, in Markdown (a cell of the README's table;
	// `idp help` prints it as plain text).
	Doc     string
	Section section // which README table lists it
	bool    bool    // a bare --flag means true

	// parse reads the value (the flag, the variable or Default) into p.c, or
	// returns the one-line error naming where the value came from (settingError).
	// It may read settings listed before it in Settings, never after.
	parse func(p *parsing, r rawValue) error
}

// section is a README table of settings.
type section string

const (
	sectionGeneral  section = "general"  // ## Configuration
	sectionDelivery section = "delivery" // ## Delivering email, text messages and calls
)

// Settings lists every setting, in the order they are documented and parsed.
var Settings = []Setting{
	{Env: "IDP_ADDR", Flag: "addr", Default: "localhost:8080", Section: sectionGeneral,
		Doc:   "listen address (`host:port`; `:8080` for every interface)",
		parse: func(p *parsing, r rawValue) (err error) { p.c.Addr, err = parseAddr(r); return }},
	{Env: "IDP_METRICS_ADDR", Flag: "metrics-addr", Default: "localhost:9090", Section: sectionGeneral,
		Doc:   "listen address of the Prometheus `/metrics` endpoint, a listener of its own (`:9090` for every interface, as in a Kubernetes pod, where Prometheus scrapes the pod and no Service the ingress uses names the port); `off` for none. Never the public `IDP_ADDR`, which answers `/metrics` with 404. In use at start: `idp serve` stops (exit status 1) with one line naming the setting",
		parse: parseMetricsAddr},
	{Env: "IDP_PPROF", Flag: "pprof", Default: "false", Section: sectionGeneral, bool: true,
		Doc:   "serves Go's profiler (`/debug/pprof/`: CPU profile, heap, goroutines) on `IDP_METRICS_ADDR` beside `/metrics`, never on the public `IDP_ADDR`, for an operator measuring where the CPU goes (`go tool pprof http://localhost:9090/debug/pprof/profile?seconds=30`); refused at start when `IDP_METRICS_ADDR` is `off`. A profile names functions and counts, never a request's data",
		parse: parsePprof},
	{Env: "IDP_ISSUER", Flag: "issuer", Default: "http://localhost:8080", Section: sectionGeneral,
		Doc:   "public base URL, the OIDC issuer; absolute, no query or fragment; `https` unless the host is `localhost`, `127.0.0.1` or `::1`. An `https` issuer turns on HSTS",
		parse: func(p *parsing, r rawValue) (err error) { p.c.Issuer, err = parseIssuer(r); return }},
	{Env: "IDP_ADMIN_ADDR", Flag: "admin-addr", Default: "localhost:8082", Section: sectionGeneral,
		Doc:   "listen address of the [operators' console](#operators-console), a listener of its own that no ingress routes to (reach it by port-forward); `off` for none. Never the public `IDP_ADDR`",
		parse: parseAdminAddr},
	{Env: "IDP_ADMIN_URL", Flag: "admin-url", DefaultDoc: "`http://` and `IDP_ADMIN_ADDR` (`localhost` for an empty host or every interface)", Section: sectionGeneral,
		Doc:   "the operators' console's base URL as operators' browsers reach it (its sign-in callback is this URL and `/callback`); `https` unless the host is `localhost`, `127.0.0.1` or `::1`",
		parse: parseAdminURL},
	{Env: "IDP_ADMIN_IDLE_TIMEOUT", Flag: "admin-idle-timeout", Default: "30m", Section: sectionGeneral,
		Doc:   "a console session ends when it has served no request for this long (the operator signs in again); however busy, it ends 8 hours after its sign-in; at most `8h`",
		parse: parseAdminIdle},
	{Env: "IDP_DATABASE_URL", Flag: "database-url", Default: "sqlite:./data/idp.db", Section: sectionGeneral,
		Doc:   "`postgres://...` or `postgresql://...` selects PostgreSQL; `sqlite:PATH` selects SQLite",
		parse: func(p *parsing, r rawValue) error { return parseDatabase(r, p.c) }},
	{Env: "IDP_REDIS_URL", Flag: "redis-url", Section: sectionGeneral,
		Doc:   "`redis://[user:password@]host:port/db` (`rediss://` for TLS, or `unix://...`); Sentinel: `redis://sentinel1:26379?master_name=M&addr=sentinel2:26379`; Cluster: `redis://node1:6379?addr=node2:6379&addr=node3:6379`. Empty keeps journeys, codes and rate limits in process (one instance only)",
		parse: func(p *parsing, r rawValue) (err error) { p.c.RedisURL, err = parseRedis(r); return }},
	{Env: "IDP_REDIS_PREFIX", Flag: "redis-prefix", Default: "idp:", Section: sectionGeneral,
		Doc:   "prefix of every Redis key, so several deployments can share a Redis",
		parse: parseRedisPrefix},
	{Env: "IDP_DEV", Flag: "dev", Section: sectionGeneral, bool: true,
		DefaultDoc: "`true` with SQLite, no Redis and an issuer on this machine, else `false`",
		Doc:        "development mode: messages on a channel with no provider configured (SMTP for email, Vonage for texts and calls) go to the dev inbox instead of being sent, and Ofcom's drama-range numbers are accepted. Off, both providers are required (see [Delivering email, text messages and calls](#delivering-email-text-messages-and-calls)). The dev inbox shows every code, so `IDP_DEV=true` is refused at start (exit status 2, one line naming `IDP_DEV`) unless the `IDP_ISSUER` host is `localhost`, in `127.0.0.0/8` or `::1`, and `/dev/...` answers only requests whose peer (the connection's address, never `X-Forwarded-For`) is loopback or in `IDP_DEV_PEERS`; anyone else gets 403",
		parse:      parseDev},
	{Env: "IDP_DEV_PEERS", Flag: "dev-peers", Section: sectionGeneral,
		Doc:   "development mode only: comma-separated addresses or CIDR ranges, each inside a private range (`10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, `fc00::/7`), whose requests the dev inbox answers besides loopback ones. A Docker published port forwards a browser on the host from the bridge network's gateway: the compose stack sets `172.16.0.0/12,192.168.0.0/16` and publishes its ports on `127.0.0.1` only",
		parse: func(p *parsing, r rawValue) (err error) { p.c.DevPeers, err = parseDevPeers(r); return }},
	{Env: "IDP_ORG_NAME", Flag: "org-name", Default: "Norfolk County Council", Section: sectionGeneral,
		Doc:   "organisation name in page titles and messages",
		parse: parseOrgName},
	{Env: "IDP_HEADER_COLOUR", Flag: "header-colour", Section: sectionGeneral,
		Doc:   "the pages' header background, `#rrggbb` (e.g. the council's brand colour `#00703c`); it must give white text at least the WCAG AA contrast of 4.5:1, or the server does not start. Empty: GOV.UK Frontend's own",
		parse: func(p *parsing, r rawValue) (err error) { p.c.HeaderColour, err = parseHeaderColour(r); return }},
	{Env: "IDP_LOGO", Flag: "logo", Section: sectionGeneral,
		Doc:   "the organisation's logo in the pages' header, instead of its name in text: the path of a PNG, SVG or JPEG file of at most 256 KB, or an `https://` address of one (plain `http` only on a loopback host, for tests), read or fetched once at start and served by the idp at `/branding/logo`: the pages show images from the idp itself only, so a person's browser never asks another site for it. A file that cannot be read is refused at start; an address that cannot be fetched at start leaves the organisation's name in the header, with an error in the log. Its alternative text is `IDP_ORG_NAME`",
		parse: func(p *parsing, r rawValue) (err error) { p.c.Logo, err = parseLogo(r); return }},
	{Env: "IDP_CONTACT_TEXT", Flag: "contact-text", Default: "contact the council's customer services", Section: sectionGeneral,
		Doc:   "how a person gets help from a human, ending sentences such as \"Try again in 5 hours, or contact the council's customer services\" (shown when an account has tried too many new phone numbers, the day's texts and calls are spent, or too many wrong codes have locked an address's or number's codes). One line, at most 200 characters, e.g. `call customer services on 01632 960 001`. Also the contact details' sentence (\"To get help, ...\") when neither `IDP_CONTACT_PHONE` nor `IDP_CONTACT_EMAIL` is set",
		parse: func(p *parsing, r rawValue) (err error) { p.c.ContactText, err = parseContactText(r); return }},
	{Env: "IDP_CONTACT_TEXT_CY", Flag: "contact-text-cy", Section: sectionGeneral,
		Doc: "`IDP_CONTACT_TEXT` in Welsh, for a person using the pages in Welsh (their pages, emails and messages), e.g. `ffoniwch y gwasanaethau cwsmeriaid ar 01632 960 001`; empty uses `IDP_CONTACT_TEXT` as it is, or its Welsh when `IDP_CONTACT_TEXT` is the built-in default. Also ends the account-lock message",
		parse: func(p *parsing, r rawValue) (err error) {
			if strings.TrimSpace(r.text) == "" {
				return nil
			}
			p.c.ContactTextWelsh, err = parseContactText(r)
			return
		}},
	{Env: "IDP_CONTACT_PHONE", Flag: "contact-phone", Section: sectionGeneral,
		Doc:   "the council's help telephone number, shown in the footer's contact page, the 'Problems signing in' and lost-phone pages and every page that says to contact the council, e.g. `01632 960 001`; empty leaves it out (the pages then say to contact the council through its website). Digits, spaces, `+`, `(` and `)`, at most 30 characters",
		parse: func(p *parsing, r rawValue) (err error) { p.c.ContactPhone, err = parseContactPhone(r); return }},
	{Env: "IDP_CONTACT_EMAIL", Flag: "contact-email", Section: sectionGeneral,
		Doc:   "the council's help email address, shown beside `IDP_CONTACT_PHONE`; empty leaves it out",
		parse: func(p *parsing, r rawValue) (err error) { p.c.ContactEmail, err = parseContactEmail(r); return }},
	{Env: "IDP_CONTACT_HOURS", Flag: "contact-hours", Section: sectionGeneral,
		Doc: "when the telephone line is open, shown under the number, e.g. `Monday to Friday, 9am to 5pm`; one line, at most 200 characters; empty leaves it out",
		parse: func(p *parsing, r rawValue) (err error) {
			p.c.ContactHours, err = parseOneLine(r, maxContactText)
			return
		}},
	{Env: "IDP_CONTACT_HOURS_CY", Flag: "contact-hours-cy", Section: sectionGeneral,
		Doc: "`IDP_CONTACT_HOURS` in Welsh, e.g. `Dydd Llun i ddydd Gwener, 9am i 5pm`; empty uses `IDP_CONTACT_HOURS` as it is",
		parse: func(p *parsing, r rawValue) (err error) {
			p.c.ContactHoursWelsh, err = parseOneLine(r, maxContactText)
			return
		}},
	{Env: "IDP_PRIVACY_URL", Flag: "privacy-url", Section: sectionGeneral,
		Doc:   "the organisation's privacy notice (`https://...`), the footer's 'Privacy' link. Empty: the link goes to a built-in page saying to ask the council for it, and outside development mode the server warns at start",
		parse: func(p *parsing, r rawValue) (err error) { p.c.PrivacyURL, err = parsePageURL(r); return }},
	{Env: "IDP_ACCESSIBILITY_URL", Flag: "accessibility-url", Section: sectionGeneral,
		Doc:   "the service's accessibility statement (`https://...`), which the Public Sector Bodies Accessibility Regulations 2018 require, the footer's 'Accessibility statement' link. Empty: the link goes to a built-in page saying to ask the council for it, and outside development mode the server warns at start",
		parse: func(p *parsing, r rawValue) (err error) { p.c.AccessibilityURL, err = parsePageURL(r); return }},
	{Env: "IDP_LOG_FORMAT", Flag: "log-format", Default: "text", Section: sectionGeneral,
		Doc:   "`text` or `json`",
		parse: parseLogFormat},
	{Env: "IDP_LOG_LEVEL", Flag: "log-level", Default: "info", Section: sectionGeneral,
		Doc:   "`debug`, `info`, `warn` or `error`",
		parse: parseLogLevel},
	{Env: "IDP_KEY_ENCRYPTION_KEY", Flag: "key-encryption-key", Section: sectionGeneral,
		Doc:   "base64 of 32 random bytes (`openssl rand -base64 32`) sealing signing keys at rest and keying the client-secret hashes (HMAC-SHA-256): with another key every registered client secret stops working. Required with PostgreSQL, for the server and the admin commands alike. With SQLite, when empty, a key is generated once into `key-encryption-key` next to the database file (with a warning): back it up with the database",
		parse: parseKeyEncryptionKey},
	{Env: "IDP_CLIENTS_FILE", Flag: "clients-file", Section: sectionGeneral,
		Doc:   "YAML or JSON file of statically registered clients, secrets as `${VARIABLE}` (see [Integrating a form app](#integrating-a-form-app)); the file must exist",
		parse: parseClientsFile},
	{Env: "IDP_PHONE_CONFIRM_TWICE", Flag: "phone-confirm-twice", Default: "true", Section: sectionGeneral, bool: true,
		Doc:   "after enrolling a phone, verify it a second time, as the login guide says",
		parse: func(p *parsing, r rawValue) (err error) { p.c.PhoneConfirmTwice, err = parseBool(r); return }},
	{Env: "IDP_PHONE_RECOVERY", Flag: "phone-recovery", Default: "false", Section: sectionGeneral, bool: true,
		Doc:   "lets a person who has lost their phone change the number themselves: 'I cannot use this phone number' on 'Confirm it is you' (after the password) offers 'Change your phone number yourself': a code to the account's email address, then the new number proven by text or call. The new number takes effect after `IDP_PHONE_RECOVERY_WAIT`, announced at once by email to the account with the contact details; until then sign-in still asks the old number, and signing in with it or a support reset of the phone cancels the change. Off, the route is refused",
		parse: func(p *parsing, r rawValue) (err error) { p.c.PhoneRecovery, err = parseBool(r); return }},
	{Env: "IDP_PHONE_RECOVERY_WAIT", Flag: "phone-recovery-wait", Default: "72h", Section: sectionGeneral,
		Doc: "how long a number changed through `IDP_PHONE_RECOVERY` waits before it replaces the account's phone, so the account's owner can read the email and contact the council; at least `1h`",
		parse: func(p *parsing, r rawValue) error {
			d, err := parseDuration(r)
			if err == nil && d < time.Hour {
				err = settingError(r, "must be at least 1h (the account's owner needs time to read the email and stop the change)")
			}
			p.c.PhoneRecoveryWait = d
			return err
		}},
	{Env: "IDP_SIGNING_ALG", Flag: "signing-alg", Default: "RS256", Section: sectionGeneral,
		Doc:   "default ID token signing algorithm, `RS256` or `ES256`, for clients that registered none (`id_token_signed_response_alg`); a key of each algorithm is kept and published either way",
		parse: parseSigningAlg},
	{Env: "IDP_ACCESS_TOKEN_TTL", Flag: "access-token-ttl", Default: "15m", Section: sectionGeneral,
		Doc:   "access token lifetime",
		parse: duration(func(c *Config) *time.Duration { return &c.AccessTokenTTL })},
	{Env: "IDP_ID_TOKEN_TTL", Flag: "id-token-ttl", Default: "15m", Section: sectionGeneral,
		Doc:   "ID token lifetime",
		parse: duration(func(c *Config) *time.Duration { return &c.IDTokenTTL })},
	{Env: "IDP_REFRESH_TOKEN_TTL", Flag: "refresh-token-ttl", Default: "720h", Section: sectionGeneral,
		Doc:   "absolute lifetime of a refresh token family (rotation does not extend it)",
		parse: duration(func(c *Config) *time.Duration { return &c.RefreshTokenTTL })},
	{Env: "IDP_REFRESH_TOKEN_IDLE_TTL", Flag: "refresh-token-idle-ttl", Default: "72h", Section: sectionGeneral,
		Doc:   "a refresh token unused this long expires; at most `IDP_REFRESH_TOKEN_TTL`",
		parse: parseRefreshIdle},
	{Env: "IDP_REFRESH_TOKEN_REUSE_INTERVAL", Flag: "refresh-token-reuse-interval", Default: "30s", Section: sectionGeneral,
		Doc:   "for this long after a refresh, the same client presenting the old refresh token again gets the same new one (a retry of an answer it never received) instead of the whole chain being revoked; `0s` turns it off; at most `60s`",
		parse: parseReuseInterval},
	{Env: "IDP_SESSION_TTL", Flag: "session-ttl", Default: "8h", Section: sectionGeneral,
		Doc:   "absolute lifetime of the single sign-on session: using it does not extend it, after this a person signs in again",
		parse: duration(func(c *Config) *time.Duration { return &c.SessionTTL })},
	{Env: "IDP_SESSION_IDLE_TTL", Flag: "session-idle-ttl", Default: "30m", Section: sectionGeneral,
		Doc:   "the single sign-on session ends when no form app has used it (a sign-in that came straight back with a code, the account pages) for this long, as NIST SP 800-63B asks for AAL2; at most `IDP_SESSION_TTL` (the default becomes `IDP_SESSION_TTL` when that is shorter). A form app's own session and its refresh tokens are not affected: they have their own lifetimes",
		parse: parseSessionIdle},
	{Env: "IDP_BACKCHANNEL_RETRY_MAX", Flag: "backchannel-retry-max", Default: "1m", Section: sectionGeneral,
		Doc:   "longest wait between two attempts to tell a form app that is down that a session ended ([back-channel logout](#back-channel-logout)); the first retry comes after a second and each later one waits twice as long, for a day",
		parse: duration(func(c *Config) *time.Duration { return &c.BackchannelRetryMax })},
	{Env: "IDP_AUDIT_RETENTION", Flag: "audit-retention", Default: "9600h", Section: sectionGeneral,
		Doc: "how long the audit log keeps an event: `9600h` is 400 days; every server deletes older events at start and every hour after, and with them the refresh tokens of every family no longer usable (past `IDP_REFRESH_TOKEN_TTL` or `IDP_REFRESH_TOKEN_IDLE_TTL`, revoked ones too, once expired; a live family keeps its spent tokens, so their reuse is still caught); at least `24h`",
		parse: func(p *parsing, r rawValue) error {
			d, err := parseDuration(r)
			if err == nil && d < 24*time.Hour {
				err = settingError(r, "must be at least 24h (the audit log is the record of who did what)")
			}
			p.c.AuditRetention = d
			return err
		}},
	{Env: "IDP_JOURNEY_TTL", Flag: "journey-ttl", Default: "1h", Section: sectionGeneral,
		Doc:   "lifetime of an unfinished sign-up or sign-in",
		parse: duration(func(c *Config) *time.Duration { return &c.JourneyTTL })},
	{Env: "IDP_JOURNEY_RESUME_IDLE", Flag: "journey-resume-idle", Default: "10m", Section: sectionGeneral,
		Doc:   "following a form's sign-in link again in the same browser resumes an unfinished journey; one that holds something proven (a password, a phone check, a verified email address) is first shown as \"You have already started signing in\" with its masked email, 'Continue' and 'Start again', and one idle longer than this starts again at Sign In (shared computers). The journey cookie ends when the browser closes",
		parse: duration(func(c *Config) *time.Duration { return &c.JourneyResumeIdle })},
	{Env: "IDP_B2C_ROPC_URL", Flag: "b2c-ropc-url", Section: sectionGeneral,
		Doc:   "while accounts move from Azure AD B2C: the token endpoint of the tenant's ROPC user flow, `https://<tenant>.b2clogin.com/<tenant>.onmicrosoft.com/<flow>/oauth2/v2.0/token` (or `.../oauth2/v2.0/token?p=<flow>`), which checks the password of an imported account at its first sign-in here (see [Moving from Azure AD B2C](#moving-from-azure-ad-b2c)); `https` (plain `http` only on a loopback host, for tests). Empty: imported accounts set a new password at their first sign-in",
		parse: text(func(c *Config) *string { return &c.B2CROPCURL })},
	{Env: "IDP_B2C_ROPC_CLIENT_ID", Flag: "b2c-ropc-client-id", Section: sectionGeneral,
		Doc:   "the application (client) id registered in B2C for that user flow; required with `IDP_B2C_ROPC_URL`, and the one without the other stops the start",
		parse: text(func(c *Config) *string { return &c.B2CROPCClientID })},
	{Env: "IDP_B2C_ROPC_TIMEOUT", Flag: "b2c-ropc-timeout", Default: "10s", Section: sectionGeneral,
		Doc:   "longest wait for B2C to check one password (its discovery document and keys included); past it the person sees \"We cannot check your password right now\"",
		parse: duration(func(c *Config) *time.Duration { return &c.B2CROPCTimeout })},
	{Env: "IDP_B2C_TENANT", Flag: "b2c-tenant", Section: sectionGeneral,
		Doc:   "for `idp users import --from-graph` only: the B2C tenant's domain or id (`contoso.onmicrosoft.com`); the server does not use it",
		parse: text(func(c *Config) *string { return &c.B2CTenant })},
	{Env: "IDP_B2C_GRAPH_CLIENT_ID", Flag: "b2c-graph-client-id", Section: sectionGeneral,
		Doc:   "for `idp users import --from-graph` only: the application (client) id of an app registration in the tenant with the Microsoft Graph application permissions `User.Read.All` and `UserAuthenticationMethod.Read.All`",
		parse: text(func(c *Config) *string { return &c.B2CGraphClientID })},
	{Env: "IDP_B2C_GRAPH_CLIENT_SECRET", Flag: "b2c-graph-client-secret", Section: sectionGeneral,
		Doc:   "for `idp users import --from-graph` only: that app registration's client secret (never logged)",
		parse: text(func(c *Config) *string { return &c.B2CGraphClientSecret })},
	{Env: "IDP_B2C_AUTHORITY_URL", Flag: "b2c-authority-url", Default: "https://login.microsoftonline.com", Section: sectionGeneral,
		Doc:   "for `idp users import --from-graph`: the base URL of Microsoft's token endpoint; `https` (plain `http` only on a loopback host, for tests)",
		parse: func(p *parsing, r rawValue) (err error) { p.c.B2CAuthorityURL, err = parseIssuer(r); return }},
	{Env: "IDP_B2C_GRAPH_URL", Flag: "b2c-graph-url", Default: "https://graph.microsoft.com", Section: sectionGeneral,
		Doc:   "for `idp users import --from-graph`: the base URL of Microsoft Graph; `https` (plain `http` only on a loopback host, for tests)",
		parse: func(p *parsing, r rawValue) (err error) { p.c.B2CGraphURL, err = parseIssuer(r); return }},
	{Env: "IDP_TRUSTED_PROXIES", Flag: "trusted-proxies", Section: sectionGeneral,
		Doc:   "comma-separated addresses or CIDR ranges of the load balancers in front of the idp (e.g. `10.0.0.0/8`); their `X-Forwarded-For` gives a person's (or form app's) address for the per-client send budget, the limits on wrong passwords and wrong client secrets (see [Limits](#limits)) and the audit log. Empty: the peer address is used",
		parse: func(p *parsing, r rawValue) (err error) { p.c.TrustedProxies, err = parseProxies(r); return }},
	{Env: "IDP_SHUTDOWN_DRAIN", Flag: "shutdown-drain", Default: "5s", Section: sectionGeneral,
		Doc:   "after SIGTERM, keep serving this long with `/readyz` answering 503, so load balancers stop sending here before the server stops accepting (see [Stopping](#stopping)); `0s` stops at once; at most `5m`",
		parse: func(p *parsing, r rawValue) (err error) { p.c.ShutdownDrain, err = parseDrain(r); return }},
	{Env: "IDP_MEMORY_LIMIT", Flag: "memory-limit", Default: "auto", Section: sectionGeneral,
		Doc:   "the soft limit on the server's memory that it gives the Go runtime at start, with garbage collected less often below it (see [Memory](#memory)): `auto` is 64 MiB plus room for as many argon2id hashes (19 MiB each) as the password hash queue holds, five per core (254 MiB on 2 cores), at most nine tenths of the container's memory limit; a size such as `512MiB` or `1GiB` (at least `64MiB`); `off` leaves the Go runtime's defaults. `GOMEMLIMIT` and `GOGC`, when set, win over it",
		parse: func(p *parsing, r rawValue) (err error) { p.c.MemoryLimit, err = parseMemoryLimit(r); return }},
	{Env: "IDP_SMTP_URL", Flag: "smtp-url", Section: sectionDelivery,
		Doc:   "the mail relay, user and password URL-encoded (`@` is `%40`): `smtp://user:pass@host:587` STARTTLS, required; `smtps://user:pass@host` TLS from the start (port 465); `smtp://host:25?tls=opportunistic` STARTTLS when offered; `smtp://mailpit:1025?tls=none` no TLS and no credentials, for a relay on a private network such as Mailpit. On `localhost` STARTTLS is used when offered; credentials are never sent in clear to any other host. `?helo=name` sets the EHLO name (default: the machine's host name). Microsoft 365: `smtp://idp%40norfolk.gov.uk:secret@smtp.office365.com:587`",
		parse: text(func(c *Config) *string { return &c.SMTPURL })},
	{Env: "IDP_EMAIL_FROM", Flag: "email-from", Section: sectionDelivery,
		Doc:   "From address, e.g. `Norfolk County Council <no-reply@norfolk.gov.uk>`; required with `IDP_SMTP_URL`. The relay must let the account send as it",
		parse: text(func(c *Config) *string { return &c.EmailFrom })},
	{Env: "IDP_VONAGE_API_KEY", Flag: "vonage-api-key", Section: sectionDelivery,
		Doc:   "the account's API key (Dashboard, API settings): the SMS API. The six Vonage settings without a default go together, and are required unless `IDP_DEV`",
		parse: text(func(c *Config) *string { return &c.VonageAPIKey })},
	{Env: "IDP_VONAGE_API_SECRET", Flag: "vonage-api-secret", Section: sectionDelivery,
		Doc:   "the account's API secret, next to its key (Dashboard, API settings)",
		parse: text(func(c *Config) *string { return &c.VonageAPISecret })},
	{Env: "IDP_VONAGE_APPLICATION_ID", Flag: "vonage-application-id", Section: sectionDelivery,
		Doc:   "the Vonage application with the Voice capability",
		parse: text(func(c *Config) *string { return &c.VonageApplicationID })},
	{Env: "IDP_VONAGE_PRIVATE_KEY_FILE", Flag: "vonage-private-key-file", Section: sectionDelivery,
		Doc:   "the application's `private.key` (RSA, PEM); it signs Voice API requests. Read and checked at start",
		parse: parsePrivateKeyFile},
	{Env: "IDP_VONAGE_SIGNATURE_SECRET", Flag: "vonage-signature-secret", Section: sectionDelivery,
		Doc:   "the account's signature secret (API settings, signed webhooks): verifies the webhooks Vonage sends",
		parse: text(func(c *Config) *string { return &c.VonageSignatureSecret })},
	{Env: "IDP_VONAGE_FROM", Flag: "vonage-from", Section: sectionDelivery,
		Doc:   "sender: an alphanumeric id of up to 11 characters (`NorfolkCC`) or a Vonage number in international format. Calls come from it when it is a number, otherwise from a number linked to the application",
		parse: text(func(c *Config) *string { return &c.VonageFrom })},
	{Env: "IDP_VONAGE_REST_URL", Flag: "vonage-rest-url", Default: "https://rest.nexmo.com", Section: sectionDelivery,
		Doc:   "SMS API base",
		parse: baseURL(func(c *Config) *string { return &c.VonageRestURL })},
	{Env: "IDP_VONAGE_API_URL", Flag: "vonage-api-url", Default: "https://api.nexmo.com", Section: sectionDelivery,
		Doc:   "Voice API base",
		parse: baseURL(func(c *Config) *string { return &c.VonageAPIURL })},
	{Env: "IDP_PHONE_COUNTRIES", Flag: "phone-countries", Default: limits.DefaultPhoneCountries, Section: sectionDelivery,
		Doc:   "ISO 3166 codes, comma-separated, of the countries whose numbers may be enrolled and sent to. `GB` includes Guernsey, Jersey and the Isle of Man (`GG`, `IM`, `JE`), which share the UK numbering plan",
		parse: func(p *parsing, r rawValue) (err error) { p.c.PhoneCountries, err = parseCountries(r); return }},
	{Env: "IDP_SEND_DAILY_CEILING", Flag: "send-daily-ceiling", Default: strconv.Itoa(limits.DefaultDailyCeiling), Section: sectionDelivery,
		Doc:   "text messages and calls, together, that all servers may send in one UTC day",
		parse: parseDailyCeiling},
	{Env: "IDP_SEND_CEILING_VERIFIED_SHARE", Flag: "send-ceiling-verified-share", Default: strconv.Itoa(limits.DefaultVerifiedShare), Section: sectionDelivery,
		Doc:   "per cent of `IDP_SEND_DAILY_CEILING`, 0 to 99, kept for challenges to numbers already verified on an account; texts and calls to numbers being enrolled get the rest (rounded down: a ceiling under 5 leaves them none)",
		parse: func(p *parsing, r rawValue) (err error) { p.c.SendCeilingVerifiedShare, err = parsePercent(r); return }},
	{Env: "IDP_SMS_UNIT_COST", Flag: "sms-unit-cost", Default: "0", Section: sectionDelivery,
		Doc:   "what one text message costs, in pounds (e.g. `0.04`; at most 5 decimal places), for the estimated cost in `idp costs` and the console's texts and calls page; `0` means not set: the report shows counts only",
		parse: unitCost(func(c *Config) *cost.Millipence { return &c.SMSUnitCost })},
	{Env: "IDP_CALL_UNIT_COST", Flag: "call-unit-cost", Default: "0", Section: sectionDelivery,
		Doc:   "what one call costs, in pounds (e.g. `0.09`), as `IDP_SMS_UNIT_COST`",
		parse: unitCost(func(c *Config) *cost.Millipence { return &c.CallUnitCost })},
	{Env: "IDP_SEND_HOURLY_PER_RECIPIENT", Flag: "send-hourly-per-recipient", Default: strconv.Itoa(limits.DefaultSendsPerRecipientHour), Section: sectionDelivery,
		Doc:   "codes (emails, texts, calls) one email address or phone number may be sent in an hour; at least 3, since a sign-up sends the new number two. Raise it for a duty phone shared by a team",
		parse: atLeast(limits.MinSendsPerRecipientHour, fmt.Sprintf("at least %d: a sign-up sends the new number two codes", limits.MinSendsPerRecipientHour), func(c *Config) *int { return &c.SendPerRecipient })},
	{Env: "IDP_SEND_DAILY_PER_RECIPIENT", Flag: "send-daily-per-recipient", Default: strconv.Itoa(limits.DefaultSendsPerRecipientDay), Section: sectionDelivery,
		Doc:   "codes one email address or phone number may be sent in 24 hours; at least `IDP_SEND_HOURLY_PER_RECIPIENT`. When not set and `IDP_SEND_HOURLY_PER_RECIPIENT` is higher, it takes that value, so a deployment that raised the hourly budget keeps it",
		parse: parsePerRecipientDay},
	{Env: "IDP_SEND_HOURLY_PER_CLIENT", Flag: "send-hourly-per-client", Default: strconv.Itoa(limits.DefaultSendsPerClientHour), Section: sectionDelivery,
		Doc:   "codes one client network may ask for in an hour: an IPv4 address, or an IPv6 /64 (see `IDP_TRUSTED_PROXIES`)",
		parse: atLeast(1, "at least 1", func(c *Config) *int { return &c.SendPerClient })},
	{Env: "IDP_ENROL_NUMBERS_PER_DAY", Flag: "enrol-numbers-per-day", Default: strconv.Itoa(limits.DefaultEnrolNumbersPerDay), Section: sectionDelivery,
		Doc:   "different phone numbers, not yet verified, that one account may try in a UTC day (sign-up, an account without a phone, a change of number); past it the page says to try again later or to contact the council (`IDP_CONTACT_TEXT`)",
		parse: atLeast(1, "at least 1", func(c *Config) *int { return &c.EnrolNumbersPerDay })},
	{Env: "IDP_ENROL_SENDS_PER_DAY", Flag: "enrol-sends-per-day", Default: strconv.Itoa(limits.DefaultEnrolSendsPerDay), Section: sectionDelivery,
		Doc:   "texts and calls one account may be sent in 24 hours to numbers not yet verified; at least 3",
		parse: atLeast(limits.MinEnrolSendsPerDay, fmt.Sprintf("at least %d: enrolling a number takes two codes", limits.MinEnrolSendsPerDay), func(c *Config) *int { return &c.EnrolSendsPerDay })},
	{Env: "IDP_PASSWORD_NETWORK_LIMIT", Flag: "password-network-limit", Default: strconv.Itoa(limits.DefaultPasswords().NetworkRefuseAfter), Section: sectionDelivery,
		Doc:   "wrong passwords in an hour, across all accounts, after which one network (an IPv4 address, or an IPv6 /64) is refused until the hour ends (\"There have been too many attempts to sign in from your network. Wait ...\"); see `IDP_TRUSTED_PROXIES`",
		parse: atLeast(1, "at least 1", func(c *Config) *int { return &c.PasswordNetworkLimit })},
	{Env: "IDP_PASSWORD_NETWORK_SLOWDOWN", Flag: "password-network-slowdown", Default: strconv.Itoa(limits.DefaultPasswords().NetworkSlowAfter), Section: sectionDelivery,
		Doc:   "wrong passwords in an hour from one network after which each further check waits longer (250 ms doubling, up to 3 s); a journey with five wrong passwords slows the same way",
		parse: parseNetworkSlowdown},
}

// Usage writes the settings for `idp help`: flag, variable, default and what the
// setting does, as plain text.
func Usage(w io.Writer) {
	for _, s := range Settings {
		def := s.DefaultDoc
		if def == "" {
			def = s.Default
		}
		if def != "" {
			def = " (default " + plainText(def) + ")"
		}
		fmt.Fprintf(w, "  --%s, %s%s\n", s.Flag, s.Env, def)
		for _, line := range wrap(plainText(s.Doc), 72) {
			fmt.Fprintf(w, "        %s\n", line)
		}
	}
}

// Markdown is the README's table of the settings of one section.
func Markdown(sec section) string {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n|---|---|---|\n")
	for _, s := range Settings {
		if s.Section != sec {
			continue
		}
		def := s.DefaultDoc
		switch {
		case def != "":
		case s.Default == "":
			def = "empty"
		default:
			def = "`" + s.Default + "`"
		}
		cells := []string{"`" + s.Env + "`", def, s.Doc}
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}

// markdownLink is a Markdown link, [text](target).
var markdownLink = regexp.MustCompile(`\[([^\]]+)\]\([^)]+\)`)

// plainText is Markdown without code quotes and with links as their text.
func plainText(md string) string {
	return strings.ReplaceAll(markdownLink.ReplaceAllString(md, "$1"), "`", "")
}

// firstSentence is text up to its first ". " or "; ", for a flag's one-line usage.
func firstSentence(text string) string {
	if i := strings.IndexAny(text, ".;"); i > 0 && i+1 < len(text) && text[i+1] == ' ' {
		return text[:i]
	}
	return text
}

// wrap breaks text into lines of at most width characters, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		switch {
		case line == "":
			line = w
		case len(line)+1+len(w) > width:
			lines = append(lines, line)
			line = w
		default:
			line += " " + w
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
