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
	// Tuning paces the worker (store/outbox's defaults: poll every 1s, batches of 5,
	// 5m leases, 30s sends, retries from 5s doubling to 5m, giving up after 24h).
	outbox.Tuning
	Logger *slog.Logger
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
		Recipient: func(m *store.OutboxMessage) string { return maskAddress(m.Recipient) },
		Tuning:    cfg.Tuning, Logger: cfg.Logger, Registerer: cfg.Registerer, Now: cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	return &Worker{w}, nil
}
