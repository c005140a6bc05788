package b2c

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds one whole check (discovery, keys and the token request):
// IDP_B2C_ROPC_TIMEOUT.
const DefaultTimeout = 10 * time.Second

// ErrUnavailable matches (errors.Is) every answer that is neither an acceptance nor
// a refusal of the password: B2C unreachable, slow, a 5xx, a 400 other than a wrong
// password, or a token that does not verify. Nothing should be stored then.
var ErrUnavailable = errors.New("b2c: cannot check the password now")

// wrongPassword is the code of B2C's description of a refused user name or
// password: "AADB2C90225: The username or password provided in the request are
// invalid."
const wrongPassword = "AADB2C90225"

// Config is the ROPC user flow to ask.
type Config struct {
	// TokenURL is the ROPC user flow's token endpoint,
	// https://<tenant>.b2clogin.com/<tenant>.onmicrosoft.com/<ropc-flow>/oauth2/v2.0/token
	// (or .../oauth2/v2.0/token?p=<ropc-flow>). https, except on a loopback host.
	TokenURL string
	// ClientID is the application registered for the flow (its audience).
	ClientID string
	// Timeout bounds one check; zero takes DefaultTimeout.
	Timeout time.Duration
	// HTTPClient, default one without redirects.
	HTTPClient *http.Client
	Log        *slog.Logger
	Now        func() time.Time
}

// ROPC checks passwords against one B2C ROPC user flow. It is safe for concurrent
// use; it caches the policy's discovery document and keys.
type ROPC struct {
	cfg          Config
	discoveryURL string
	keys         *keyCache
}

// New checks cfg and returns the checker. It makes no request.
func New(cfg Config) (*ROPC, error) {
	if strings.TrimSpace(cfg.ClientID) == "" {
		return nil, errors.New("b2c: a client id is required")
	}
	disc, err := DiscoveryURL(cfg.TokenURL)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &ROPC{cfg: cfg, discoveryURL: disc}
	c.keys = &keyCache{client: cfg.HTTPClient, discoveryURL: disc, now: cfg.Now}
	return c, nil
}

// DiscoveryURL is the OpenID Connect discovery document of the policy whose ROPC
// token endpoint is tokenURL: the policy path's .../<policy>/v2.0/.well-known/openid-configuration,
// or with the policy in ?p=, .../v2.0/.well-known/openid-configuration?p=<policy>.
func DiscoveryURL(tokenURL string) (string, error) {
	u, err := url.Parse(tokenURL)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return "", fmt.Errorf("b2c: ROPC URL must be an absolute URL (got %q)", tokenURL)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname())) {
		return "", fmt.Errorf("b2c: ROPC URL must be https (got %q)", tokenURL)
	}
	base, ok := strings.CutSuffix(strings.TrimSuffix(u.Path, "/"), "/oauth2/v2.0/token")
	if !ok {
		return "", fmt.Errorf("b2c: ROPC URL must end in /oauth2/v2.0/token (got %q)", tokenURL)
	}
	policy := u.Query().Get("p")
	if policy == "" && strings.Count(strings.Trim(base, "/"), "/") < 1 {
		return "", fmt.Errorf("b2c: ROPC URL must name the tenant and the user flow, /<tenant>/<flow>/oauth2/v2.0/token or ?p=<flow> (got %q)", tokenURL)
	}
	d := url.URL{Scheme: u.Scheme, Host: u.Host, Path: base + "/v2.0/.well-known/openid-configuration"}
	if policy != "" {
		d.RawQuery = url.Values{"p": {policy}}.Encode()
	}
	return d.String(), nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckPassword asks B2C whether password is right for username, and that the
// account B2C signs in is objectID. It returns true when B2C accepted it and the
// ID token verifies and names objectID; false when B2C refused the password
// (invalid_grant), or accepted it for another object id (logged at WARN); an error
// matching ErrUnavailable when it cannot tell.
func (c *ROPC) CheckPassword(ctx context.Context, objectID, username, password string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	form := url.Values{
		"grant_type":    {"password"},
		"username":      {username},
		"password":      {password},
		"client_id":     {c.cfg.ClientID},
		"scope":         {"openid " + c.cfg.ClientID + " offline_access"},
		"response_type": {"token id_token"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return false, unavailable("token request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return false, unavailable("token request: %v", redact(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return false, unavailable("token response: %v", err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		var tok struct {
			IDToken string `json:"id_token"`
		}
		if err := json.Unmarshal(body, &tok); err != nil || tok.IDToken == "" {
			return false, unavailable("token response without an id_token")
		}
		sub, oid, err := c.keys.verify(ctx, tok.IDToken, c.cfg.ClientID)
		if err != nil {
			return false, unavailable("id token: %v", err)
		}
		if !strings.EqualFold(sub, objectID) && !strings.EqualFold(oid, objectID) {
			c.cfg.Log.WarnContext(ctx, "b2c accepted the password of another account", "object_id", objectID, "token_sub", sub, "token_oid", oid)
			return false, nil
		}
		return true, nil
	case resp.StatusCode == http.StatusBadRequest:
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if err := json.Unmarshal(body, &e); err != nil {
			return false, unavailable("400 without an OAuth error")
		}
		code := aadCode(e.Description)
		if e.Error == "invalid_grant" && (code == wrongPassword || code == "") {
			return false, nil
		}
		return false, unavailable("400 %s %s", e.Error, code)
	default:
		return false, unavailable("token endpoint answered %d", resp.StatusCode)
	}
}

// aadCode is the AADB2C9xxxx code at the start of an error description, or "".
func aadCode(desc string) string {
	code, _, _ := strings.Cut(strings.TrimSpace(desc), ":")
	if strings.HasPrefix(code, "AADB2C") && !strings.ContainsAny(code, " \r\n") {
		return code
	}
	return ""
}

func unavailable(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnavailable}, args...)...)
}

// redact leaves the request's body out of a transport error (url.Error names only
// the method and URL, which hold no secret; keep it that way).
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, ue.URL, ue.Err)
	}
	return err
}
