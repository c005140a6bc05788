package vonage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/vonage"
	"github.com/councilforms/idp/factors/vonage/vonagetest"
)

type harness struct {
	fake     *vonagetest.Fake
	client   *vonage.Client
	outcomes *vonagetest.Outcomes
	idp      *httptest.Server
	receipts []vonage.Receipt
	reg      *prometheus.Registry
}

const (
	mobile   = "+447700900123"
	landline = "+441632960123"
)

func newHarness(t *testing.T, from string, pending ...string) *harness {
	t.Helper()
	h := &harness{fake: vonagetest.New(t), outcomes: vonagetest.NewOutcomes(pending...), reg: prometheus.NewRegistry()}
	var handler http.Handler
	h.idp = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(h.idp.Close)
	// A throttled text is retried a millisecond apart, not half a second.
	c, err := vonage.New(h.fake.Config(h.idp.URL, from), vonage.Options{Registerer: h.reg, ThrottleWait: time.Millisecond})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.client = c
	var mu sync.Mutex
	handler = c.Handler(h.outcomes, vonage.NewMemoryReplayGuard(), func(_ context.Context, r vonage.Receipt) error {
		mu.Lock()
		defer mu.Unlock()
		h.receipts = append(h.receipts, r)
		return nil
	})
	t.Cleanup(func() {
		if p := h.fake.Problems(); len(p) > 0 {
			t.Errorf("requests the real API would refuse: %q", p)
		}
	})
	return h
}

func TestSMSAccepted(t *testing.T) {
	h := newHarness(t, "NorfolkCC")
	if err := h.client.SendSMS(context.Background(), factors.SMS{To: mobile, Text: "Your code is 123456"}); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	sent := h.fake.SentSMS()
	if len(sent) != 1 {
		t.Fatalf("fake got %d messages, want 1", len(sent))
	}
	m := sent[0]
	if m.To != "447700900123" || m.From != "NorfolkCC" || m.Text != "Your code is 123456" || m.Type != "" {
		t.Errorf("sent %+v", m)
	}
	if len(m.ClientRef) == 0 || len(m.ClientRef) > 40 {
		t.Errorf("client-ref %q", m.ClientRef)
	}
	if got := counterValue(t, h.reg, "idp_messages_sent_total", "sms"); got != 1 {
		t.Errorf("sent metric = %v, want 1", got)
	}
}

// counterValue sums the counter name for one channel in the registry.
func counterValue(t *testing.T, reg *prometheus.Registry, name, channel string) float64 {
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
			for _, l := range m.GetLabel() {
				if l.GetName() == "channel" && l.GetValue() == channel {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

func TestSMSUnicode(t *testing.T) {
	h := newHarness(t, "NorfolkCC")
	if err := h.client.SendSMS(context.Background(), factors.SMS{To: mobile, Text: "Cod: 123456 – diolch"}); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	if got := h.fake.SentSMS()[0].Type; got != "unicode" {
		t.Errorf("type = %q, want unicode for a text outside GSM", got)
	}
}

func TestSMSErrors(t *testing.T) {
	for _, tc := range []struct {
		status        string
		undeliverable bool
		unavailable   bool
		meaning       string
	}{
		{"9", false, true, "no credit"},
		{"7", true, false, "number barred"},
		{"3", true, false, "invalid"},
		{"29", true, false, "trial"},
		{"33", true, false, "de-activated"},
		{"4", false, true, "invalid credentials"},
		{"8", false, true, "account barred"},
		{"5", false, true, "internal error"},
		{"1", false, true, "throttled"},
		{"12", false, false, "too long"},
	} {
		t.Run(tc.status, func(t *testing.T) {
			h := newHarness(t, "NorfolkCC")
			h.fake.SetSMSStatus(mobile, tc.status)
			err := h.client.SendSMS(context.Background(), factors.SMS{To: mobile, Text: "Your code is 123456"})
			var se *vonage.SMSError
			if !errors.As(err, &se) || se.Status != tc.status {
				t.Fatalf("err = %v, want *SMSError with status %s", err, tc.status)
			}
			if got := errors.Is(err, factors.ErrUndeliverable); got != tc.undeliverable {
				t.Errorf("errors.Is(ErrUndeliverable) = %v, want %v", got, tc.undeliverable)
			}
			if got := errors.Is(err, factors.ErrProviderUnavailable); got != tc.unavailable {
				t.Errorf("errors.Is(ErrProviderUnavailable) = %v, want %v", got, tc.unavailable)
			}
			if !strings.Contains(err.Error(), tc.meaning) {
				t.Errorf("error %q does not say %q", err, tc.meaning)
			}
			if strings.Contains(err.Error(), "123456") || strings.Contains(err.Error(), h.fake.APISecret) {
				t.Errorf("error %q leaks the code or the secret", err)
			}
			wantTries := 1
			if tc.status == "1" {
				wantTries = 3 // throttling is tried again twice
			}
			if n := len(h.fake.SentSMS()); n != wantTries {
				t.Errorf("fake saw %d requests, want %d", n, wantTries)
			}
		})
	}
}

func TestSMSBadCredentials(t *testing.T) {
	f := vonagetest.New(t)
	cfg := f.Config("https://idp.example.gov.uk", "NorfolkCC")
	cfg.APISecret = "wrong"
	c, err := vonage.New(cfg, vonage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = c.SendSMS(context.Background(), factors.SMS{To: mobile, Text: "hi"})
	if !errors.Is(err, factors.ErrProviderUnavailable) || !strings.Contains(err.Error(), "status 4") {
		t.Fatalf("err = %v, want provider unavailable with status 4", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error echoes the secret: %v", err)
	}
}

func TestSMSProviderDown(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	defer down.Close()
	f := vonagetest.New(t)
	cfg := f.Config("https://idp.example.gov.uk", "NorfolkCC")
	cfg.RestURL = down.URL
	c, err := vonage.New(cfg, vonage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendSMS(context.Background(), factors.SMS{To: mobile, Text: "hi"}); !errors.Is(err, factors.ErrProviderUnavailable) {
		t.Fatalf("err = %v, want ErrProviderUnavailable", err)
	}
}

func TestSMSRefusesNonE164(t *testing.T) {
	h := newHarness(t, "NorfolkCC")
	for _, to := range []string{"07700900123", "447700900123", "+44 7700 900123", ""} {
		if err := h.client.SendSMS(context.Background(), factors.SMS{To: to, Text: "hi"}); !errors.Is(err, factors.ErrUndeliverable) {
			t.Errorf("SendSMS(%q) = %v, want ErrUndeliverable", to, err)
		}
	}
	if n := len(h.fake.SentSMS()); n != 0 {
		t.Errorf("fake got %d requests", n)
	}
}

const script = "This is an automated call from Norfolk County Council. Press the hash key."

func placeCall(t *testing.T, h *harness, id, to string) vonagetest.Call {
	t.Helper()
	if err := h.client.PlaceCall(context.Background(), factors.Call{ID: id, To: to, Script: script}); err != nil {
		t.Fatalf("PlaceCall: %v", err)
	}
	calls := h.fake.Calls()
	if len(calls) == 0 {
		t.Fatal("no call placed")
	}
	return calls[len(calls)-1]
}

func TestCallPlaced(t *testing.T) {
	h := newHarness(t, "+441632960000", "call-1")
	c := placeCall(t, h, "call-1", landline)
	if c.To != "441632960123" || c.From != "441632960000" || c.RandomFromNumber {
		t.Errorf("call %+v", c)
	}
	if c.Script != script || c.TalkLoop != 2 {
		t.Errorf("talk %q loop %d, want the script said twice", c.Script, c.TalkLoop)
	}
	if c.InputURL != h.idp.URL+"/webhooks/vonage/input/call-1" || c.EventURL != h.idp.URL+"/webhooks/vonage/event/call-1" {
		t.Errorf("webhook URLs %q %q", c.InputURL, c.EventURL)
	}
}

func TestCallFromSenderIDUsesRandomNumber(t *testing.T) {
	h := newHarness(t, "NorfolkCC", "call-1")
	if c := placeCall(t, h, "call-1", landline); !c.RandomFromNumber || c.From != "" {
		t.Errorf("call %+v, want random_from_number", c)
	}
}

func TestCallErrors(t *testing.T) {
	for _, tc := range []struct {
		status      int
		unavailable bool
	}{
		{http.StatusPaymentRequired, true},
		{http.StatusInternalServerError, true},
		{http.StatusBadRequest, false},
	} {
		h := newHarness(t, "+441632960000")
		h.fake.SetCallStatus(landline, tc.status)
		err := h.client.PlaceCall(context.Background(), factors.Call{ID: "c", To: landline, Script: script})
		if err == nil || errors.Is(err, factors.ErrProviderUnavailable) != tc.unavailable {
			t.Errorf("HTTP %d: err = %v, want provider unavailable %v", tc.status, err, tc.unavailable)
		}
		if tc.status == http.StatusPaymentRequired && !strings.Contains(err.Error(), "no credit") {
			t.Errorf("HTTP 402: %v does not say no credit", err)
		}
	}
}

func TestCallWrongKeyRefused(t *testing.T) {
	f := vonagetest.New(t)
	other := vonagetest.New(t) // another application's key
	cfg := f.Config("https://idp.example.gov.uk", "+441632960000")
	cfg.PrivateKeyPEM = other.PrivateKeyPEM
	c, err := vonage.New(cfg, vonage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = c.PlaceCall(context.Background(), factors.Call{ID: "c", To: landline, Script: script})
	if !errors.Is(err, factors.ErrProviderUnavailable) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want 401 provider unavailable", err)
	}
	if p := f.Problems(); len(p) != 1 || !strings.Contains(p[0], "signature") {
		t.Errorf("fake problems %q, want one about the signature", p)
	}
}

func nccoText(t *testing.T, body []byte) string {
	t.Helper()
	var ncco []struct{ Action, Text string }
	if err := json.Unmarshal(body, &ncco); err != nil || len(ncco) != 1 || ncco[0].Action != "talk" {
		t.Fatalf("answer %s is not one talk action", body)
	}
	return ncco[0].Text
}

func TestCallConfirmedByHash(t *testing.T) {
	h := newHarness(t, "+441632960000", "call-1")
	placeCall(t, h, "call-1", landline)
	resp, err := h.fake.PressHash(context.Background(), landline)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("PressHash: %v %d %s", err, resp.Status, resp.Body)
	}
	if got := h.outcomes.Result("call-1"); got != factors.CallConfirmed {
		t.Errorf("outcome %q, want confirmed", got)
	}
	if say := nccoText(t, resp.Body); !strings.Contains(say, "return to the page") {
		t.Errorf("says %q", say)
	}
	// The hang-up that follows does not change a settled challenge.
	resp, err = h.fake.Status(context.Background(), landline, "completed", "")
	if err != nil || resp.Status != http.StatusNoContent {
		t.Fatalf("completed: %v %d", err, resp.Status)
	}
	if got := h.outcomes.Result("call-1"); got != factors.CallConfirmed {
		t.Errorf("outcome after completed %q", got)
	}
}

func TestCallOtherKeyNotConfirmed(t *testing.T) {
	h := newHarness(t, "+441632960000", "call-1")
	placeCall(t, h, "call-1", landline)
	if _, err := h.fake.PressKeys(context.Background(), landline, "5"); err != nil {
		t.Fatal(err)
	}
	if got := h.outcomes.Result("call-1"); got != factors.CallTimedOut {
		t.Errorf("outcome %q, want timed_out for a key other than #", got)
	}
}

func TestCallTimedOut(t *testing.T) {
	h := newHarness(t, "+441632960000", "call-1")
	placeCall(t, h, "call-1", landline)
	resp, err := h.fake.TimeOut(context.Background(), landline)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("TimeOut: %v %d", err, resp.Status)
	}
	if got := h.outcomes.Result("call-1"); got != factors.CallTimedOut {
		t.Errorf("outcome %q, want timed_out", got)
	}
	if say := nccoText(t, resp.Body); !strings.Contains(say, "did not hear") {
		t.Errorf("says %q", say)
	}
}

func TestCallStatuses(t *testing.T) {
	for status, want := range map[string]factors.CallResult{
		"rejected":   factors.CallRejected,
		"busy":       factors.CallBusy,
		"unanswered": factors.CallUnanswered,
		"timeout":    factors.CallUnanswered,
		"failed":     factors.CallFailed,
		"completed":  factors.CallTimedOut, // hung up without pressing anything
	} {
		h := newHarness(t, "+441632960000", "call-1")
		placeCall(t, h, "call-1", landline)
		for _, s := range []string{"started", "ringing", "answered"} {
			if resp, err := h.fake.Status(context.Background(), landline, s, ""); err != nil || resp.Status != http.StatusNoContent {
				t.Fatalf("%s: %v %d", s, err, resp.Status)
			}
		}
		if got := h.outcomes.Result("call-1"); got != "" {
			t.Fatalf("progress events settled the call: %q", got)
		}
		resp, err := h.fake.Status(context.Background(), landline, status, "")
		if err != nil || resp.Status != http.StatusNoContent {
			t.Fatalf("%s: %v %d", status, err, resp.Status)
		}
		if got := h.outcomes.Result("call-1"); got != want {
			t.Errorf("%s: outcome %q, want %q", status, got, want)
		}
	}
}

func TestRejectHelper(t *testing.T) {
	h := newHarness(t, "+441632960000", "call-1")
	placeCall(t, h, "call-1", landline)
	if _, err := h.fake.Reject(context.Background(), landline); err != nil {
		t.Fatal(err)
	}
	if got := h.outcomes.Result("call-1"); got != factors.CallRejected {
		t.Errorf("outcome %q, want rejected", got)
	}
}

// An event for one challenge cannot settle another: the id is in the URL it was given.
func TestEventOnlySettlesItsOwnCall(t *testing.T) {
	h := newHarness(t, "+441632960000", "call-1", "call-2")
	placeCall(t, h, "call-1", landline)
	placeCall(t, h, "call-2", "+441632960999")
	if _, err := h.fake.PressHash(context.Background(), landline); err != nil {
		t.Fatal(err)
	}
	if h.outcomes.Result("call-1") != factors.CallConfirmed || h.outcomes.Result("call-2") != "" {
		t.Errorf("results %v", h.outcomes.Results())
	}
}

// A validly signed webhook of one call, posted to another challenge's URL, is
// refused: its body names the other call (security review finding 16).
func TestWebhookOfAnotherCallRefused(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "+441632960000", "call-1", "call-2")
	placeCall(t, h, "call-1", landline)
	placeCall(t, h, "call-2", "+441632960999")
	c1, c2 := h.fake.Calls()[0], h.fake.Calls()[1]
	for _, tc := range []struct {
		url  string
		body string
	}{
		{c2.InputURL, `{"dtmf":{"digits":"#","timed_out":false},"uuid":"` + c1.UUID + `"}`},
		{c2.EventURL, `{"status":"rejected","uuid":"` + c1.UUID + `"}`},
		{c2.InputURL, `{"dtmf":{"digits":"#","timed_out":false}}`},
		{c2.EventURL, `{"status":"busy","uuid":""}`},
	} {
		resp, err := h.fake.PostSigned(ctx, tc.url, []byte(tc.body))
		if err != nil || resp.Status != http.StatusUnauthorized {
			t.Errorf("%s at %s: %v %d, want 401", tc.body, tc.url, err, resp.Status)
		}
	}
	if got := h.outcomes.Result("call-2"); got != "" {
		t.Errorf("another call's webhook settled call-2: %q", got)
	}
	if _, err := h.fake.PressHash(ctx, "+441632960999"); err != nil {
		t.Fatal(err)
	}
	if got := h.outcomes.Result("call-2"); got != factors.CallConfirmed {
		t.Errorf("call-2's own webhook: %q, want confirmed", got)
	}
}

// A webhook that arrives before PlaceCall has recorded its call binds the
// challenge to it; the call's own answer then agrees, and another call cannot
// take it over.
func TestCallBookFirstBindWins(t *testing.T) {
	ctx := context.Background()
	b := vonage.NewMemoryCallBook()
	for _, tc := range []struct{ id, uuid, want string }{
		{"c1", "u1", "u1"}, {"c1", "u1", "u1"}, {"c1", "u2", "u1"}, {"c2", "u2", "u2"},
	} {
		if got, err := b.Bind(ctx, tc.id, tc.uuid, time.Minute); err != nil || got != tc.want {
			t.Errorf("Bind(%s, %s) = %q %v, want %q", tc.id, tc.uuid, got, err, tc.want)
		}
	}
}

func TestWebhookAuthentication(t *testing.T) {
	ctx := context.Background()
	body := []byte(`{"dtmf":{"digits":"#","timed_out":false},"uuid":"u"}`)
	for _, tc := range []struct {
		name  string
		token func(f *vonagetest.Fake) string
		body  []byte
	}{
		{"unsigned", func(*vonagetest.Fake) string { return "" }, body},
		{"wrong secret", func(*vonagetest.Fake) string { return vonagetest.SignWith("not-the-secret", body, nil) }, body},
		{"tampered body", func(f *vonagetest.Fake) string { return f.Sign(body, nil) },
			[]byte(`{"dtmf":{"digits":"#","timed_out":false},"uuid":"v"}`)},
		{"no payload_hash", func(f *vonagetest.Fake) string {
			return f.Sign(body, func(c map[string]any) { delete(c, "payload_hash") })
		}, body},
		{"stale iat", func(f *vonagetest.Fake) string {
			return f.Sign(body, func(c map[string]any) { c["iat"] = time.Now().Add(-10 * time.Minute).Unix() })
		}, body},
		{"future iat", func(f *vonagetest.Fake) string {
			return f.Sign(body, func(c map[string]any) { c["iat"] = time.Now().Add(10 * time.Minute).Unix() })
		}, body},
		{"no iat", func(f *vonagetest.Fake) string { return f.Sign(body, func(c map[string]any) { delete(c, "iat") }) }, body},
		{"no jti", func(f *vonagetest.Fake) string { return f.Sign(body, func(c map[string]any) { delete(c, "jti") }) }, body},
		{"other account", func(f *vonagetest.Fake) string {
			return f.Sign(body, func(c map[string]any) { c["api_key"] = "someone-else" })
		}, body},
		{"alg none", func(f *vonagetest.Fake) string {
			tok := f.Sign(body, nil)
			parts := strings.Split(tok, ".")
			return "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
		}, body},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "+441632960000", "call-1")
			placeCall(t, h, "call-1", landline)
			c := h.fake.Calls()[0]
			for _, u := range []string{c.InputURL, c.EventURL} {
				resp, err := h.fake.Post(ctx, u, tc.body, tc.token(h.fake))
				if err != nil {
					t.Fatal(err)
				}
				if resp.Status != http.StatusUnauthorized {
					t.Errorf("%s: status %d, want 401", u, resp.Status)
				}
			}
			if got := h.outcomes.Result("call-1"); got != "" {
				t.Errorf("refused webhook settled the call: %q", got)
			}
		})
	}
}

func TestWebhookReplayRefused(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "+441632960000", "call-1", "call-2")
	placeCall(t, h, "call-1", landline)
	c := h.fake.Calls()[0]
	body := []byte(`{"dtmf":{"digits":"","timed_out":true},"uuid":"` + c.UUID + `"}`)
	tok := h.fake.Sign(body, nil)
	resp, err := h.fake.Post(ctx, c.InputURL, body, tok)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("first: %v %d", err, resp.Status)
	}
	// The same signed request again, even towards another challenge, is refused.
	h.outcomes.Expect("call-1")
	for _, u := range []string{c.InputURL, strings.Replace(c.InputURL, "call-1", "call-2", 1)} {
		resp, err = h.fake.Post(ctx, u, body, tok)
		if err != nil || resp.Status != http.StatusUnauthorized {
			t.Fatalf("replay to %s: %v %d, want 401", u, err, resp.Status)
		}
	}
	if h.outcomes.Result("call-2") != "" {
		t.Error("replay settled another call")
	}
}

func TestInputDTMFAsString(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "+441632960000", "call-1", "call-2")
	placeCall(t, h, "call-1", landline)
	c := h.fake.Calls()[0]
	body := []byte(`{"dtmf":"#","timed_out":false,"uuid":"` + c.UUID + `"}`)
	if resp, err := h.fake.PostSigned(ctx, c.InputURL, body); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("%v %d", err, resp.Status)
	}
	if got := h.outcomes.Result("call-1"); got != factors.CallConfirmed {
		t.Errorf("outcome %q, want confirmed", got)
	}
	// call-2 was not placed here: its first webhook binds it to its call.
	body = []byte(`{"dtmf":"","timed_out":true,"uuid":"call-2-uuid"}`)
	u := strings.Replace(c.InputURL, "call-1", "call-2", 1)
	if resp, err := h.fake.PostSigned(ctx, u, body); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("%v %d", err, resp.Status)
	}
	if got := h.outcomes.Result("call-2"); got != factors.CallTimedOut {
		t.Errorf("outcome %q, want timed_out", got)
	}
}

func TestInputForFinishedCall(t *testing.T) {
	h := newHarness(t, "+441632960000") // nothing pending
	placeCall(t, h, "gone", landline)
	resp, err := h.fake.PressHash(context.Background(), landline)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("%v %d", err, resp.Status)
	}
	if say := nccoText(t, resp.Body); !strings.Contains(say, "no longer needed") {
		t.Errorf("says %q", say)
	}
}

func TestSMSReceipts(t *testing.T) {
	h := newHarness(t, "NorfolkCC")
	q := url.Values{"msisdn": {"447700900123"}, "to": {"NorfolkCC"}, "messageId": {"0A0000000123ABCD1"},
		"status": {"delivered"}, "err-code": {"0"}, "client-ref": {"ref-1"}, "message-timestamp": {"2026-03-14 09:26:53"}}
	resp, err := http.Get(h.idp.URL + vonage.SMSReceiptPath + "?" + q.Encode())
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("GET receipt: %v %v", err, resp.StatusCode)
	}
	q.Set("status", "failed")
	q.Set("err-code", "6")
	resp, err = http.Post(h.idp.URL+vonage.SMSReceiptPath, "application/x-www-form-urlencoded", strings.NewReader(q.Encode()))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST receipt: %v %v", err, resp.StatusCode)
	}
	js, _ := json.Marshal(map[string]string{"msisdn": "447700900123", "messageId": "X2", "status": "expired", "err-code": "5"})
	resp, err = http.Post(h.idp.URL+vonage.SMSReceiptPath, "application/json", bytes.NewReader(js))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST JSON receipt: %v %v", err, resp.StatusCode)
	}
	if len(h.receipts) != 3 {
		t.Fatalf("recorded %d receipts, want 3", len(h.receipts))
	}
	r := h.receipts[0]
	if r.MessageID != "0A0000000123ABCD1" || r.Status != "delivered" || r.ClientRef != "ref-1" ||
		!r.Time.Equal(time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)) {
		t.Errorf("receipt %+v", r)
	}
	if h.receipts[1].Status != "failed" || h.receipts[1].ErrCode != "6" || h.receipts[2].Status != "expired" {
		t.Errorf("receipts %+v", h.receipts[1:])
	}
}

func TestConfigValidate(t *testing.T) {
	f := vonagetest.New(t)
	good := f.Config("https://idp.example.gov.uk", "NorfolkCC")
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, tc := range []struct {
		edit func(c *vonage.Config)
		want string
	}{
		{func(c *vonage.Config) { c.APIKey = "" }, "IDP_VONAGE_API_KEY"},
		{func(c *vonage.Config) { c.APISecret = "" }, "IDP_VONAGE_API_SECRET"},
		{func(c *vonage.Config) { c.ApplicationID = "" }, "IDP_VONAGE_APPLICATION_ID"},
		{func(c *vonage.Config) { c.PrivateKeyPEM = nil }, "IDP_VONAGE_PRIVATE_KEY_FILE"},
		{func(c *vonage.Config) { c.PrivateKeyPEM = []byte("not a key") }, "IDP_VONAGE_PRIVATE_KEY_FILE"},
		{func(c *vonage.Config) { c.SignatureSecret = "" }, "IDP_VONAGE_SIGNATURE_SECRET"},
		{func(c *vonage.Config) { c.From = "" }, "IDP_VONAGE_FROM"},
		{func(c *vonage.Config) { c.From = "Norfolk County Council" }, "IDP_VONAGE_FROM"},
		{func(c *vonage.Config) { c.RestURL = "ftp://x" }, "IDP_VONAGE_REST_URL"},
		{func(c *vonage.Config) { c.APIURL = "not a url" }, "IDP_VONAGE_API_URL"},
		{func(c *vonage.Config) { c.EventBaseURL = "http://idp.example.gov.uk" }, "IDP_ISSUER"},
	} {
		c := good
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Validate = %v, want one line starting %s", err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), f.APISecret) || strings.Contains(err.Error(), f.SignatureSecret)) {
			t.Errorf("Validate error leaks a secret: %v", err)
		}
	}
}

// A signature secret shorter than the HS256 hash is still usable: accounts have them.
func TestWebhookShortSignatureSecret(t *testing.T) {
	f := vonagetest.New(t)
	f.SignatureSecret = "Sh0rtS3cret"
	o := vonagetest.NewOutcomes("call-1")
	var handler http.Handler
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	defer idp.Close()
	c, err := vonage.New(f.Config(idp.URL, "+441632960000"), vonage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	handler = c.Handler(o, vonage.NewMemoryReplayGuard(), nil)
	if err := c.PlaceCall(context.Background(), factors.Call{ID: "call-1", To: landline, Script: script}); err != nil {
		t.Fatal(err)
	}
	if resp, err := f.PressHash(context.Background(), landline); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("PressHash: %v %d", err, resp.Status)
	}
	if got := o.Result("call-1"); got != factors.CallConfirmed {
		t.Errorf("outcome %q", got)
	}
}

func TestInboundCallAnswered(t *testing.T) {
	h := newHarness(t, "+441632960000")
	resp, err := http.Get(h.idp.URL + vonage.AnswerPath + "?from=447700900123")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("answer: %v %v", err, resp.StatusCode)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if say := nccoText(t, b.Bytes()); !strings.Contains(say, "does not take calls") {
		t.Errorf("says %q", say)
	}
}
