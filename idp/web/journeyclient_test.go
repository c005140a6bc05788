package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/messages"
	"github.com/councilforms/idp/factors/otp"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/provider"
)

// countingProvider answers LoginRequest for one sign-in request and counts
// the reads: each is a read of the request from the ephemeral store and of
// its form app from the durable one.
type countingProvider struct {
	Provider // other methods are not used
	lr       provider.LoginRequest
	reads    int
}

func (p *countingProvider) LoginRequest(_ *http.Request, id string) (*provider.LoginRequest, error) {
	p.reads++
	if id != p.lr.ID {
		return nil, provider.ErrUnknownAuthRequest
	}
	lr := p.lr
	return &lr, nil
}

type capturedSMS struct{ sent []factors.SMS }

func (c *capturedSMS) SendSMS(_ context.Context, m factors.SMS) error {
	c.sent = append(c.sent, m)
	return nil
}

// A text sent in a sign-in journey counts against its form app's day (the
// message carries the form app's id). The journey keeps the id from its
// start, so sending reads no sign-in request back; a journey saved before it
// kept the id (JSON without "cid") still finds it, by the one read it took
// before.
func TestTextSendKnowsTheFormApp(t *testing.T) {
	p := journey.DefaultPolicy()
	p.NewPasswordRule = func(string) error { return nil }
	m, err := journey.New(p, otp.NewHasher([]byte("test key: 32 bytes of not-random")))
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := messages.New("Some Council")
	if err != nil {
		t.Fatal(err)
	}
	prov := &countingProvider{lr: provider.LoginRequest{ID: "ar-1", ClientID: "referrals", ClientName: "Make a referral"}}
	sms := &capturedSMS{}
	now := time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC)
	h := &Handler{Deps: Deps{Provider: prov, Machine: m, Messages: msgs, SMS: sms, Log: slog.Default(),
		Now: func() time.Time { return now }}}
	r := httptest.NewRequest("POST", "/login/phone", nil)
	send := journey.SendSMSCode{To: "+447700900123", Code: "123456"}

	started := m.NewSignIn("j-1", "ar-1", now)
	startedFor(started, &prov.lr)
	prov.reads = 0
	if _, _, err := h.performSends(r, journey.Result{State: started, Effects: []journey.Effect{send}}); err != nil {
		t.Fatal(err)
	}
	if prov.reads != 0 {
		t.Errorf("a text send read the sign-in request %d times, want none", prov.reads)
	}

	// The same journey as an earlier release saved it: no "cid".
	old, err := journey.Unmarshal([]byte(`{"v":1,"id":"j-1","ar":"ar-1","kind":"sign_in","step":"phone_sms_code","created":"2026-06-02T09:00:00Z","client_name":"Make a referral"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.performSends(r, journey.Result{State: old, Effects: []journey.Effect{send}}); err != nil {
		t.Fatal(err)
	}
	if prov.reads != 1 {
		t.Errorf("a text send for an older journey read the sign-in request %d times, want 1", prov.reads)
	}
	if len(sms.sent) != 2 {
		t.Fatalf("%d texts sent, want 2", len(sms.sent))
	}
	for i, got := range sms.sent {
		if got.ClientID != "referrals" {
			t.Errorf("text %d counts for form app %q, want referrals", i, got.ClientID)
		}
	}
}
