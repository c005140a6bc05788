// Package outbox delivers the durable outbox (store.Outbox) for one channel:
// a Worker claims due messages under a lease (so two processes never take the
// same one), hands each to the channel's Deliver function, and marks it sent,
// or schedules a retry with exponential backoff and jitter, or gives up after
// GiveUpAfter or on an error wrapping ErrPermanent. Email (factors/email) runs
// one, and so do back-channel logout notices and the ends of sessions
// (idp/provider), which are jobs (Config.Jobs), not messages.
//
// It never logs message bodies; the channel says how a recipient is named in logs.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/councilforms/idp/store"
)

// ErrPermanent wrapped in a Deliver error: the message can never be delivered
// (the recipient refused it for good); it is marked failed without retries.
var ErrPermanent = errors.New("permanently refused")

// Tuning is how a Worker paces its work; zero fields take the defaults in brackets.
type Tuning struct {
	// PollInterval is how often the outbox is checked without a wake-up [1s]: it picks
	// up retries that come due and messages queued by other processes.
	PollInterval time.Duration
	// Batch is how many messages one claim takes [5].
	Batch int
	// Lease is how long a claimed message is this worker's before another may take it
	// over [5m]. It should exceed SendTimeout times Batch; a claimed message whose lease
	// would end before a send could finish is left for the next claim.
	Lease time.Duration
	// SendTimeout bounds one delivery [30s].
	SendTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait before a retry, which doubles with each
	// attempt and has ±20% jitter [5s, 5m].
	MinBackoff, MaxBackoff time.Duration
	// GiveUpAfter is how long after it was queued a message stops being retried and is
	// marked failed [24h].
	GiveUpAfter time.Duration
}

// Config is what a Worker delivers and how; zero fields take the defaults in brackets.
type Config struct {
	Store store.Outbox
	// Channel is the outbox channel this worker claims ("email", "backchannel_logout").
	Channel string
	// Provider names who delivers, for the metrics' provider label ("smtp").
	Provider string
	// Jobs: the channel's entries are work for the servers (a logout notice to a
	// form app, the end of a person's sessions), not messages to people. They are
	// counted as idp_outbox_jobs_total{kind,outcome} and idp_outbox_job_seconds{kind}
	// (kind: the channel), not as idp_messages_*.
	Jobs bool
	// Deliver tries one message once, within ctx (bounded by SendTimeout).
	Deliver func(ctx context.Context, m *store.OutboxMessage) error
	// Recipient is how logs name a message's recipient [masked: its first character].
	Recipient func(m *store.OutboxMessage) string
	Tuning
	Logger *slog.Logger
	// Registerer receives the metrics; nil means none are registered.
	Registerer prometheus.Registerer
	// Now is the clock [time.Now].
	Now func() time.Time
}

// Worker delivers one channel of the outbox. Run it in every server process; the
// store's claim lease keeps two workers from sending the same message.
type Worker struct {
	cfg  Config
	wake chan struct{}

	// outcomes counts deliveries by outcome, latency times them.
	outcomes map[string]prometheus.Counter
	retries  prometheus.Counter
	latency  prometheus.Observer
}

// The outcomes of a delivery: done (a message sent), refused for good, or
// given up after GiveUpAfter.
const (
	outcomeDone    = "done"
	outcomeRefused = "refused"
	outcomeExpired = "expired"
)

// New checks cfg, fills defaults and registers the metrics.
func New(cfg Config) (*Worker, error) {
	if cfg.Store == nil || cfg.Deliver == nil || cfg.Channel == "" || cfg.Provider == "" {
		return nil, errors.New("outbox: worker needs a store, a channel, a provider name and a deliver function")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.PollInterval, time.Second)
	def(&cfg.Lease, 5*time.Minute)
	def(&cfg.SendTimeout, 30*time.Second)
	def(&cfg.MinBackoff, 5*time.Second)
	def(&cfg.MaxBackoff, 5*time.Minute)
	def(&cfg.GiveUpAfter, 24*time.Hour)
	if cfg.Batch <= 0 {
		cfg.Batch = 5
	}
	if cfg.Lease < 2*cfg.SendTimeout {
		return nil, fmt.Errorf("outbox: worker lease %v must be at least twice the send timeout %v", cfg.Lease, cfg.SendTimeout)
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Recipient == nil {
		cfg.Recipient = maskRecipient
	}
	w := &Worker{cfg: cfg, wake: make(chan struct{}, 1), outcomes: map[string]prometheus.Counter{}}
	provider := prometheus.Labels{"provider": cfg.Provider}
	w.retries = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "idp_outbox_retries_total", Help: "Outbox deliveries that failed and were scheduled again.",
		ConstLabels: provider,
	})
	var metrics []prometheus.Collector
	if cfg.Jobs {
		metrics = w.jobMetrics()
	} else {
		metrics = w.messageMetrics(provider)
	}
	if cfg.Registerer != nil {
		for _, m := range append(metrics, w.retries) {
			if err := cfg.Registerer.Register(m); err != nil {
				return nil, fmt.Errorf("outbox: register metrics: %w", err)
			}
		}
	}
	return w, nil
}

// sendBuckets bound the time of one delivery, in seconds.
var sendBuckets = []float64{.05, .1, .25, .5, 1, 2.5, 5, 10}

// messageMetrics are a message channel's metrics. Names, help and labels
// match the other providers' metrics so that they share families in one
// registry. This worker's series exist at zero from the start, so that an
// alert on increase() sees the first failure.
func (w *Worker) messageMetrics(provider prometheus.Labels) []prometheus.Collector {
	sent := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idp_messages_sent_total", Help: "Messages accepted by a provider, by channel and provider.",
		ConstLabels: provider,
	}, []string{"channel"})
	failed := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idp_messages_failed_total", Help: "Messages a provider refused or could not take, by channel, provider and reason.",
		ConstLabels: provider,
	}, []string{"channel", "reason"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "idp_message_send_seconds", Help: "Time to hand a message to a provider, by channel and provider.",
		ConstLabels: provider,
		Buckets:     sendBuckets,
	}, []string{"channel"})
	w.outcomes[outcomeDone] = sent.WithLabelValues(w.cfg.Channel)
	for _, reason := range []string{outcomeRefused, outcomeExpired} {
		w.outcomes[reason] = failed.WithLabelValues(w.cfg.Channel, reason)
	}
	w.latency = latency.WithLabelValues(w.cfg.Channel)
	return []prometheus.Collector{sent, failed, latency}
}

// jobMetrics are a job channel's metrics, one series per outcome at zero from
// the start.
func (w *Worker) jobMetrics() []prometheus.Collector {
	kind := prometheus.Labels{"kind": w.cfg.Channel}
	jobs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idp_outbox_jobs_total", Help: "Outbox jobs that are not messages to people (logout notices, ends of sessions), by kind and outcome.",
		ConstLabels: kind,
	}, []string{"outcome"})
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "idp_outbox_job_seconds", Help: "Time to carry out one outbox job, by kind.",
		ConstLabels: kind,
		Buckets:     sendBuckets,
	})
	for _, outcome := range []string{outcomeDone, outcomeRefused, outcomeExpired} {
		w.outcomes[outcome] = jobs.WithLabelValues(outcome)
	}
	w.latency = latency
	return []prometheus.Collector{jobs, latency}
}

// Wake makes Run look at the outbox now rather than at its next poll. It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers messages until ctx is cancelled, then returns nil. A message being
// sent when ctx ends is finished or, if the relay does not answer in time, left to
// its lease and taken over later.
func (w *Worker) Run(ctx context.Context) error {
	t := time.NewTicker(w.cfg.PollInterval)
	defer t.Stop()
	for {
		for {
			n, err := w.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				w.cfg.Logger.ErrorContext(ctx, w.cfg.Channel+": outbox worker", slog.String("error", err.Error()))
			}
			if err != nil || n < w.cfg.Batch {
				break // a full batch means there may be more: claim again at once
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-w.wake:
		}
	}
}

// RunOnce claims one batch of due messages and tries each once; it returns how many
// it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	ms, err := w.cfg.Store.ClaimOutbox(ctx, w.cfg.Channel, w.cfg.Now(), w.cfg.Batch, w.cfg.Lease)
	if err != nil {
		return 0, fmt.Errorf("%s: claim: %w", w.cfg.Channel, err)
	}
	for _, m := range ms {
		if ctx.Err() != nil {
			// Unsent claimed messages wait for their lease to end; nothing is lost.
			return len(ms), ctx.Err()
		}
		if w.cfg.Now().Add(w.cfg.SendTimeout).After(m.NextAttemptAt) {
			// Slow sends ate the lease: another worker may take this one over before a
			// send could finish, so leave it to them rather than risk sending it twice.
			continue
		}
		w.deliver(ctx, m)
	}
	return len(ms), nil
}

// deliver tries one claimed message and records the result.
func (w *Worker) deliver(ctx context.Context, m *store.OutboxMessage) {
	log := w.cfg.Logger.With(slog.String("channel", m.Channel), slog.Int64("outbox_id", m.ID),
		slog.String("to", w.cfg.Recipient(m)), slog.Int("attempt", m.Attempts))
	sendCtx, cancel := context.WithTimeout(ctx, w.cfg.SendTimeout)
	start := time.Now()
	err := w.cfg.Deliver(sendCtx, m)
	cancel()
	w.latency.Observe(time.Since(start).Seconds())

	// The outcome is recorded even if ctx has just been cancelled: a sent message
	// left unmarked would be sent again after its lease.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer rcancel()
	now := w.cfg.Now()
	switch {
	case err == nil:
		w.outcomes[outcomeDone].Inc()
		if merr := w.cfg.Store.MarkOutboxSent(rctx, m.ID, now); merr != nil {
			log.ErrorContext(ctx, "outbox: sent but not marked; it may be sent again", slog.String("error", merr.Error()))
			return
		}
		log.InfoContext(ctx, "outbox: sent")
	case errors.Is(err, ErrPermanent):
		w.outcomes[outcomeRefused].Inc()
		w.markFailed(rctx, log, m, err)
	case now.Sub(m.CreatedAt) >= w.cfg.GiveUpAfter:
		w.outcomes[outcomeExpired].Inc()
		w.markFailed(rctx, log, m, fmt.Errorf("gave up after %s: %w", w.cfg.GiveUpAfter, err))
	default:
		w.retries.Inc()
		next := now.Add(w.backoff(m.Attempts))
		if merr := w.cfg.Store.MarkOutboxRetry(rctx, m.ID, next, errorText(err)); merr != nil {
			log.ErrorContext(ctx, "outbox: could not schedule retry; it is retried when its lease ends", slog.String("error", merr.Error()))
			return
		}
		log.WarnContext(ctx, "outbox: not sent, will retry", slog.Time("next_attempt", next), slog.String("error", err.Error()))
	}
}

func (w *Worker) markFailed(ctx context.Context, log *slog.Logger, m *store.OutboxMessage, err error) {
	if merr := w.cfg.Store.MarkOutboxFailed(ctx, m.ID, errorText(err)); merr != nil {
		log.ErrorContext(ctx, "outbox: could not mark failed", slog.String("error", merr.Error()))
		return
	}
	log.ErrorContext(ctx, "outbox: gave up", slog.String("error", err.Error()))
}

// backoff is the wait before attempt number attempts+1: MinBackoff doubling per
// attempt up to MaxBackoff, with ±20% jitter so that workers do not retry in step.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.cfg.MinBackoff
	for i := 1; i < attempts && d < w.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.cfg.MaxBackoff)
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

// errorText bounds an error for the last_error column.
func errorText(err error) string {
	s := err.Error()
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}

// maskRecipient hides most of a recipient for logs: its first character only
// (an email address keeps its domain: a***@example.org).
func maskRecipient(m *store.OutboxMessage) string {
	r := []rune(m.Recipient)
	if len(r) == 0 {
		return "***"
	}
	if _, domain, ok := strings.Cut(m.Recipient, "@"); ok && r[0] != '@' {
		return string(r[:1]) + "***@" + domain
	}
	return string(r[:1]) + "***"
}
