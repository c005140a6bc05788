// Package smtptest is a mail relay for tests: plain SMTP on loopback (no TLS, no
// auth, as a relay on a private network such as Mailpit), which can be stopped and
// started again on the same address and keeps what it receives, decoded: the
// recipients, the subject and the plain-text part.
//
// It is for tests only; nothing outside tests may import it.
package smtptest

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one email the relay accepted.
type Message struct {
	To      []string
	Subject string
	Text    string // the text/plain part, decoded
}

// Relay is an SMTP server on 127.0.0.1.
type Relay struct {
	t    testing.TB
	Addr string // host:port, the same across Stop and Start

	mu   sync.Mutex
	srv  *smtp.Server
	got  []Message
	errs []string
}

// Start starts a relay on a free port and stops it when the test ends.
func Start(t testing.TB) *Relay {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Relay{t: t, Addr: l.Addr().String()}
	r.serve(l)
	t.Cleanup(r.Stop)
	return r
}

// URL is the IDP_SMTP_URL of the relay.
func (r *Relay) URL() string { return "smtp://" + r.Addr + "?tls=none" }

func (r *Relay) serve(l net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{relay: r}, nil }))
	srv.Domain = "relay.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = discard{}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go srv.Serve(l)
}

// Stop makes the relay unreachable (connections refused) until Start.
func (r *Relay) Stop() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Restart listens again on the same address.
func (r *Relay) Restart() {
	r.t.Helper()
	l, err := net.Listen("tcp", r.Addr)
	if err != nil {
		r.t.Fatalf("relay restart: %v", err)
	}
	r.serve(l)
}

// Messages returns what was received, oldest first.
func (r *Relay) Messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) > 0 {
		r.t.Errorf("relay could not decode messages: %v", r.errs)
	}
	return append([]Message(nil), r.got...)
}

// To returns the messages to addr (compared case-insensitively), oldest first.
func (r *Relay) To(addr string) []Message {
	var out []Message
	for _, m := range r.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				out = append(out, m)
			}
		}
	}
	return out
}

type discard struct{}

func (discard) Printf(string, ...any) {}
func (discard) Println(...any)        {}

type session struct {
	relay *Relay
	to    []string
}

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *session) Reset()        { s.to = nil }
func (s *session) Logout() error { return nil }

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := decode(raw)
	s.relay.mu.Lock()
	defer s.relay.mu.Unlock()
	if err != nil {
		s.relay.errs = append(s.relay.errs, err.Error())
		return nil
	}
	m.To = append([]string(nil), s.to...)
	s.relay.got = append(s.relay.got, m)
	return nil
}

// decode reads the subject and the text/plain part of a message.
func decode(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Message{}, err
	}
	text, err := textPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if err != nil {
		return Message{}, err
	}
	return Message{Subject: subject, Text: text}, nil
}

func textPart(contentType, encoding string, body io.Reader) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return "", errors.New("no text/plain part")
			}
			if err != nil {
				return "", err
			}
			if t, err := textPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err == nil {
				return t, nil
			}
		}
	}
	if mt != "text/plain" {
		return "", errors.New("not text/plain: " + mt)
	}
	if strings.EqualFold(encoding, "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	return string(b), err
}
