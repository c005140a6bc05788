package formapp

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the form application's configuration. Build it with ConfigFromEnv,
// or fill it in directly (an embedding program does), then pass it to New,
// which checks it again.
type Config struct {
	// Addr is the listen address (host:port). The App does not listen itself;
	// it is here so that main and an embedding program agree on it.
	Addr string
	// Issuer is the identity provider's issuer URL, as browsers reach it.
	Issuer string
	// BackchannelURL, when set, is the base URL the form app uses for its own
	// requests to the issuer (discovery, token, keys) in place of Issuer's
	// scheme and host: in docker compose the browser reaches the provider at
	// http://localhost:8080 but the form app's container reaches it at
	// http://idp:8080. The issuer named in tokens stays Issuer.
	BackchannelURL string
	ClientID       string
	// ClientSecret is empty for a public client (PKCE only).
	ClientSecret string
	// RedirectURL is this app's /callback as registered with the provider.
	// Its scheme decides whether cookies are Secure.
	RedirectURL string
	// PostLogoutRedirectURL is this app's /signed-out as registered with the provider.
	PostLogoutRedirectURL string
	// OrgName is shown in the header and the page titles.
	OrgName string
	// Insecure allows an http issuer on a host other than localhost (for a
	// private network in a test stack; never on the internet).
	Insecure bool
	// SessionTTL is how long an idle form session is kept.
	SessionTTL time.Duration
}

// Environment variables read by ConfigFromEnv, and their defaults.
const (
	DefaultAddr                  = "localhost:8081"
	DefaultIssuer                = "http://localhost:8080"
	DefaultClientID              = "demo-formapp"
	DefaultRedirectURL           = "http://localhost:8081/callback"
	DefaultPostLogoutRedirectURL = "http://localhost:8081/signed-out"
	DefaultOrgName               = "Norfolk County Council"
	DefaultSessionTTL            = time.Hour
)

// ConfigFromEnv reads the FORMAPP_ variables through getenv and validates them.
// The error is one line naming the variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	cfg := Config{
		Addr:                  get("FORMAPP_ADDR", DefaultAddr),
		Issuer:                strings.TrimSuffix(get("FORMAPP_ISSUER", DefaultIssuer), "/"),
		BackchannelURL:        strings.TrimSuffix(get("FORMAPP_ISSUER_BACKCHANNEL_URL", ""), "/"),
		ClientID:              get("FORMAPP_CLIENT_ID", DefaultClientID),
		ClientSecret:          getenv("FORMAPP_CLIENT_SECRET"),
		RedirectURL:           get("FORMAPP_REDIRECT_URL", DefaultRedirectURL),
		PostLogoutRedirectURL: get("FORMAPP_POST_LOGOUT_REDIRECT_URL", DefaultPostLogoutRedirectURL),
		OrgName:               get("FORMAPP_ORG_NAME", DefaultOrgName),
		SessionTTL:            DefaultSessionTTL,
	}
	if v := get("FORMAPP_INSECURE", ""); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Config{}, fmt.Errorf("FORMAPP_INSECURE: want true or false, got %q", v)
		}
		cfg.Insecure = b
	}
	if v := get("FORMAPP_SESSION_TTL", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("FORMAPP_SESSION_TTL: want a positive duration such as 1h, got %q", v)
		}
		cfg.SessionTTL = d
	}
	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// validate checks every field and names the environment variable of the
// first bad one.
func (c *Config) validate() error {
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		return fmt.Errorf("FORMAPP_ADDR: want host:port, got %q", c.Addr)
	}
	if err := checkURL("FORMAPP_ISSUER", c.Issuer, c.Insecure); err != nil {
		return err
	}
	if c.BackchannelURL != "" {
		// The back channel is usually a private network name (http://idp:8080).
		if err := checkURL("FORMAPP_ISSUER_BACKCHANNEL_URL", c.BackchannelURL, true); err != nil {
			return err
		}
	}
	if strings.TrimSpace(c.ClientID) == "" {
		return fmt.Errorf("FORMAPP_CLIENT_ID: must not be empty")
	}
	if err := checkURL("FORMAPP_REDIRECT_URL", c.RedirectURL, true); err != nil {
		return err
	}
	if err := checkURL("FORMAPP_POST_LOGOUT_REDIRECT_URL", c.PostLogoutRedirectURL, true); err != nil {
		return err
	}
	if strings.TrimSpace(c.OrgName) == "" {
		return fmt.Errorf("FORMAPP_ORG_NAME: must not be empty")
	}
	if c.SessionTTL <= 0 {
		return fmt.Errorf("FORMAPP_SESSION_TTL: must be positive")
	}
	return nil
}

// checkURL accepts an absolute http(s) URL without query or fragment; http
// only for localhost unless allowHTTP.
func checkURL(name, raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%s: want an absolute http or https URL, got %q", name, raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s: must not have a query or fragment, got %q", name, raw)
	}
	if u.Scheme == "http" && !allowHTTP && !isLoopback(u.Hostname()) {
		return fmt.Errorf("%s: https is required unless the host is localhost (or set FORMAPP_INSECURE=true), got %q", name, raw)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// secureCookies reports whether the app is reached over https, so that its
// cookies must be Secure.
func (c *Config) secureCookies() bool {
	return strings.HasPrefix(c.RedirectURL, "https://")
}

// BackchannelLogoutURI is this app's back-channel logout endpoint, the
// backchannel_logout_uri to register with the provider: the origin of
// RedirectURL with BackchannelLogoutPath. The provider must reach it
// directly (in docker compose, the form app's service name in place of
// localhost).
func (c Config) BackchannelLogoutURI() string {
	u, err := url.Parse(c.RedirectURL)
	if err != nil {
		return ""
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: BackchannelLogoutPath}).String()
}
