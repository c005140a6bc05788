package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/factors/email/smtptest"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/dev"
	"github.com/councilforms/idp/factors/email"
	"github.com/councilforms/idp/factors/vonage/vonagetest"
	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/server"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/memory"
	"github.com/councilforms/idp/store/postgres"
	"github.com/councilforms/idp/store/redis"
	"github.com/councilforms/idp/store/sqlite"
	"github.com/councilforms/idp/store/storetest"
)

// A UK mobile outside Ofcom's drama ranges: production mode refuses those.
const dlvMobile = "+447400123456"

func dlvSQLite(t *testing.T, path string) store.Durable {
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

func dlvPostgres(t *testing.T, url string) store.Durable {
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

// dlvProduction loads a production configuration: SMTP to relayAddr, Vonage at fake,
// webhooks on issuer.
func dlvProduction(t *testing.T, fake *vonagetest.Fake, relayAddr, issuer string, extra map[string]string) *config.Config {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "private.key")
	if err := os.WriteFile(keyFile, fake.PrivateKeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"IDP_DEV":                     "false",
		"IDP_DATABASE_URL":            "sqlite:" + filepath.Join(t.TempDir(), "unused.db"),
		"IDP_ISSUER":                  issuer,
		"IDP_SMTP_URL":                "smtp://" + relayAddr,
		"IDP_EMAIL_FROM":              "Norfolk County Council <no-reply@norfolk.example.gov.uk>",
		"IDP_VONAGE_API_KEY":          fake.APIKey,
		"IDP_VONAGE_API_SECRET":       fake.APISecret,
		"IDP_VONAGE_APPLICATION_ID":   fake.ApplicationID,
		"IDP_VONAGE_PRIVATE_KEY_FILE": keyFile,
		"IDP_VONAGE_SIGNATURE_SECRET": fake.SignatureSecret,
		"IDP_VONAGE_FROM":             "NorfolkCC",
		"IDP_VONAGE_REST_URL":         fake.URL,
		"IDP_VONAGE_API_URL":          fake.URL,
	}
	for k, v := range extra {
		vars[k] = v
	}
	return load(t, vars)
}

// dlvServer serves a mux through the idp's middleware (cross-origin protection
// included) and returns both; the mux may be filled after the server starts.
func dlvServer(t *testing.T) (*http.ServeMux, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(server.Wrap(mux, server.Options{Log: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	return mux, srv
}

// dlvRun runs d until the test ends.
func dlvRun(t *testing.T, d *Delivery) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func dlvEventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dlvMetric sums the samples of family name whose labels include want.
func dlvMetric(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue metrics
				}
			}
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

func dlvDo(t *testing.T, method, url, contentType, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// In development mode with no provider configured, the dev inbox takes all three
// channels, its routes are mounted and no webhook is.
func TestDeliveryDevSelection(t *testing.T) {
	cfg := load(t, map[string]string{"IDP_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "idp.db")})
	if !cfg.Dev {
		t.Fatal("embedded configuration is not in dev mode")
	}
	db := dlvSQLite(t, cfg.SQLitePath)
	reg := prometheus.NewRegistry()
	outcomes := vonagetest.NewOutcomes("call-1")
	d, err := OpenDelivery(context.Background(), cfg, db, memory.New(), reg, outcomes, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Inbox == nil {
		t.Fatal("no dev inbox in dev mode")
	}
	mux, srv := dlvServer(t)
	d.Register(mux, nil)
	dlvRun(t, d)

	ctx := context.Background()
	if err := d.Email.SendEmail(ctx, factors.Email{To: "sam@example.org", Subject: "Norfolk County Council account email verification code", Text: "Your code is 123456"}); err != nil {
		t.Fatal(err)
	}
	// Drama numbers are for development mode.
	if err := d.SMS.SendSMS(ctx, factors.SMS{To: "+447700900123", Text: "Your code is 654321"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Caller.PlaceCall(ctx, factors.Call{ID: "call-1", To: "+447700900123", Script: "Press the hash key"}); err != nil {
		t.Fatal(err)
	}
	if it, ok := dlvInboxLatest(t, d, factors.ChannelEmail, "sam@example.org"); !ok || it.Code != "123456" {
		t.Errorf("email not in the inbox: %+v %v", it, ok)
	}
	if it, ok := dlvInboxLatest(t, d, factors.ChannelSMS, "+447700900123"); !ok || it.Code != "654321" {
		t.Errorf("text not in the inbox: %+v %v", it, ok)
	}

	if got := dlvDo(t, "GET", srv.URL+"/dev/inbox.json", "", ""); got != http.StatusOK {
		t.Errorf("GET /dev/inbox.json = %d", got)
	}
	if got := dlvDo(t, "POST", srv.URL+"/dev/calls/call-1/keypress", "application/x-www-form-urlencoded", "digits=%23"); got >= 400 {
		t.Errorf("keypress = %d", got)
	}
	if r := outcomes.Result("call-1"); r != factors.CallConfirmed {
		t.Errorf("call outcome %q, want confirmed", r)
	}
	if got := dlvDo(t, "POST", srv.URL+"/webhooks/vonage/event/call-1", "application/json", "{}"); got != http.StatusNotFound {
		t.Errorf("Vonage webhook without Vonage = %d, want 404", got)
	}
	for _, ch := range []string{"email", "sms", "voice"} {
		if n := dlvMetric(t, reg, "idp_messages_sent_total", map[string]string{"provider": "dev", "channel": ch}); n != 1 {
			t.Errorf("idp_messages_sent_total{provider=dev,channel=%s} = %v, want 1", ch, n)
		}
	}
}

// Development mode with a relay configured (the docker compose stack): email goes to
// the relay through the outbox, texts and calls to the dev inbox.
func TestDeliveryDevWithRelay(t *testing.T) {
	relay := smtptest.Start(t)
	cfg := load(t, map[string]string{
		"IDP_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "idp.db"),
		"IDP_SMTP_URL":     "smtp://" + relay.Addr,
		"IDP_EMAIL_FROM":   "no-reply@norfolk.example.gov.uk",
	})
	d, err := OpenDelivery(context.Background(), cfg, dlvSQLite(t, cfg.SQLitePath), memory.New(), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Email.(*email.Outbox); !ok || d.Inbox == nil {
		t.Fatalf("email sender %T, inbox %v; want the outbox and an inbox for texts", d.Email, d.Inbox != nil)
	}
	dlvRun(t, d)
	if err := d.Email.SendEmail(context.Background(), factors.Email{To: "sam@example.org", Subject: "Code", Text: "Your code is 123456"}); err != nil {
		t.Fatal(err)
	}
	dlvEventually(t, "the email at the relay", func() bool { return len(relay.Messages()) == 1 })
	if _, ok := dlvInboxLatest(t, d, factors.ChannelEmail, "sam@example.org"); ok {
		t.Error("the email was captured in the dev inbox as well")
	}
	if err := d.SMS.SendSMS(context.Background(), factors.SMS{To: "+447700900123", Text: "Your code is 654321"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := dlvInboxLatest(t, d, factors.ChannelSMS, "+447700900123"); !ok {
		t.Error("the text is not in the dev inbox")
	}
}

// Production: SMTP through the outbox and worker, Vonage for texts and calls, signed
// webhooks mounted and checked, receipts in the audit log.
func TestDeliverySMTPAndVonage(t *testing.T) {
	ctx := context.Background()
	relay := smtptest.Start(t)
	fake := vonagetest.New(t)
	mux, srv := dlvServer(t)
	cfg := dlvProduction(t, fake, relay.Addr, srv.URL, nil)
	db := dlvSQLite(t, filepath.Join(t.TempDir(), "idp.db"))
	eph := memory.New()
	reg := prometheus.NewRegistry()
	outcomes := vonagetest.NewOutcomes("challenge-1")
	d, err := OpenDelivery(ctx, cfg, db, eph, reg, outcomes, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Inbox != nil {
		t.Error("a dev inbox in production mode")
	}
	d.Register(mux, nil)
	if got := dlvDo(t, "GET", srv.URL+"/dev/inbox.json", "", ""); got != http.StatusNotFound {
		t.Errorf("GET /dev/inbox.json in production = %d, want 404", got)
	}

	// Email is queued, then delivered by Run.
	if err := d.Email.SendEmail(ctx, factors.Email{To: "sam@example.org", Subject: "Norfolk County Council account email verification code", Text: "Your code is 123456"}); err != nil {
		t.Fatal(err)
	}
	queued, err := db.ListOutbox(ctx, "", 10)
	if err != nil || len(queued) != 1 {
		t.Fatalf("outbox after SendEmail: %d messages, %v", len(queued), err)
	}
	dlvRun(t, d)
	dlvEventually(t, "the email at the relay", func() bool { return len(relay.Messages()) == 1 })
	m := relay.Messages()[0]
	if len(m.To) != 1 || m.To[0] != "sam@example.org" || !strings.Contains(m.Subject+m.Text, "verification code") {
		t.Errorf("relay got %v %q %q", m.To, m.Subject, m.Text)
	}
	dlvEventually(t, "the outbox row marked sent", func() bool {
		ms, err := db.ListOutbox(ctx, store.OutboxSent, 10)
		return err == nil && len(ms) == 1
	})

	// A text reaches Vonage.
	if err := d.SMS.SendSMS(ctx, factors.SMS{To: dlvMobile, Text: "Your code is 654321"}); err != nil {
		t.Fatal(err)
	}
	if sent := fake.SentSMS(); len(sent) != 1 || sent[0].To != strings.TrimPrefix(dlvMobile, "+") || sent[0].Text != "Your code is 654321" {
		t.Errorf("Vonage got %+v", sent)
	}

	// A call: its webhooks come back to this server, signed, and settle the challenge.
	if err := d.Caller.PlaceCall(ctx, factors.Call{ID: "challenge-1", To: dlvMobile, Script: "Press the hash key"}); err != nil {
		t.Fatal(err)
	}
	calls := fake.Calls()
	if len(calls) != 1 || calls[0].InputURL != srv.URL+"/webhooks/vonage/input/challenge-1" || calls[0].EventURL != srv.URL+"/webhooks/vonage/event/challenge-1" {
		t.Fatalf("calls %+v", calls)
	}
	if resp, err := fake.PressHash(ctx, dlvMobile); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("input webhook: %+v %v", resp, err)
	}
	if r := outcomes.Result("challenge-1"); r != factors.CallConfirmed {
		t.Errorf("outcome %q, want confirmed", r)
	}

	// Unsigned and replayed webhooks are refused.
	eventURL := srv.URL + "/webhooks/vonage/event/challenge-1"
	body := []byte(`{"status":"completed","uuid":"` + calls[0].UUID + `"}`)
	if resp, err := fake.Post(ctx, eventURL, body, ""); err != nil || resp.Status != http.StatusUnauthorized {
		t.Errorf("unsigned webhook: %+v %v, want 401", resp, err)
	}
	if resp, err := fake.Post(ctx, eventURL, body, fake.Sign(body, func(c map[string]any) { c["payload_hash"] = strings.Repeat("0", 64) })); err != nil || resp.Status != http.StatusUnauthorized {
		t.Errorf("tampered webhook: %+v %v, want 401", resp, err)
	}
	token := fake.Sign(body, nil)
	if resp, err := fake.Post(ctx, eventURL, body, token); err != nil || resp.Status != http.StatusNoContent {
		t.Errorf("signed webhook: %+v %v, want 204", resp, err)
	}
	if resp, err := fake.Post(ctx, eventURL, body, token); err != nil || resp.Status != http.StatusUnauthorized {
		t.Errorf("replayed webhook: %+v %v, want 401", resp, err)
	}
	// Another process sharing the ephemeral store refuses the replay too.
	mux2, srv2 := dlvServer(t)
	d2, err := OpenDelivery(ctx, cfg, db, eph, nil, outcomes, nil)
	if err != nil {
		t.Fatal(err)
	}
	d2.Register(mux2, nil)
	if resp, err := fake.Post(ctx, srv2.URL+"/webhooks/vonage/event/challenge-1", body, token); err != nil || resp.Status != http.StatusUnauthorized {
		t.Errorf("webhook replayed to another process: %+v %v, want 401", resp, err)
	}

	// A delivery receipt is recorded in the audit log without the message or the full number.
	receipt := url.Values{"messageId": {"msg-1"}, "msisdn": {"447400123456"}, "status": {"delivered"}, "err-code": {"0"}, "client-ref": {"ref-1"}}
	if got := dlvDo(t, "POST", srv.URL+"/webhooks/vonage/sms-receipt", "application/x-www-form-urlencoded", receipt.Encode()); got != http.StatusNoContent {
		t.Errorf("receipt = %d, want 204", got)
	}
	events, err := db.ListAudit(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	var detail string
	for _, e := range events {
		if e.Kind == "sms.receipt" {
			detail = e.Detail
		}
	}
	if !strings.Contains(detail, `status="delivered"`) || !strings.Contains(detail, `message-id="msg-1"`) || strings.Contains(detail, "400123456") || strings.Contains(detail, "654321") {
		t.Errorf("audit detail %q", detail)
	}
	if got := dlvDo(t, "GET", srv.URL+"/webhooks/vonage/answer", "", ""); got != http.StatusOK {
		t.Errorf("answer URL = %d", got)
	}

	if p := fake.Problems(); len(p) > 0 {
		t.Errorf("requests Vonage would refuse: %v", p)
	}
	for _, c := range []struct{ provider, channel string }{{"smtp", "email"}, {"vonage", "sms"}, {"vonage", "voice"}} {
		if n := dlvMetric(t, reg, "idp_messages_sent_total", map[string]string{"provider": c.provider, "channel": c.channel}); n != 1 {
			t.Errorf("idp_messages_sent_total{provider=%s,channel=%s} = %v, want 1", c.provider, c.channel, n)
		}
		if n := dlvMetric(t, reg, "idp_message_send_seconds", map[string]string{"provider": c.provider, "channel": c.channel}); n != 1 {
			t.Errorf("idp_message_send_seconds{provider=%s,channel=%s} has %v samples, want 1", c.provider, c.channel, n)
		}
	}
}

// The daily ceiling counts texts and calls of every process together, refuses the
// next one with ErrProviderUnavailable, and raises the alarm metric.
func TestDeliveryDailyCeiling(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "idp.db")
		dlvCeiling(t, dlvSQLite(t, path), dlvSQLite(t, path))
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.PostgresURL(t)
		dlvCeiling(t, dlvPostgres(t, url), dlvPostgres(t, url))
	})
}

func dlvCeiling(t *testing.T, db1, db2 store.Durable) {
	ctx := context.Background()
	fake := vonagetest.New(t)
	_, srv := dlvServer(t)
	cfg := dlvProduction(t, fake, "127.0.0.1:1", srv.URL, map[string]string{"IDP_SEND_DAILY_CEILING": "3"})
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	reg1, reg2 := prometheus.NewRegistry(), prometheus.NewRegistry()
	// Two server processes, each with its own connection to the database.
	d1, err := OpenDelivery(ctx, cfg, db1, memory.New(), reg1, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := OpenDelivery(ctx, cfg, db2, memory.New(), reg2, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	// Challenges to a verified number: with a ceiling of 3, 80% kept for them is all 3.
	text := factors.SMS{To: dlvMobile, Text: "Your code is 111111", Verified: true}
	for i, send := range []func() error{
		func() error { return d1.SMS.SendSMS(ctx, text) },
		func() error { return d2.SMS.SendSMS(ctx, text) },
		func() error {
			return d2.Caller.PlaceCall(ctx, factors.Call{ID: "c1", To: dlvMobile, Script: "Press the hash key", Verified: true})
		},
	} {
		if err := send(); err != nil {
			t.Fatalf("send %d within the ceiling: %v", i+1, err)
		}
	}
	err = d1.SMS.SendSMS(ctx, text)
	if !errors.Is(err, factors.ErrProviderUnavailable) || !errors.Is(err, factors.ErrSendCeiling) {
		t.Fatalf("4th send: %v, want ErrSendCeiling and ErrProviderUnavailable", err)
	}
	if err := d2.Caller.PlaceCall(ctx, factors.Call{ID: "c2", To: dlvMobile, Script: "Press the hash key", Verified: true}); !errors.Is(err, factors.ErrSendCeiling) {
		t.Fatalf("5th send (a call): %v, want ErrSendCeiling", err)
	}
	if n, c := len(fake.SentSMS()), len(fake.Calls()); n != 2 || c != 1 {
		t.Errorf("Vonage got %d texts and %d calls, want 2 and 1", n, c)
	}
	if n := dlvMetric(t, reg1, "idp_send_ceiling_refused_total", map[string]string{"channel": "sms", "share": "verified"}); n != 1 {
		t.Errorf("process 1 idp_send_ceiling_refused_total{channel=sms,share=verified} = %v, want 1", n)
	}
	if n := dlvMetric(t, reg2, "idp_send_ceiling_refused_total", map[string]string{"channel": "voice", "share": "verified"}); n != 1 {
		t.Errorf("process 2 idp_send_ceiling_refused_total{channel=voice,share=verified} = %v, want 1", n)
	}
	if n := dlvMetric(t, reg2, "idp_send_daily_count", nil); n != 5 {
		t.Errorf("idp_send_daily_count = %v, want 5", n)
	}
	if n := dlvMetric(t, reg1, "idp_send_daily_ceiling", nil); n != 3 {
		t.Errorf("idp_send_daily_ceiling = %v, want 3", n)
	}
	if c := strings.Count(logs.String(), "daily ceiling of text messages and calls reached"); c != 1 {
		t.Errorf("ceiling warning logged %d times, want once:\n%s", c, logs.String())
	}
}

// The ceiling keeps 80% (IDP_SEND_CEILING_VERIFIED_SHARE) for challenges to
// verified numbers: texts and calls to new numbers get the rest, however many are
// asked for, and each share has its metrics and warnings.
func TestDeliveryCeilingShares(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "idp.db")
		dlvShares(t, dlvSQLite(t, path), dlvSQLite(t, path))
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.PostgresURL(t)
		dlvShares(t, dlvPostgres(t, url), dlvPostgres(t, url))
	})
}

func dlvShares(t *testing.T, db1, db2 store.Durable) {
	ctx := context.Background()
	fake := vonagetest.New(t)
	_, srv := dlvServer(t)
	cfg := dlvProduction(t, fake, "127.0.0.1:1", srv.URL, map[string]string{"IDP_SEND_DAILY_CEILING": "20"})
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	reg1, reg2 := prometheus.NewRegistry(), prometheus.NewRegistry()
	d1, err := OpenDelivery(ctx, cfg, db1, memory.New(), reg1, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := OpenDelivery(ctx, cfg, db2, memory.New(), reg2, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	// Both processes count the same day, whatever the time.
	day := time.Now().UTC().Truncate(24 * time.Hour).Add(12 * time.Hour)
	d1.setClock(func() time.Time { return day })
	d2.setClock(func() time.Time { return day })
	ds := []*Delivery{d1, d2}
	newNumber := factors.SMS{To: dlvMobile, Text: "Your code is 111111"}
	verified := factors.SMS{To: dlvMobile, Text: "Your code is 222222", Verified: true}

	// 20% of 20 is 4 for new numbers; 6 asked for, the last 2 refused.
	for i := range 6 {
		err := ds[i%2].SMS.SendSMS(ctx, newNumber)
		if i < 4 && err != nil {
			t.Fatalf("text %d to a new number: %v", i+1, err)
		}
		if i >= 4 && !errors.Is(err, factors.ErrSendCeiling) {
			t.Fatalf("text %d to a new number: %v, want ErrSendCeiling", i+1, err)
		}
	}
	if err := d1.Caller.PlaceCall(ctx, factors.Call{ID: "c1", To: dlvMobile, Script: "Press the hash key"}); !errors.Is(err, factors.ErrSendCeiling) {
		t.Fatalf("a call to a new number past its share: %v, want ErrSendCeiling", err)
	}
	// The enrolment spam took nothing from verified numbers: 16 go, then the day is full.
	for i := range 16 {
		if err := ds[i%2].SMS.SendSMS(ctx, verified); err != nil {
			t.Fatalf("text %d to a verified number: %v", i+1, err)
		}
	}
	if err := d2.Caller.PlaceCall(ctx, factors.Call{ID: "c2", To: dlvMobile, Script: "Press the hash key", Verified: true}); !errors.Is(err, factors.ErrSendCeiling) {
		t.Fatalf("a call to a verified number past the ceiling: %v, want ErrSendCeiling", err)
	}
	if n := len(fake.SentSMS()); n != 20 {
		t.Errorf("Vonage got %d texts, want 20", n)
	}

	for _, m := range []struct {
		reg    *prometheus.Registry
		name   string
		labels map[string]string
		want   float64
	}{
		{reg1, "idp_send_share_limit", map[string]string{"share": "verified"}, 16},
		{reg1, "idp_send_share_limit", map[string]string{"share": "enrolment"}, 4},
		{reg2, "idp_send_share_count", map[string]string{"share": "verified"}, 17},
		{reg2, "idp_send_share_count", map[string]string{"share": "enrolment"}, 7},
		{reg2, "idp_send_daily_count", nil, 24},
		{reg1, "idp_send_daily_ceiling", nil, 20},
	} {
		if got := dlvMetric(t, m.reg, m.name, m.labels); got != m.want {
			t.Errorf("%s%v = %v, want %v", m.name, m.labels, got, m.want)
		}
	}
	refused := func(share string) float64 {
		return dlvMetric(t, reg1, "idp_send_ceiling_refused_total", map[string]string{"share": share}) +
			dlvMetric(t, reg2, "idp_send_ceiling_refused_total", map[string]string{"share": share})
	}
	if e, v := refused("enrolment"), refused("verified"); e != 3 || v != 1 {
		t.Errorf("idp_send_ceiling_refused_total: enrolment %v, verified %v; want 3 and 1", e, v)
	}
	for _, w := range []string{
		"80% of the daily share of text messages and calls for numbers being enrolled is spent",
		"the daily share of text messages and calls for numbers being enrolled is spent; refusing them",
		"80% of the daily share of text messages and calls for numbers already verified is spent",
		"daily ceiling of text messages and calls reached",
	} {
		if c := strings.Count(logs.String(), w); c != 1 {
			t.Errorf("warning %q logged %d times, want once:\n%s", w, c, logs.String())
		}
	}
}

// A number outside IDP_PHONE_COUNTRIES is refused before it reaches Vonage or uses
// up the ceiling.
func TestDeliveryRefusesOtherCountries(t *testing.T) {
	ctx := context.Background()
	fake := vonagetest.New(t)
	_, srv := dlvServer(t)
	cfg := dlvProduction(t, fake, "127.0.0.1:1", srv.URL, map[string]string{"IDP_SEND_DAILY_CEILING": "1"})
	d, err := OpenDelivery(ctx, cfg, dlvSQLite(t, filepath.Join(t.TempDir(), "idp.db")), memory.New(), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"+33612345678", "+447700900123" /* a drama number, in production */, "+449098790000" /* premium rate */} {
		if err := d.SMS.SendSMS(ctx, factors.SMS{To: to, Text: "Your code is 111111"}); !errors.Is(err, factors.ErrUndeliverable) {
			t.Errorf("text to %s: %v, want ErrUndeliverable", to, err)
		}
	}
	if len(fake.SentSMS()) != 0 {
		t.Errorf("Vonage got %+v", fake.SentSMS())
	}
	if err := d.SMS.SendSMS(ctx, factors.SMS{To: dlvMobile, Text: "Your code is 111111", Verified: true}); err != nil {
		t.Errorf("the one text the ceiling allows: %v", err)
	}
}

// Without development mode every channel needs its provider: the configuration is
// refused with a line naming the setting, and OpenDelivery refuses such a
// configuration as well.
func TestDeliveryNeedsProviders(t *testing.T) {
	base := map[string]string{"IDP_DEV": "false", "IDP_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "idp.db")}
	_, err := config.Load(nil, func(k string) string { return base[k] })
	if err == nil || !strings.HasPrefix(err.Error(), "IDP_SMTP_URL: required when IDP_DEV is off (") {
		t.Errorf("no relay: %v", err)
	}
	base["IDP_SMTP_URL"], base["IDP_EMAIL_FROM"] = "smtp://127.0.0.1:2525", "a@example.org"
	_, err = config.Load(nil, func(k string) string { return base[k] })
	if err == nil || !strings.HasPrefix(err.Error(), "IDP_VONAGE_API_KEY: required when IDP_DEV is off (") {
		t.Errorf("no Vonage: %v", err)
	}

	for name, cfg := range map[string]*config.Config{
		"no relay":  {SendDailyCeiling: 1},
		"no Vonage": {SMTPURL: "smtp://127.0.0.1:2525", EmailFrom: "a@example.org", SendDailyCeiling: 1},
	} {
		_, err := OpenDelivery(context.Background(), cfg, dlvSQLite(t, filepath.Join(t.TempDir(), "idp.db")), memory.New(), nil, nil, nil)
		if err == nil || !strings.Contains(err.Error(), "required when IDP_DEV is off") {
			t.Errorf("%s: OpenDelivery error %v", name, err)
		}
	}
}

// Run may be called once; a second call returns at once.
func TestDeliveryRunOnce(t *testing.T) {
	cfg := load(t, map[string]string{"IDP_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "idp.db")})
	d, err := OpenDelivery(context.Background(), cfg, dlvSQLite(t, cfg.SQLitePath), memory.New(), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	dlvEventually(t, "the first Run to start", d.running.Load)
	d.Run(ctx) // returns at once, or the test hangs
	cancel()
	<-done
}

// Two processes, each with its own connection to Redis: a webhook accepted by one
// is refused as a replay by the other.
func TestDeliveryReplayAcrossProcessesOnRedis(t *testing.T) {
	ctx := context.Background()
	redisURL, prefix := storetest.Redis(t)
	fake := vonagetest.New(t)
	mux1, srv1 := dlvServer(t)
	mux2, srv2 := dlvServer(t)
	cfg := dlvProduction(t, fake, "127.0.0.1:1", srv1.URL, nil)
	db := dlvSQLite(t, filepath.Join(t.TempDir(), "idp.db"))
	for _, mux := range []*http.ServeMux{mux1, mux2} {
		eph, err := redis.Open(ctx, redisURL, prefix)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eph.Close() })
		d, err := OpenDelivery(ctx, cfg, db, eph, nil, vonagetest.NewOutcomes(), nil)
		if err != nil {
			t.Fatal(err)
		}
		d.Register(mux, nil)
	}
	body := []byte(`{"status":"busy","uuid":"u-2"}`)
	token := fake.Sign(body, nil)
	if resp, err := fake.Post(ctx, srv1.URL+"/webhooks/vonage/event/challenge-2", body, token); err != nil || resp.Status != http.StatusNoContent {
		t.Fatalf("first delivery of the webhook: %+v %v, want 204", resp, err)
	}
	if resp, err := fake.Post(ctx, srv2.URL+"/webhooks/vonage/event/challenge-2", body, token); err != nil || resp.Status != http.StatusUnauthorized {
		t.Errorf("the same webhook at the other process: %+v %v, want 401", resp, err)
	}
}

// dlvInboxLatest is the newest dev inbox message on channel to to.
func dlvInboxLatest(t *testing.T, d *Delivery, channel factors.Channel, to string) (dev.Item, bool) {
	t.Helper()
	it, ok, err := d.Inbox.Latest(context.Background(), channel, to)
	if err != nil {
		t.Fatalf("read the dev inbox: %v", err)
	}
	return it, ok
}

// The call placed for a challenge is remembered in the ephemeral store: another
// process receiving the webhooks refuses one that names another call, and takes
// the call's own.
func TestDeliveryCallBindingSharedByProcesses(t *testing.T) {
	ctx := context.Background()
	fake := vonagetest.New(t)
	mux1, srv1 := dlvServer(t)
	mux2, srv2 := dlvServer(t)
	cfg := dlvProduction(t, fake, "127.0.0.1:1", srv1.URL, nil)
	db := dlvSQLite(t, filepath.Join(t.TempDir(), "idp.db"))
	eph := memory.New() // shared, as Redis is
	outcomes := vonagetest.NewOutcomes("challenge-3")
	var placer *Delivery
	for i, mux := range []*http.ServeMux{mux1, mux2} {
		d, err := OpenDelivery(ctx, cfg, db, eph, nil, outcomes, nil)
		if err != nil {
			t.Fatal(err)
		}
		d.Register(mux, nil)
		if i == 0 {
			placer = d
		}
	}
	if err := placer.Caller.PlaceCall(ctx, factors.Call{ID: "challenge-3", To: dlvMobile, Script: "Press the hash key"}); err != nil {
		t.Fatal(err)
	}
	call := fake.Calls()[0]
	at2 := srv2.URL + "/webhooks/vonage/input/challenge-3"
	other := []byte(`{"uuid":"00000000-0000-4000-8000-000000000000","dtmf":{"digits":"#","timed_out":false}}`)
	if resp, err := fake.PostSigned(ctx, at2, other); err != nil || resp.Status != http.StatusUnauthorized {
		t.Errorf("another call's webhook at the other process: %+v %v, want 401", resp, err)
	}
	if r := outcomes.Result("challenge-3"); r != "" {
		t.Fatalf("settled by another call: %q", r)
	}
	own := []byte(`{"uuid":"` + call.UUID + `","dtmf":{"digits":"#","timed_out":false}}`)
	if resp, err := fake.PostSigned(ctx, at2, own); err != nil || resp.Status != http.StatusOK {
		t.Errorf("the call's own webhook at the other process: %+v %v, want 200", resp, err)
	}
	if r := outcomes.Result("challenge-3"); r != factors.CallConfirmed {
		t.Errorf("outcome %q, want confirmed", r)
	}
}
