package email

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/store"
)

// Outbox is the factors.EmailSender the journeys use in production: it queues the
// message in the durable outbox and returns. A nil error means the message is stored
// and will be delivered (or end as failed, visible to operators), even if this
// process stops now.
type Outbox struct {
	store store.Outbox
	// wake, when set, tells this process's worker there is work, so delivery does not
	// wait for its next poll.
	wake func()
	log  *slog.Logger
	now  func() time.Time
}

var _ factors.EmailSender = (*Outbox)(nil)

// NewOutbox returns an Outbox writing to s. worker may be nil (a process that only
// queues); log may be nil.
func NewOutbox(s store.Outbox, worker *Worker, log *slog.Logger) *Outbox {
	o := &Outbox{store: s, log: log, now: time.Now}
	if worker != nil {
		o.wake = worker.Wake
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	return o
}

// SendEmail queues m. A message that could never be sent (no valid recipient, a
// header with a line break) is refused here, wrapping factors.ErrUndeliverable.
func (o *Outbox) SendEmail(ctx context.Context, m factors.Email) error {
	msg, err := o.Message(m)
	if err != nil {
		return err
	}
	if err := o.store.EnqueueOutbox(ctx, msg); err != nil {
		return fmt.Errorf("email: queue message: %w", err)
	}
	o.Queued(ctx, msg)
	return nil
}

// Message is the outbox row SendEmail would queue for m, for a caller that
// writes it in the same transaction as the change it announces (a store method
// that takes a notice *store.OutboxMessage), so that both are stored or
// neither. It refuses what SendEmail refuses; after the write, Queued.
func (o *Outbox) Message(m factors.Email) (*store.OutboxMessage, error) {
	if _, err := checkEmail(m); err != nil {
		return nil, fmt.Errorf("email: queue message: %w: %w", factors.ErrUndeliverable, err)
	}
	return &store.OutboxMessage{
		Channel:   string(factors.ChannelEmail),
		Recipient: m.To,
		Subject:   m.Subject,
		Text:      m.Text,
		HTML:      m.HTML,
		CreatedAt: o.now().UTC(),
	}, nil
}

// Queued records that msg, from Message, is in the outbox: it is logged and
// this process's worker told, so delivery does not wait for its next poll.
func (o *Outbox) Queued(ctx context.Context, msg *store.OutboxMessage) {
	o.log.InfoContext(ctx, "email: queued", slog.Int64("outbox_id", msg.ID), slog.String("to", maskAddress(msg.Recipient)))
	if o.wake != nil {
		o.wake()
	}
}

// maskAddress hides most of an address for logs: a***@example.org.
func maskAddress(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "***"
	}
	r := []rune(local)
	return string(r[:1]) + "***@" + domain
}
