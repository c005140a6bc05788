package email_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/email"
	"github.com/councilforms/idp/factors/messages"
	"github.com/councilforms/idp/factors/vonage"
	"github.com/councilforms/idp/factors/vonage/vonagetest"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/outbox"
	"github.com/councilforms/idp/store/postgres"
	"github.com/councilforms/idp/store/sqlite"
	"github.com/councilforms/idp/store/storetest"
)

const (
	orgName     = "Norfolk County Council"
	wantSubject = "Norfolk County Council account email verification code"
	from        = "Norfolk County Council <no-reply@norfolk.example.gov.uk>"
)

func sqliteStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func postgresStore(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func sender(t *testing.T, r *relay) *email.SMTPSender {
	t.Helper()
	s, err := email.NewSMTPSender(email.SMTPConfig{URL: "smtp://" + r.addr, From: from}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fastWorker retries quickly so that an outage of the relay can be played in a test.
func fastWorker(t *testing.T, s store.Outbox, snd email.Sender, edit func(*email.WorkerConfig)) *email.Worker {
	t.Helper()
	cfg := email.WorkerConfig{
		Store: s, Sender: snd,
		Tuning: outbox.Tuning{
			PollInterval: 20 * time.Millisecond, MinBackoff: 30 * time.Millisecond, MaxBackoff: 150 * time.Millisecond,
			Lease: time.Minute, SendTimeout: 5 * time.Second,
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	w, err := email.NewWorker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// run runs w until the test ends or stop is called; stop returns once w.Run has.
func run(t *testing.T, w *email.Worker) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func eventually(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func verificationEmail(t *testing.T, to, code string) factors.Email {
	t.Helper()
	cat, err := messages.New(orgName)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cat.VerificationEmail(to, code, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// parsed is a received message taken apart as a mail program would.
type parsed struct {
	header     mail.Header
	text, html string
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	p := parsed{header: msg.Header}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q, want multipart/alternative", msg.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var order []string
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if part.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Errorf("part %s not quoted-printable", part.Header.Get("Content-Type"))
		}
		body, err := io.ReadAll(quotedprintable.NewReader(part))
		if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if cp["charset"] != "utf-8" {
			t.Errorf("part %s charset %q", ct, cp["charset"])
		}
		order = append(order, ct)
		switch ct {
		case "text/plain":
			p.text = string(body)
		case "text/html":
			p.html = string(body)
		}
	}
	if strings.Join(order, ",") != "text/plain,text/html" {
		t.Errorf("parts %v, want text/plain then text/html", order)
	}
	return p
}

func TestDeliveredThroughOutbox(t *testing.T) {
	r := newRelay(t)
	r.start()
	db := sqliteStore(t, filepath.Join(t.TempDir(), "idp.db"))
	w := fastWorker(t, db, sender(t, r), func(c *email.WorkerConfig) { c.PollInterval = time.Hour }) // only the wake-up
	run(t, w)
	out := email.NewOutbox(db, w, nil)
	m := verificationEmail(t, "ada@example.org", "482913")
	if err := out.SendEmail(context.Background(), m); err != nil {
		t.Fatalf("SendEmail: %v", err)
	}
	eventually(t, "delivery", 10*time.Second, func() bool { return len(r.messages()) == 1 })
	got := r.messages()[0]
	if got.From != "no-reply@norfolk.example.gov.uk" || len(got.To) != 1 || got.To[0] != "ada@example.org" {
		t.Errorf("envelope from %q to %q", got.From, got.To)
	}
	p := parse(t, got.Data)
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(p.header.Get("Subject"))
	if subject != wantSubject {
		t.Errorf("Subject %q, want %q", subject, wantSubject)
	}
	fromAddr, err := p.header.AddressList("From")
	if err != nil || len(fromAddr) != 1 || fromAddr[0].Name != orgName || fromAddr[0].Address != "no-reply@norfolk.example.gov.uk" {
		t.Errorf("From %q", p.header.Get("From"))
	}
	toAddr, err := p.header.AddressList("To")
	if err != nil || len(toAddr) != 1 || toAddr[0].Address != "ada@example.org" {
		t.Errorf("To %q", p.header.Get("To"))
	}
	for _, h := range []string{"Date", "Message-ID", "MIME-Version"} {
		if p.header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if p.header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Auto-Submitted %q", p.header.Get("Auto-Submitted"))
	}
	norm := func(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
	if norm(p.text) != norm(m.Text) || !strings.Contains(p.text, "482913") {
		t.Errorf("text part %q, want the rendered text", p.text)
	}
	if norm(p.html) != norm(m.HTML) || !strings.Contains(p.html, "482913") {
		t.Errorf("html part differs from the rendered HTML")
	}

	eventually(t, "marked sent", 5*time.Second, func() bool {
		ms, _ := db.ListOutbox(context.Background(), store.OutboxSent, 0)
		return len(ms) == 1
	})
	ms, _ := db.ListOutbox(context.Background(), store.OutboxSent, 0)
	if ms[0].Text != "" || ms[0].HTML != "" || ms[0].Subject != wantSubject || ms[0].Recipient != "ada@example.org" || ms[0].SentAt.IsZero() {
		t.Errorf("sent row %+v: want bodies cleared, subject and recipient kept", ms[0])
	}
}

// The relay is down while messages are queued by two server processes, each with its
// own worker; when it comes back every message is delivered exactly once.
func relayOutage(t *testing.T, a, b store.Outbox) {
	r := newRelay(t) // not started: the relay is down
	wa := fastWorker(t, a, sender(t, r), nil)
	wb := fastWorker(t, b, sender(t, r), nil)
	stopA := run(t, wa)
	stopB := run(t, wb)
	outs := []*email.Outbox{email.NewOutbox(a, wa, nil), email.NewOutbox(b, wb, nil)}
	const n = 30
	for i := 0; i < n; i++ {
		m := verificationEmail(t, fmt.Sprintf("person%02d@example.org", i), fmt.Sprintf("%06d", 100000+i))
		if err := outs[i%2].SendEmail(context.Background(), m); err != nil {
			t.Fatalf("SendEmail %d: %v", i, err)
		}
	}
	ctx := context.Background()
	// Every message is tried and put back while the relay is down.
	eventually(t, "failed attempts while the relay is down", 20*time.Second, func() bool {
		ms, err := a.ListOutbox(ctx, "", 1000)
		if err != nil || len(ms) != n {
			return false
		}
		for _, m := range ms {
			if m.Attempts < 2 || m.LastError == "" || m.Status == store.OutboxSent || m.Status == store.OutboxFailed {
				return false
			}
		}
		return true
	})
	ms, _ := a.ListOutbox(ctx, "", 1000)
	if !strings.Contains(ms[0].LastError, "connect to relay") {
		t.Errorf("last error %q does not say the relay could not be reached", ms[0].LastError)
	}
	for _, m := range ms {
		if strings.Contains(m.LastError, "1000") || m.Text == "" {
			t.Errorf("queued message %d: error %q; body kept %v", m.ID, m.LastError, m.Text != "")
		}
	}

	r.start()
	eventually(t, "every message sent", 30*time.Second, func() bool {
		ms, err := b.ListOutbox(ctx, store.OutboxSent, 1000)
		return err == nil && len(ms) == n
	})
	// A duplicate could only come from a worker still running: once both have
	// stopped (each send finishes before Run returns), what the relay has is final.
	stopA()
	stopB()
	got := r.messages()
	count := map[string]int{}
	for _, to := range recipients(got) {
		count[to]++
	}
	if len(got) != n || len(count) != n {
		t.Errorf("relay received %d messages for %d recipients, want %d each once", len(got), len(count), n)
	}
	for to, c := range count {
		if c != 1 {
			t.Errorf("%s received %d copies", to, c)
		}
	}
}

func TestRelayOutageTwoProcessesSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idp.db")
	relayOutage(t, sqliteStore(t, path), sqliteStore(t, path))
}

func TestRelayOutageTwoProcessesPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	relayOutage(t, postgresStore(t, url), postgresStore(t, url))
}

func TestPermanentRefusalFailsAtOnce(t *testing.T) {
	r := newRelay(t)
	r.refuse["gone@example.org"] = true
	r.start()
	db := sqliteStore(t, filepath.Join(t.TempDir(), "idp.db"))
	reg := prometheus.NewRegistry()
	w := fastWorker(t, db, sender(t, r), func(c *email.WorkerConfig) { c.Registerer = reg })
	run(t, w)
	out := email.NewOutbox(db, w, nil)
	for _, to := range []string{"gone@example.org", "ada@example.org"} {
		if err := out.SendEmail(context.Background(), verificationEmail(t, to, "123456")); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	eventually(t, "one failed, one sent", 10*time.Second, func() bool {
		f, _ := db.ListOutbox(ctx, store.OutboxFailed, 0)
		s, _ := db.ListOutbox(ctx, store.OutboxSent, 0)
		return len(f) == 1 && len(s) == 1
	})
	f, _ := db.ListOutbox(ctx, store.OutboxFailed, 0)
	if f[0].Recipient != "gone@example.org" || f[0].Attempts != 1 || !strings.Contains(f[0].LastError, "550") || f[0].Text != "" {
		t.Errorf("failed row %+v: want one attempt, the 550 reply, bodies cleared", f[0])
	}
	if v := counter(t, reg, "idp_messages_failed_total", "refused"); v != 1 {
		t.Errorf("failed metric %v, want 1", v)
	}
	if v := counter(t, reg, "idp_messages_sent_total", ""); v != 1 {
		t.Errorf("sent metric %v, want 1", v)
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := reason == ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					match = true
				}
			}
			if match {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func TestGivesUpAfterADay(t *testing.T) {
	r := newRelay(t) // never started
	db := sqliteStore(t, filepath.Join(t.TempDir(), "idp.db"))
	if err := email.NewOutbox(db, nil, nil).SendEmail(context.Background(), verificationEmail(t, "ada@example.org", "123456")); err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		now = time.Now().Add(time.Second)
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	w := fastWorker(t, db, sender(t, r), func(c *email.WorkerConfig) { c.Now = clock })
	ctx := context.Background()
	if n, err := w.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("RunOnce: %d %v", n, err)
	}
	ms, _ := db.ListOutbox(ctx, store.OutboxQueued, 0)
	if len(ms) != 1 {
		t.Fatalf("after a failed attempt: %d queued, want 1", len(ms))
	}
	mu.Lock()
	now = now.Add(24*time.Hour + time.Minute)
	mu.Unlock()
	if n, err := w.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("RunOnce a day later: %d %v", n, err)
	}
	ms, _ = db.ListOutbox(ctx, store.OutboxFailed, 0)
	if len(ms) != 1 || !strings.Contains(ms[0].LastError, "gave up after 24h") || ms[0].Text != "" {
		t.Fatalf("a day later: %+v, want failed with the reason and bodies cleared", ms)
	}
}

func TestBackoffGrows(t *testing.T) {
	r := newRelay(t) // never started
	db := sqliteStore(t, filepath.Join(t.TempDir(), "idp.db"))
	var (
		mu  sync.Mutex
		now time.Time
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	w := fastWorker(t, db, sender(t, r), func(c *email.WorkerConfig) {
		c.Now, c.MinBackoff, c.MaxBackoff = clock, 5*time.Second, 5*time.Minute
	})
	out := email.NewOutbox(db, nil, nil)
	if err := out.SendEmail(context.Background(), verificationEmail(t, "ada@example.org", "123456")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mu.Lock()
	now = time.Now().Add(time.Second) // the message was queued with the real clock
	mu.Unlock()
	var waits []time.Duration
	for i := 0; i < 9; i++ {
		if n, err := w.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("attempt %d: claimed %d, %v", i+1, n, err)
		}
		ms, _ := db.ListOutbox(ctx, store.OutboxQueued, 0)
		if len(ms) != 1 {
			t.Fatalf("attempt %d: not queued again", i+1)
		}
		mu.Lock()
		waits = append(waits, ms[0].NextAttemptAt.Sub(now))
		now = ms[0].NextAttemptAt
		mu.Unlock()
	}
	want := []time.Duration{5, 10, 20, 40, 80, 160, 300, 300, 300}
	for i, w := range want {
		base := w * time.Second
		if waits[i] < base*8/10 || waits[i] > base*12/10 {
			t.Errorf("wait before attempt %d = %v, want %v ±20%%", i+2, waits[i], base)
		}
	}
}

func TestSTARTTLSWithAuth(t *testing.T) {
	tlsConfig, pool := selfSigned(t)
	r := newRelay(t)
	r.tlsConfig, r.user, r.password = tlsConfig, "idp", "s3cret p@ss"
	r.start()
	url := "smtp://idp:" + "s3cret%20p%40ss" + "@" + r.addr + "?tls=starttls"
	s, err := email.NewSMTPSender(email.SMTPConfig{URL: url, From: from}, pool)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), verificationEmail(t, "ada@example.org", "123456")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(r.messages()) != 1 {
		t.Fatalf("relay got %d messages", len(r.messages()))
	}

	bad, err := email.NewSMTPSender(email.SMTPConfig{URL: "smtp://idp:wrong-password@" + r.addr + "?tls=starttls", From: from}, pool)
	if err != nil {
		t.Fatal(err)
	}
	err = bad.Send(context.Background(), verificationEmail(t, "ada@example.org", "123456"))
	if err == nil || !strings.Contains(err.Error(), "AUTH") || errors.Is(err, email.ErrPermanent) {
		t.Fatalf("wrong password: %v, want a retryable AUTH error", err)
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error leaks the password: %v", err)
	}

	// The relay's certificate must verify.
	untrusted, _ := email.NewSMTPSender(email.SMTPConfig{URL: url, From: from}, nil)
	if err := untrusted.Send(context.Background(), verificationEmail(t, "ada@example.org", "123456")); err == nil {
		t.Fatal("sent over STARTTLS to a relay whose certificate is not trusted")
	}
}

// A relay that offers only LOGIN (Microsoft 365, some others) gets LOGIN; one that
// offers neither PLAIN nor LOGIN is named in the error, which is retryable.
func TestAuthMechanisms(t *testing.T) {
	tlsConfig, pool := selfSigned(t)
	for _, tc := range []struct {
		mechs []string
		sent  bool
	}{
		{[]string{"LOGIN"}, true},
		{[]string{"PLAIN", "LOGIN"}, true},
		{[]string{"CRAM-MD5"}, false},
	} {
		r := newRelay(t)
		r.tlsConfig, r.user, r.password, r.mechs = tlsConfig, "idp", "s3cret p@ss", tc.mechs
		r.start()
		s, err := email.NewSMTPSender(email.SMTPConfig{URL: "smtp://idp:s3cret%20p%40ss@" + r.addr + "?tls=starttls", From: from}, pool)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(context.Background(), verificationEmail(t, "ada@example.org", "123456"))
		if tc.sent {
			if err != nil || len(r.messages()) != 1 {
				t.Errorf("AUTH %v: %v, %d messages", tc.mechs, err, len(r.messages()))
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "PLAIN or LOGIN is needed") || errors.Is(err, email.ErrPermanent) {
			t.Errorf("AUTH %v: %v, want a retryable error naming PLAIN and LOGIN", tc.mechs, err)
		}
	}
}

func TestImplicitTLS(t *testing.T) {
	tlsConfig, pool := selfSigned(t)
	r := newRelay(t)
	r.tlsConfig, r.implicit = tlsConfig, true
	r.start()
	s, err := email.NewSMTPSender(email.SMTPConfig{URL: "smtps://" + r.addr, From: from}, pool)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), verificationEmail(t, "ada@example.org", "123456")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(r.messages()) != 1 {
		t.Fatalf("relay got %d messages", len(r.messages()))
	}
}

func TestSTARTTLSRequired(t *testing.T) {
	r := newRelay(t) // offers no STARTTLS
	r.start()
	s, err := email.NewSMTPSender(email.SMTPConfig{URL: "smtp://" + r.addr + "?tls=starttls", From: from}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), verificationEmail(t, "ada@example.org", "123456"))
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Send = %v, want a refusal naming STARTTLS", err)
	}
	if len(r.messages()) != 0 {
		t.Error("sent without TLS")
	}
}

func TestOutboxRefusesUnsendable(t *testing.T) {
	db := sqliteStore(t, filepath.Join(t.TempDir(), "idp.db"))
	out := email.NewOutbox(db, nil, nil)
	for _, m := range []factors.Email{
		{To: "not an address", Subject: "s", Text: "t"},
		{To: "ada@example.org\r\nBcc: eve@example.org", Subject: "s", Text: "t"},
		{To: "ada@example.org", Subject: "s\r\nBcc: eve@example.org", Text: "t"},
		{To: "ada@example.org", Subject: "", Text: "t"},
	} {
		if err := out.SendEmail(context.Background(), m); !errors.Is(err, factors.ErrUndeliverable) {
			t.Errorf("SendEmail(%q, %q) = %v, want ErrUndeliverable", m.To, m.Subject, err)
		}
	}
	if ms, _ := db.ListOutbox(context.Background(), "", 0); len(ms) != 0 {
		t.Errorf("%d messages queued", len(ms))
	}
}

func TestSMTPConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		url, from string
		want      string // "" for valid
	}{
		{"smtp://user:pass@mail.example.gov.uk:587", from, ""},
		{"smtps://user:pass@mail.example.gov.uk", from, ""},
		{"smtp://mailpit:1025?tls=none", from, ""},
		{"smtp://127.0.0.1:25", "no-reply@example.gov.uk", ""},
		{"", from, "IDP_SMTP_URL"},
		{"http://mail.example.gov.uk", from, "IDP_SMTP_URL"},
		{"smtp://", from, "IDP_SMTP_URL"},
		{"smtp://mail.example.gov.uk:99999", from, "IDP_SMTP_URL"},
		{"smtp://mail.example.gov.uk?tls=maybe", from, "IDP_SMTP_URL"},
		{"smtp://mail.example.gov.uk?colour=blue", from, "IDP_SMTP_URL"},
		{"smtps://mail.example.gov.uk?tls=none", from, "IDP_SMTP_URL"},
		{"smtp://user:hunter2@mail.example.gov.uk?tls=none", from, "IDP_SMTP_URL"},
		{"smtp://mail.example.gov.uk", "", "IDP_EMAIL_FROM"},
		{"smtp://mail.example.gov.uk", "not an address", "IDP_EMAIL_FROM"},
	} {
		err := email.SMTPConfig{URL: tc.url, From: tc.from}.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Validate(%q, %q) = %v, want valid", tc.url, tc.from, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n")):
			t.Errorf("Validate(%q, %q) = %v, want one line starting %s", tc.url, tc.from, err, tc.want)
		case err != nil && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "pass@")):
			t.Errorf("Validate error leaks the password: %v", err)
		}
	}
}

func TestWriteOutboxTable(t *testing.T) {
	db := sqliteStore(t, filepath.Join(t.TempDir(), "idp.db"))
	ctx := context.Background()
	out := email.NewOutbox(db, nil, nil)
	if err := out.SendEmail(ctx, verificationEmail(t, "ada@example.org", "918273")); err != nil {
		t.Fatal(err)
	}
	ms, _ := db.ListOutbox(ctx, "", 0)
	if err := db.MarkOutboxRetry(ctx, ms[0].ID, time.Now().Add(time.Minute), "connect to relay: connection refused"); err != nil {
		t.Fatal(err)
	}
	ms, _ = db.ListOutbox(ctx, "", 0)
	var b bytes.Buffer
	if err := email.WriteOutboxTable(&b, ms); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{"STATUS", "queued", "ada@example.org", wantSubject, "connection refused"} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "918273") {
		t.Errorf("table shows the code:\n%s", s)
	}
}

// Email and Vonage metrics share families in one registry.
func TestWorkerRefusesShortLease(t *testing.T) {
	db := sqliteStore(t, filepath.Join(t.TempDir(), "idp.db"))
	_, err := email.NewWorker(email.WorkerConfig{Store: db, Sender: sender(t, newRelay(t)), Tuning: outbox.Tuning{Lease: time.Second, SendTimeout: time.Second}})
	if err == nil {
		t.Fatal("NewWorker accepted a lease shorter than two send timeouts")
	}
}

func TestMetricsShareFamilies(t *testing.T) {
	reg := prometheus.NewRegistry()
	db := sqliteStore(t, filepath.Join(t.TempDir(), "idp.db"))
	fastWorker(t, db, sender(t, newRelay(t)), func(c *email.WorkerConfig) { c.Registerer = reg })
	f := vonagetest.New(t)
	c, err := vonage.New(f.Config("https://idp.example.gov.uk", "NorfolkCC"), vonage.Options{Registerer: reg})
	if err != nil {
		t.Fatalf("vonage metrics beside email metrics: %v", err)
	}
	if err := c.SendSMS(context.Background(), factors.SMS{To: "+447700900123", Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("Gather: %v", err)
	}
}

// A message whose lease has run too short to finish a send is left for a later claim.
func TestLeaseTooShortLeavesMessage(t *testing.T) {
	r := newRelay(t)
	r.start()
	db := sqliteStore(t, filepath.Join(t.TempDir(), "idp.db"))
	if err := email.NewOutbox(db, nil, nil).SendEmail(context.Background(), verificationEmail(t, "ada@example.org", "123456")); err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		now = time.Now().Add(time.Second)
	)
	// Every reading of the clock is six seconds on: the send would start with five of
	// the ten seconds of lease left, less than the send timeout.
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(6 * time.Second); return now }
	w := fastWorker(t, db, sender(t, r), func(c *email.WorkerConfig) {
		c.Lease, c.SendTimeout, c.Now = 10*time.Second, 5*time.Second, clock
	})
	if n, err := w.RunOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("RunOnce: %d %v", n, err)
	}
	if len(r.messages()) != 0 {
		t.Fatal("sent although the lease could end mid-send")
	}
	ms, _ := db.ListOutbox(context.Background(), store.OutboxSending, 0)
	if len(ms) != 1 {
		t.Fatalf("message not left claimed for its lease to end: %+v", ms)
	}
}
