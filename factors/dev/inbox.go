package dev

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/phone"
)

// DefaultCapacity is how many messages an Inbox keeps; older ones are dropped.
const DefaultCapacity = 500

// Item is one captured message or simulated call.
type Item struct {
	ID        string
	Channel   factors.Channel
	To        string // email address or E.164 number
	Subject   string // empty for sms and voice
	Body      string // plain text; the script of a voice call
	Code      string // the 6-digit code in the subject or body, or empty
	CreatedAt time.Time
	// CallPending is true for a voice item until it is answered or hung up.
	CallPending bool
}

// Inbox captures messages instead of sending them. It is safe for concurrent use.
type Inbox struct {
	log *slog.Logger
	now func() time.Time

	mu       sync.Mutex
	outcomes factors.CallOutcomes
	ring     []Item // ring[(start+i)%cap] for i < n, oldest first
	start, n int
}

var (
	_ factors.EmailSender = (*Inbox)(nil)
	_ factors.SMSSender   = (*Inbox)(nil)
	_ factors.Caller      = (*Inbox)(nil)
)

// NewInbox returns an empty Inbox keeping the latest DefaultCapacity messages.
// outcomes receives the results of simulated calls; it may be nil and set later with
// SetCallOutcomes, since the code that consumes call outcomes is usually built after
// the senders. log may be nil.
func NewInbox(outcomes factors.CallOutcomes, log *slog.Logger) *Inbox {
	return newInbox(outcomes, log, DefaultCapacity)
}

func newInbox(outcomes factors.CallOutcomes, log *slog.Logger, capacity int) *Inbox {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Inbox{log: log, now: time.Now, outcomes: outcomes, ring: make([]Item, capacity)}
}

// SetCallOutcomes sets where the results of simulated calls are reported.
func (in *Inbox) SetCallOutcomes(o factors.CallOutcomes) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.outcomes = o
}

// SendEmail captures an email. The body is the plain-text part, or the HTML part when
// there is no plain text.
func (in *Inbox) SendEmail(ctx context.Context, m factors.Email) error {
	body := m.Text
	if body == "" {
		body = m.HTML
	}
	id, err := newID()
	if err != nil {
		return fmt.Errorf("dev: send email: %w", err)
	}
	in.add(ctx, Item{ID: id, Channel: factors.ChannelEmail, To: m.To, Subject: m.Subject, Body: body})
	return nil
}

// SendSMS captures a text message.
func (in *Inbox) SendSMS(ctx context.Context, m factors.SMS) error {
	id, err := newID()
	if err != nil {
		return fmt.Errorf("dev: send sms: %w", err)
	}
	in.add(ctx, Item{ID: id, Channel: factors.ChannelSMS, To: m.To, Body: m.Text})
	return nil
}

// PlaceCall captures a call as a pending voice item whose id is the call's id, so
// that answering it from the inbox reports the outcome under that id.
func (in *Inbox) PlaceCall(ctx context.Context, c factors.Call) error {
	if c.ID == "" {
		return fmt.Errorf("dev: place call: empty call id")
	}
	in.add(ctx, Item{ID: c.ID, Channel: factors.ChannelVoice, To: c.To, Body: c.Script, CallPending: true})
	return nil
}

// codePattern finds a one-time code: six digits standing on their own.
var codePattern = regexp.MustCompile(`\b\d{6}\b`)

func (in *Inbox) add(ctx context.Context, it Item) {
	it.Code = codePattern.FindString(it.Subject + "\n" + it.Body)
	it.CreatedAt = in.now().UTC()
	in.mu.Lock()
	capacity := len(in.ring)
	if in.n < capacity {
		in.ring[(in.start+in.n)%capacity] = it
		in.n++
	} else {
		in.ring[in.start] = it // overwrite the oldest
		in.start = (in.start + 1) % capacity
	}
	in.mu.Unlock()
	in.log.InfoContext(ctx, "dev inbox: message captured, not sent",
		slog.String("channel", string(it.Channel)), slog.String("to", maskRecipient(it.Channel, it.To)))
}

// Items returns the captured messages, newest first.
func (in *Inbox) Items() []Item {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]Item, 0, in.n)
	for i := in.n - 1; i >= 0; i-- {
		out = append(out, in.ring[(in.start+i)%len(in.ring)])
	}
	return out
}

// Latest returns the newest message on channel to the recipient to.
func (in *Inbox) Latest(channel factors.Channel, to string) (Item, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i := in.n - 1; i >= 0; i-- {
		it := in.ring[(in.start+i)%len(in.ring)]
		if it.Channel == channel && it.To == to {
			return it, true
		}
	}
	return Item{}, false
}

// findCall returns the ring index of the newest voice item with this id.
// The caller holds in.mu.
func (in *Inbox) findCall(id string) (int, bool) {
	for i := in.n - 1; i >= 0; i-- {
		idx := (in.start + i) % len(in.ring)
		if it := in.ring[idx]; it.Channel == factors.ChannelVoice && it.ID == id {
			return idx, true
		}
	}
	return 0, false
}

func newID() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// maskRecipient hides most of an address or number for logs.
func maskRecipient(ch factors.Channel, to string) string {
	if ch != factors.ChannelEmail {
		return phone.Mask(to)
	}
	local, domain, ok := strings.Cut(to, "@")
	if !ok || local == "" {
		return "***"
	}
	_, size := utf8.DecodeRuneInString(local)
	return local[:size] + "***@" + domain
}
