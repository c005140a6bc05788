package vonage

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/councilforms/idp/factors"
)

// Client sends text messages and places calls through one Vonage account, and
// serves Vonage's webhooks (Handler). It is safe for concurrent use.
type Client struct {
	cfg  Config
	key  *rsa.PrivateKey
	http *http.Client
	log  *slog.Logger
	now  func() time.Time

	calls    CallBook
	clientIP func(*http.Request) string
	// throttleWait is the wait before the first retry of a throttled text.
	throttleWait time.Duration
	receipts     *receiptLimiter

	sent    *prometheus.CounterVec
	failed  *prometheus.CounterVec
	latency *prometheus.HistogramVec
	// receiptsRefused counts delivery receipts refused past the rate limit.
	receiptsRefused prometheus.Counter
}

var (
	_ factors.SMSSender = (*Client)(nil)
	_ factors.Caller    = (*Client)(nil)
)

// Options are the optional parts of a Client.
type Options struct {
	// HTTPClient makes the API requests; nil means one with a 10 second timeout.
	HTTPClient *http.Client
	// Logger may be nil.
	Logger *slog.Logger
	// Registerer receives the send metrics; nil means none are registered.
	Registerer prometheus.Registerer
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// Calls remembers which Vonage call each challenge is, for every process
	// that receives webhooks; nil means a MemoryCallBook (one process only).
	Calls CallBook
	// ClientIP names the sender of a delivery receipt for its rate limit (the
	// wiring's rule for trusted proxies); nil means the peer address.
	ClientIP func(*http.Request) string
	// ThrottleWait is the wait before a throttled text is tried again, doubling
	// with each retry; zero means DefaultThrottleWait. Tests make it short.
	ThrottleWait time.Duration
}

// New checks cfg and returns a client.
func New(cfg Config, opts Options) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("vonage: %w", err)
	}
	key, err := parsePrivateKey(cfg.PrivateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("vonage: private key: %w", err)
	}
	c := &Client{cfg: cfg, key: key, http: opts.HTTPClient, log: opts.Logger, now: opts.Now,
		calls: opts.Calls, clientIP: opts.ClientIP, throttleWait: opts.ThrottleWait}
	if c.throttleWait <= 0 {
		c.throttleWait = DefaultThrottleWait
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 10 * time.Second}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.calls == nil {
		c.calls = NewMemoryCallBook()
	}
	if c.clientIP == nil {
		c.clientIP = peerAddr
	}
	c.receipts = newReceiptLimiter(c.now)
	c.sent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idp_messages_sent_total", Help: "Messages accepted by a provider, by channel and provider.",
		ConstLabels: prometheus.Labels{"provider": "vonage"},
	}, []string{"channel"})
	c.failed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idp_messages_failed_total", Help: "Messages a provider refused or could not take, by channel, provider and reason.",
		ConstLabels: prometheus.Labels{"provider": "vonage"},
	}, []string{"channel", "reason"})
	c.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "idp_message_send_seconds", Help: "Time to hand a message to a provider, by channel and provider.",
		ConstLabels: prometheus.Labels{"provider": "vonage"},
		Buckets:     []float64{.05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"channel"})
	c.receiptsRefused = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "idp_vonage_receipts_refused_total", Help: "Unsigned SMS delivery receipts refused past the rate limit (429).",
	})
	if opts.Registerer != nil {
		for _, m := range []prometheus.Collector{c.sent, c.failed, c.latency, c.receiptsRefused} {
			if err := opts.Registerer.Register(m); err != nil {
				return nil, fmt.Errorf("vonage: register metrics: %w", err)
			}
		}
	}
	return c, nil
}

// observe records the outcome of one send for the metrics.
func (c *Client) observe(ch factors.Channel, start time.Time, err error) {
	c.latency.WithLabelValues(string(ch)).Observe(time.Since(start).Seconds())
	switch {
	case err == nil:
		c.sent.WithLabelValues(string(ch)).Inc()
	case errors.Is(err, factors.ErrUndeliverable):
		c.failed.WithLabelValues(string(ch), "undeliverable").Inc()
	case errors.Is(err, factors.ErrProviderUnavailable):
		c.failed.WithLabelValues(string(ch), "provider_unavailable").Inc()
	default:
		c.failed.WithLabelValues(string(ch), "error").Inc()
	}
}

// randomHex returns n random bytes in hex.
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// peerAddr is the host of the request's peer address.
func peerAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
