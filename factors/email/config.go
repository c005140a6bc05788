package email

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
)

// SMTPConfig is how to reach the mail relay.
type SMTPConfig struct {
	// URL is IDP_SMTP_URL:
	//
	//	smtps://user:pass@host[:465]          implicit TLS
	//	smtp://user:pass@host[:587]           STARTTLS, required
	//	smtp://host:25?tls=opportunistic      STARTTLS when the relay offers it
	//	smtp://mailpit:1025?tls=none          no TLS (a relay on a private network), no credentials
	//
	// Without a tls parameter, STARTTLS is required except on a loopback host, where it
	// is used when offered. User and password are URL-encoded; without them no AUTH
	// is attempted. helo=<name> sets the name given in EHLO (default: this host's name).
	URL string
	// From is IDP_EMAIL_FROM, e.g. "Norfolk County Council <no-reply@norfolk.gov.uk>".
	From string
}

// tlsMode is how the connection to the relay is protected.
type tlsMode string

const (
	tlsImplicit      tlsMode = "implicit"
	tlsStartTLS      tlsMode = "starttls"
	tlsOpportunistic tlsMode = "opportunistic"
	tlsNone          tlsMode = "none"
)

// relay is a parsed SMTPConfig.
type relay struct {
	addr     string // host:port
	host     string
	mode     tlsMode
	user     string
	password string
	helo     string
	from     *mail.Address
}

// Validate checks the configuration; its error is one line naming the variable at
// fault and never repeats the password.
func (c SMTPConfig) Validate() error {
	_, err := c.parse()
	return err
}

func (c SMTPConfig) parse() (*relay, error) {
	if strings.TrimSpace(c.URL) == "" {
		return nil, errors.New("IDP_SMTP_URL is not set")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, errors.New("IDP_SMTP_URL is not a URL (smtp://user:password@host:587 or smtps://...)")
	}
	r := &relay{host: u.Hostname()}
	var port string
	switch u.Scheme {
	case "smtps":
		r.mode, port = tlsImplicit, "465"
	case "smtp":
		r.mode, port = tlsStartTLS, "587"
		if isLoopback(r.host) {
			r.mode = tlsOpportunistic
		}
	default:
		return nil, fmt.Errorf("IDP_SMTP_URL scheme %q must be smtp or smtps", u.Scheme)
	}
	if r.host == "" {
		return nil, errors.New("IDP_SMTP_URL has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, errors.New("IDP_SMTP_URL has a bad port")
		}
		port = p
	}
	r.addr = net.JoinHostPort(r.host, port)
	if u.Path != "" && u.Path != "/" {
		return nil, errors.New("IDP_SMTP_URL must not have a path")
	}
	q := u.Query()
	for k := range q {
		if k != "tls" && k != "helo" {
			return nil, fmt.Errorf("IDP_SMTP_URL has an unknown parameter %q (known: tls, helo)", k)
		}
	}
	if t := q.Get("tls"); t != "" {
		if r.mode == tlsImplicit {
			return nil, errors.New("IDP_SMTP_URL: smtps:// always uses TLS; drop the tls parameter")
		}
		switch tlsMode(t) {
		case tlsStartTLS, tlsOpportunistic, tlsNone:
			r.mode = tlsMode(t)
		default:
			return nil, fmt.Errorf("IDP_SMTP_URL tls=%q must be starttls, opportunistic or none", t)
		}
	}
	r.helo = q.Get("helo")
	if u.User != nil {
		r.user = u.User.Username()
		r.password, _ = u.User.Password()
		if r.user == "" {
			return nil, errors.New("IDP_SMTP_URL has a password but no user name")
		}
		if r.mode == tlsNone && !isLoopback(r.host) {
			return nil, errors.New("IDP_SMTP_URL: credentials would cross the network in clear with tls=none")
		}
	}
	if strings.TrimSpace(c.From) == "" {
		return nil, errors.New("IDP_EMAIL_FROM is not set")
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil || strings.ContainsAny(c.From, "\r\n") {
		return nil, errors.New(`IDP_EMAIL_FROM is not an email address (e.g. "Norfolk County Council <no-reply@example.gov.uk>")`)
	}
	r.from = from
	return r, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
