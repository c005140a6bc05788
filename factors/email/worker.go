package email

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/outbox"
)

// WorkerConfig tunes a Worker; zero fields take the defaults in brackets.
type WorkerConfig struct {
	Store  store.Outbox
	Sender Sender
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
	Logger      *slog.Logger
	// Registerer receives the metrics; nil means none are registered.
	Registerer prometheus.Registerer
	// Now is the clock [time.Now].
	Now func() time.Time
}

// Worker delivers the email channel of the outbox through a Sender (store/outbox
// does the claiming, retries and giving up). Run it in every server process.
type Worker struct{ *outbox.Worker }

// NewWorker checks cfg, fills defaults and registers the metrics.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if cfg.Store == nil || cfg.Sender == nil {
		return nil, errors.New("email: worker needs a store and a sender")
	}
	w, err := outbox.New(outbox.Config{
		Store: cfg.Store, Channel: string(factors.ChannelEmail), Provider: cfg.Sender.Provider(),
		Deliver: func(ctx context.Context, m *store.OutboxMessage) error {
			return cfg.Sender.Send(ctx, factors.Email{To: m.Recipient, Subject: m.Subject, Text: m.Text, HTML: m.HTML})
		},
		Recipient:    func(m *store.OutboxMessage) string { return maskAddress(m.Recipient) },
		PollInterval: cfg.PollInterval, Batch: cfg.Batch, Lease: cfg.Lease, SendTimeout: cfg.SendTimeout,
		MinBackoff: cfg.MinBackoff, MaxBackoff: cfg.MaxBackoff, GiveUpAfter: cfg.GiveUpAfter,
		Logger: cfg.Logger, Registerer: cfg.Registerer, Now: cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	return &Worker{w}, nil
}
