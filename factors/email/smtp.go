package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/store/outbox"
)

// Sender delivers one email now; the Worker uses it. An error wrapping ErrPermanent
// means the relay refused this message for good and retrying will not help.
type Sender interface {
	Send(ctx context.Context, m factors.Email) error
	// Provider names the sender in metrics ("smtp").
	Provider() string
}

// ErrPermanent: the relay refused the message for good (a 5xx reply to the recipient
// or to the content). It is the outbox's ErrPermanent, so the worker gives up at once.
var ErrPermanent = outbox.ErrPermanent

// sendTimeout bounds one delivery when the caller's context has no deadline.
const sendTimeout = 60 * time.Second

// SMTPSender sends each message on its own connection to the relay.
type SMTPSender struct {
	relay *relay
	// rootCAs verifies the relay's certificate; nil means the system roots.
	rootCAs *x509.CertPool
}

var _ Sender = (*SMTPSender)(nil)

// NewSMTPSender checks cfg and returns a sender. rootCAs may be nil (the system's
// roots); tests pass the pool of their own relay's certificate.
func NewSMTPSender(cfg SMTPConfig, rootCAs *x509.CertPool) (*SMTPSender, error) {
	r, err := cfg.parse()
	if err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	if r.helo == "" {
		r.helo, _ = os.Hostname()
		if r.helo == "" || strings.ContainsAny(r.helo, " \r\n") {
			r.helo = "localhost"
		}
	}
	return &SMTPSender{relay: r, rootCAs: rootCAs}, nil
}

func (s *SMTPSender) Provider() string { return "smtp" }

// Send delivers m. Its errors name the stage that failed and never include the
// message body or the password.
func (s *SMTPSender) Send(ctx context.Context, m factors.Email) error {
	to, err := checkEmail(m)
	if err != nil {
		return fmt.Errorf("email: %w: %w", ErrPermanent, err)
	}
	msg, err := buildMessage(s.relay.from, to, m, time.Now())
	if err != nil {
		return fmt.Errorf("email: build message: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, sendTimeout)
		defer cancel()
	}
	c, err := s.connect(ctx)
	if err != nil {
		return fmt.Errorf("email: connect to relay %s: %w", s.relay.addr, err)
	}
	defer c.Close()
	// The connection deadline follows the context; a cancelled context also closes it.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	if err := c.Mail(s.relay.from.Address); err != nil {
		return fmt.Errorf("email: MAIL FROM: %w", classify(err))
	}
	if err := c.Rcpt(to.Address); err != nil {
		return fmt.Errorf("email: RCPT TO: %w", classify(err))
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("email: DATA: %w", classify(err))
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("email: write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("email: end of message: %w", classify(err))
	}
	_ = c.Quit() // the relay has taken the message; a failed QUIT changes nothing
	return nil
}

// connect dials the relay, secures the connection as configured and authenticates.
func (s *SMTPSender) connect(ctx context.Context) (*smtp.Client, error) {
	r := s.relay
	tlsConfig := &tls.Config{ServerName: r.host, RootCAs: s.rootCAs, MinVersion: tls.VersionTLS12}
	var (
		conn net.Conn
		err  error
	)
	if r.mode == tlsImplicit {
		d := &tls.Dialer{Config: tlsConfig}
		conn, err = d.DialContext(ctx, "tcp", r.addr)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", r.addr)
	}
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, r.host)
	if err != nil {
		conn.Close()
		return nil, err
	}
	fail := func(err error) (*smtp.Client, error) {
		c.Close()
		return nil, err
	}
	if err := c.Hello(r.helo); err != nil {
		return fail(fmt.Errorf("EHLO: %w", err))
	}
	secure := r.mode == tlsImplicit
	if r.mode == tlsStartTLS || r.mode == tlsOpportunistic {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConfig); err != nil {
				return fail(fmt.Errorf("STARTTLS: %w", err))
			}
			secure = true
		} else if r.mode == tlsStartTLS {
			return fail(errors.New("the relay does not offer STARTTLS, which IDP_SMTP_URL requires (add ?tls=opportunistic or ?tls=none only for a relay on a trusted network)"))
		}
	}
	if r.user != "" {
		if !secure && !isLoopback(r.host) {
			return fail(errors.New("the relay did not offer STARTTLS; credentials are not sent in clear"))
		}
		ok, mechs := c.Extension("AUTH")
		if !ok {
			return fail(errors.New("the relay does not offer AUTH but IDP_SMTP_URL has credentials"))
		}
		// PLAIN (RFC 4616) when offered; LOGIN for relays such as Microsoft 365 that
		// offer it instead.
		var auth sasl.Client
		switch list := strings.Fields(strings.ToUpper(mechs)); {
		case slices.Contains(list, sasl.Plain):
			auth = sasl.NewPlainClient("", r.user, r.password)
		case slices.Contains(list, sasl.Login):
			auth = sasl.NewLoginClient(r.user, r.password)
		default:
			return fail(fmt.Errorf("the relay offers AUTH %s; PLAIN or LOGIN is needed", mechs))
		}
		if err := c.Auth(smtpAuth{auth}); err != nil {
			return fail(fmt.Errorf("AUTH: %w", err))
		}
	}
	return c, nil
}

// classify marks 5xx replies as permanent. Replies to MAIL FROM are not: a refused
// sender is the relay's configuration, which an operator can fix while messages wait.
func classify(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 && te.Code < 600 {
		return fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	return err
}

// smtpAuth runs a go-sasl client as net/smtp's Auth. net/smtp's own PlainAuth also
// refuses to send credentials except over TLS or to localhost; the connection rules
// above already decide that (tls=none with credentials is only accepted for a
// loopback relay).
type smtpAuth struct{ sasl.Client }

func (a smtpAuth) Start(*smtp.ServerInfo) (string, []byte, error) { return a.Client.Start() }

func (a smtpAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	return a.Client.Next(challenge)
}
