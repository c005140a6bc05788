package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/dev"
	"github.com/councilforms/idp/factors/email"
	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/factors/vonage"
	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/sendguard"
	"github.com/councilforms/idp/idp/server"
	"github.com/councilforms/idp/store"
)

// Delivery is how codes and calls reach people: the three senders the login pages
// use, the routes the providers call back on, and the background work that sends
// queued email. OpenDelivery chooses the providers, one channel at a time:
//
//	email:          IDP_SMTP_URL set   -> durable outbox + worker -> SMTP relay
//	                else IDP_DEV       -> dev inbox
//	texts, calls:   IDP_VONAGE_ set    -> Vonage (SMS API, Voice API, signed webhooks)
//	                else IDP_DEV       -> dev inbox (simulated calls)
//
// Without IDP_DEV a channel with no provider is an error (config.Load refuses it
// first), so nothing is ever dropped silently. With IDP_DEV and both providers
// configured nothing is captured and the dev inbox does not exist.
//
// Every text message and call, whatever its provider, passes idp/sendguard first:
// an allowed number and the day's ceiling across every server process.
type Delivery struct {
	Email  factors.EmailSender
	SMS    factors.SMSSender
	Caller factors.Caller
	// Inbox captures the messages of the channels that have no provider in
	// development mode; nil when nothing is captured.
	Inbox *dev.Inbox

	log      *slog.Logger
	audit    store.Audit
	eph      store.Ephemeral
	outcomes factors.CallOutcomes
	devPeers []netip.Prefix // besides loopback, the peers the dev inbox answers
	vonage   *vonage.Client // nil without Vonage
	worker   *email.Worker  // nil without SMTP
	// receiptCap bounds the SMS delivery receipts written to the audit log per UTC
	// day: receipts are not signed, so anyone could post them.
	receiptCap int64
	running    atomic.Bool
	guard      *sendguard.Guard
}

// setClock makes the daily ceiling read time from now (tests move it on).
func (d *Delivery) setClock(now func() time.Time) { d.guard.SetClock(now) }

// Keys of the delivery's records in the stores.
const (
	replayKeyPrefix  = store.KeyVonageReplay
	receiptKeyPrefix = store.KeyVonageReceipts
	// callKeyPrefix + challenge id holds the uuid of the Vonage call placed for it
	// (store.Ephemeral), so a webhook settles only its own call's challenge.
	callKeyPrefix = store.KeyVonageCall
)

// OpenDelivery builds the senders cfg selects (see Delivery). durable holds the email
// outbox, the send counters and the audit log; eph remembers the ids of Vonage
// webhooks already accepted, so a replay is refused whichever process receives it,
// and holds the dev inbox's messages and simulated calls, so that every process
// shows them and answers the calls.
// outcomes receives the results of calls, from the dev call simulator or from
// Vonage's webhooks; it may forward to handlers built later. reg receives the
// metrics (nil: none); log may be nil. Nothing is sent until Run is called for
// email; texts and calls are sent at once.
func OpenDelivery(ctx context.Context, cfg *config.Config, durable store.Durable, eph store.Ephemeral,
	reg *prometheus.Registry, outcomes factors.CallOutcomes, log *slog.Logger) (*Delivery, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var registerer prometheus.Registerer // a nil *Registry must not become a non-nil interface
	if reg != nil {
		registerer = reg
	}
	if outcomes == nil {
		outcomes = noOutcomes{}
	}
	d := &Delivery{
		log: log, audit: durable, eph: eph, outcomes: outcomes, devPeers: cfg.DevPeers,
		receiptCap: cfg.Ceiling().Receipts(),
	}
	var inbox *dev.Inbox
	captured := func() *dev.Inbox {
		if inbox == nil {
			inbox = dev.NewInbox(eph, outcomes, log, dev.WithTTL(devInboxTTL(journey.DefaultPolicy())))
		}
		return inbox
	}

	switch {
	case cfg.SMTPConfigured():
		sender, err := email.NewSMTPSender(cfg.SMTP(), nil)
		if err != nil {
			return nil, err
		}
		w, err := email.NewWorker(email.WorkerConfig{Store: durable, Sender: sender, Logger: log, Registerer: registerer})
		if err != nil {
			return nil, err
		}
		d.worker = w
		d.Email = email.NewOutbox(durable, w, log)
	case cfg.Dev:
		d.Email = captured()
	default:
		return nil, errors.New("IDP_SMTP_URL: required when IDP_DEV is off (verification codes are emailed through it)")
	}

	var sms factors.SMSSender
	var caller factors.Caller
	switch {
	case cfg.VonageConfigured():
		key, err := cfg.ReadVonagePrivateKey()
		if err != nil {
			return nil, err
		}
		trusted := cfg.TrustedProxies
		c, err := vonage.New(cfg.Vonage(key), vonage.Options{
			Logger: log, Registerer: registerer,
			Calls:    vonage.CallBookFunc(d.bindCall),
			ClientIP: func(r *http.Request) string { return server.ClientIP(r, trusted) },
		})
		if err != nil {
			return nil, err
		}
		d.vonage, sms, caller = c, c, c
	case cfg.Dev:
		sms, caller = captured(), captured()
	default:
		return nil, errors.New("IDP_VONAGE_API_KEY: required when IDP_DEV is off (text messages and calls are sent through Vonage)")
	}

	if inbox != nil {
		// The factors' SMTP worker and Vonage client count their own sends; the dev
		// inbox is counted here, under the same metric names, as provider "dev".
		m, err := newSendMetrics("dev", registerer)
		if err != nil {
			return nil, err
		}
		d.Inbox = inbox
		if d.Email == inbox {
			d.Email = meteredEmail{inbox, m}
		}
		if sms == inbox {
			sms, caller = meteredSMS{inbox, m}, meteredCaller{inbox, m}
		}
	}

	guard, err := sendguard.New(sendguard.Config{
		Counters: durable, Daily: durable, Ceiling: cfg.Ceiling(), Numbers: phoneRules(cfg), Registerer: registerer, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	d.guard = guard
	d.SMS = guard.SMS(sms)
	d.Caller = guard.Caller(caller)
	return d, nil
}

// Register mounts the routes the chosen providers need on mux, and nothing else:
//
//	dev inbox (development mode, channels without a provider), to loopback peers
//	and IDP_DEV_PEERS only:
//	  GET /dev/inbox, GET /dev/inbox.json, POST /dev/calls/{id}/keypress, POST /dev/calls/{id}/hangup
//	Vonage webhooks (when Vonage is configured), under vonage.WebhookPrefix:
//	  POST /webhooks/vonage/input/{id}, POST /webhooks/vonage/event/{id},
//	  GET|POST /webhooks/vonage/sms-receipt, GET|POST /webhooks/vonage/answer
//
// Each route is registered with its method, so none conflicts with a catch-all such
// as "GET /" on the same mux. Vonage sends no Origin or Sec-Fetch-Site header, so the
// webhooks pass cross-origin protection without a bypass. render draws the inbox
// page (nil: a plain page).
func (d *Delivery) Register(mux *http.ServeMux, render dev.RenderFunc) {
	if d.Inbox != nil {
		d.Inbox.Register(mux, render, d.devPeers...)
	}
	if d.vonage == nil {
		return
	}
	h := d.vonage.Handler(d.outcomes, vonage.ReplayGuardFunc(d.seenWebhook), d.recordReceipt)
	for _, pattern := range []string{
		"POST " + vonage.WebhookPrefix + "input/{id}",
		"POST " + vonage.WebhookPrefix + "event/{id}",
		"GET " + vonage.SMSReceiptPath,
		"POST " + vonage.SMSReceiptPath,
		"GET " + vonage.AnswerPath,
		"POST " + vonage.AnswerPath,
	} {
		mux.Handle(pattern, h)
	}
}

// Run sends queued email until ctx is cancelled, then returns once the worker has
// stopped; call it in its own goroutine, once per process (every process runs one:
// the outbox's claim lease keeps two from sending the same message). Without an SMTP
// relay there is nothing to do and it just waits for ctx. A second call returns at
// once.
func (d *Delivery) Run(ctx context.Context) {
	if !d.running.CompareAndSwap(false, true) {
		d.log.Warn("delivery: Run called twice; the second call does nothing")
		return
	}
	if d.worker == nil {
		<-ctx.Done()
		return
	}
	if err := d.worker.Run(ctx); err != nil {
		d.log.Error("delivery: email worker stopped", slog.String("error", err.Error()))
	}
}

// seenWebhook is the Vonage ReplayGuard: the first Create of a jti wins in every
// process sharing the ephemeral store; a second one is a replay.
func (d *Delivery) seenWebhook(ctx context.Context, jti string, ttl time.Duration) (bool, error) {
	err := d.eph.Create(ctx, replayKeyPrefix+jti, []byte("1"), ttl)
	if errors.Is(err, store.ErrConflict) {
		return true, nil
	}
	return false, err
}

// bindCall is the Vonage CallBook: the first Create of a challenge's call wins in
// every process sharing the ephemeral store; later ones read what it recorded.
func (d *Delivery) bindCall(ctx context.Context, callID, uuid string, ttl time.Duration) (string, error) {
	err := d.eph.Create(ctx, callKeyPrefix+callID, []byte(uuid), ttl)
	if err == nil {
		return uuid, nil
	}
	if !errors.Is(err, store.ErrConflict) {
		return "", fmt.Errorf("delivery: record the call of challenge: %w", err)
	}
	bound, _, err := d.eph.Get(ctx, callKeyPrefix+callID)
	if err != nil {
		return "", fmt.Errorf("delivery: read the call of challenge: %w", err)
	}
	return string(bound), nil
}

// recordReceipt writes an SMS delivery receipt to the audit log: the status, error
// code, Vonage's message id, our client-ref and the masked number; never the text
// (receipts carry none). Receipts are unsigned, so at most receiptCap are written
// per UTC day; the rest are only counted and dropped (answered as accepted, so
// Vonage does not resend them).
func (d *Delivery) recordReceipt(ctx context.Context, r vonage.Receipt) error {
	now := time.Now().UTC()
	n, err := d.eph.Incr(ctx, receiptKeyPrefix+now.Format("2006-01-02"), 25*time.Hour)
	if err != nil {
		return fmt.Errorf("delivery: count sms receipts: %w", err)
	}
	if n > d.receiptCap {
		if n == d.receiptCap+1 {
			d.log.WarnContext(ctx, "delivery: too many sms delivery receipts today; the rest are not recorded",
				slog.Int64("cap", d.receiptCap))
		}
		return nil
	}
	detail := "status=" + strconv.Quote(r.Status) + " err-code=" + strconv.Quote(r.ErrCode) +
		" message-id=" + strconv.Quote(r.MessageID) + " client-ref=" + strconv.Quote(r.ClientRef) +
		" to=" + strconv.Quote(phone.Mask("+"+r.To))
	return d.audit.AppendAudit(ctx, &store.AuditEvent{Time: now, Kind: "sms.receipt", Detail: detail})
}

// devInboxTTL is how long the dev inbox keeps a message in the ephemeral store:
// longer than any code or call in it lives, with a margin, and no longer.
func devInboxTTL(p journey.Policy) time.Duration {
	return max(p.EmailCodeTTL, p.SMSCodeTTL, p.CallTimeout) + 20*time.Minute
}

// noOutcomes stands in when no CallOutcomes was given: every call is unknown.
type noOutcomes struct{}

func (noOutcomes) RecordCallOutcome(context.Context, string, factors.CallResult) error {
	return factors.ErrUnknownCall
}

// sendMetrics are the per-provider send metrics, with the names, help and labels the
// factors use, so that every provider shares the families in one registry.
type sendMetrics struct {
	sent    *prometheus.CounterVec
	failed  *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

func newSendMetrics(provider string, reg prometheus.Registerer) (*sendMetrics, error) {
	labels := prometheus.Labels{"provider": provider}
	m := &sendMetrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idp_messages_sent_total", Help: "Messages accepted by a provider, by channel and provider.",
			ConstLabels: labels,
		}, []string{"channel"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idp_messages_failed_total", Help: "Messages a provider refused or could not take, by channel, provider and reason.",
			ConstLabels: labels,
		}, []string{"channel", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "idp_message_send_seconds", Help: "Time to hand a message to a provider, by channel and provider.",
			ConstLabels: labels,
			Buckets:     []float64{.05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"channel"}),
	}
	// The series exist at zero from the start, so that an alert on increase()
	// sees the first failure.
	for _, ch := range []factors.Channel{factors.ChannelEmail, factors.ChannelSMS, factors.ChannelVoice} {
		m.sent.WithLabelValues(string(ch))
		for _, reason := range []string{"undeliverable", "provider_unavailable", "error"} {
			m.failed.WithLabelValues(string(ch), reason)
		}
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.sent, m.failed, m.latency} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("delivery: register metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *sendMetrics) observe(ch factors.Channel, start time.Time, err error) {
	m.latency.WithLabelValues(string(ch)).Observe(time.Since(start).Seconds())
	switch {
	case err == nil:
		m.sent.WithLabelValues(string(ch)).Inc()
	case errors.Is(err, factors.ErrUndeliverable):
		m.failed.WithLabelValues(string(ch), "undeliverable").Inc()
	case errors.Is(err, factors.ErrProviderUnavailable):
		m.failed.WithLabelValues(string(ch), "provider_unavailable").Inc()
	default:
		m.failed.WithLabelValues(string(ch), "error").Inc()
	}
}

type meteredEmail struct {
	next factors.EmailSender
	m    *sendMetrics
}

func (s meteredEmail) SendEmail(ctx context.Context, e factors.Email) (err error) {
	defer func(start time.Time) { s.m.observe(factors.ChannelEmail, start, err) }(time.Now())
	return s.next.SendEmail(ctx, e)
}

type meteredSMS struct {
	next factors.SMSSender
	m    *sendMetrics
}

func (s meteredSMS) SendSMS(ctx context.Context, msg factors.SMS) (err error) {
	defer func(start time.Time) { s.m.observe(factors.ChannelSMS, start, err) }(time.Now())
	return s.next.SendSMS(ctx, msg)
}

type meteredCaller struct {
	next factors.Caller
	m    *sendMetrics
}

func (c meteredCaller) PlaceCall(ctx context.Context, call factors.Call) (err error) {
	defer func(start time.Time) { c.m.observe(factors.ChannelVoice, start, err) }(time.Now())
	return c.next.PlaceCall(ctx, call)
}
