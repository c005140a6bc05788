package email_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// relay is an SMTP server for tests that can be stopped and started again on the
// same address, standing for the council's mail relay going down and coming back.
type relay struct {
	t    *testing.T
	addr string

	// Set before start.
	tlsConfig *tls.Config // offers STARTTLS (or implicit TLS with implicit) when set
	implicit  bool
	user      string // requires AUTH when set
	password  string
	mechs     []string // the AUTH mechanisms offered (PLAIN, LOGIN); nil means PLAIN

	mu       sync.Mutex
	srv      *smtp.Server
	received []received
	refuse   map[string]bool // recipients answered 550
}

type received struct {
	From string
	To   []string
	Data []byte
}

func newRelay(t *testing.T) *relay {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{t: t, addr: l.Addr().String(), refuse: map[string]bool{}}
	l.Close()
	t.Cleanup(r.stop)
	return r
}

func (r *relay) start() {
	r.t.Helper()
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{relay: r}, nil
	}))
	srv.Domain = "relay.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.TLSConfig = r.tlsConfig
	srv.ErrorLog = discardLogger{}
	var (
		l   net.Listener
		err error
	)
	for i := 0; i < 50; i++ { // the port may linger briefly after stop
		if l, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatalf("relay listen %s: %v", r.addr, err)
	}
	if r.implicit {
		l = tls.NewListener(l, r.tlsConfig)
	}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go srv.Serve(l)
}

func (r *relay) stop() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

func (r *relay) messages() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.received...)
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

type session struct {
	relay  *relay
	authed bool
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string {
	if s.relay.user == "" {
		return nil
	}
	if s.relay.mechs != nil {
		return s.relay.mechs
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, password string) error {
		if user != s.relay.user || password != s.relay.password {
			return errors.New("invalid credentials")
		}
		s.authed = true
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, password string) error { return check(user, password) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, errors.New("unsupported mechanism")
}

// loginServer is the relay's side of LOGIN (go-sasl has only the client): the user
// name, as the initial response or after "Username:", then the password after
// "Password:".
type loginServer struct {
	check     func(user, password string) error
	user      []byte
	askedUser bool
	askedPass bool
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch {
	case l.user == nil && response == nil && !l.askedUser:
		l.askedUser = true
		return []byte("Username:"), false, nil
	case l.user == nil:
		l.user = response
		l.askedPass = true
		return []byte("Password:"), false, nil
	case l.askedPass:
		return nil, true, l.check(string(l.user), string(response))
	}
	return nil, true, errors.New("unexpected LOGIN response")
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.relay.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.relay.mu.Lock()
	refused := s.relay.refuse[to]
	s.relay.mu.Unlock()
	if refused {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.relay.mu.Lock()
	s.relay.received = append(s.relay.received, received{From: s.from, To: s.to, Data: b})
	s.relay.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "relay.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// recipients lists who each received message was for.
func recipients(ms []received) []string {
	var out []string
	for _, m := range ms {
		out = append(out, strings.Join(m.To, ","))
	}
	return out
}
