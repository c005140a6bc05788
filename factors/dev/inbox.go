package dev

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/store"
)

// DefaultCapacity is how many messages an Inbox keeps; older ones are dropped.
const DefaultCapacity = 500

// DefaultTTL is how long an Inbox keeps a message unless told otherwise
// (WithTTL): the codes in it are long dead by then.
const DefaultTTL = 30 * time.Minute

// Keys of the inbox's records in its Store.
const (
	// indexKey lists the latest messages, newest first (a capped list of
	// indexEntry values: recipient and id, so a read for some recipients fetches
	// only their messages).
	indexKey = store.KeyDevInboxIndex
	// itemKeyPrefix + id holds one message or simulated call (JSON of record).
	itemKeyPrefix = store.KeyDevInboxItem
)

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

// record is an Item as the Store keeps it.
type record struct {
	Item
	// ExpiresAt is when the store drops the record; answering a call keeps it.
	ExpiresAt time.Time
}

// Store is where an Inbox keeps what it captures: the server's ephemeral store
// (store.Ephemeral). On Redis every idp process sharing it shows every message
// and answers every call, so the inbox works behind a load balancer; in-process
// (embedded mode) it serves the one process. Each message is a record with a TTL,
// and a capped list holds the ids of the latest ones.
type Store interface {
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Get(ctx context.Context, key string) (value []byte, version int64, err error)
	GetMany(ctx context.Context, keys ...string) ([][]byte, error)
	CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error)
	PushCapped(ctx context.Context, key string, value []byte, max int, ttl time.Duration) (dropped [][]byte, err error)
	List(ctx context.Context, key string) ([][]byte, error)
	Delete(ctx context.Context, key string) error
}

var _ Store = store.Ephemeral(nil)

// Inbox captures messages instead of sending them. It is safe for concurrent use,
// and any number of Inboxes (one per process) may share a Store.
type Inbox struct {
	records  Store
	log      *slog.Logger
	now      func() time.Time
	capacity int
	ttl      time.Duration

	mu       sync.Mutex
	outcomes factors.CallOutcomes
}

var (
	_ factors.EmailSender = (*Inbox)(nil)
	_ factors.SMSSender   = (*Inbox)(nil)
	_ factors.Caller      = (*Inbox)(nil)
)

// Option adjusts an Inbox.
type Option func(*Inbox)

// WithCapacity keeps the latest n messages (default DefaultCapacity).
func WithCapacity(n int) Option {
	return func(in *Inbox) {
		if n > 0 {
			in.capacity = n
		}
	}
}

// WithTTL keeps each message for d (default DefaultTTL): make it longer than any
// code in a message lives.
func WithTTL(d time.Duration) Option {
	return func(in *Inbox) {
		if d > 0 {
			in.ttl = d
		}
	}
}

// NewInbox returns an Inbox keeping its messages in records. outcomes receives the
// results of simulated calls; it may be nil and set later with SetCallOutcomes,
// since the code that consumes call outcomes is usually built after the senders.
// log may be nil.
func NewInbox(records Store, outcomes factors.CallOutcomes, log *slog.Logger, opts ...Option) *Inbox {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	in := &Inbox{records: records, log: log, now: time.Now, outcomes: outcomes, capacity: DefaultCapacity, ttl: DefaultTTL}
	for _, o := range opts {
		o(in)
	}
	return in
}

// SetCallOutcomes sets where the results of simulated calls are reported.
func (in *Inbox) SetCallOutcomes(o factors.CallOutcomes) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.outcomes = o
}

func (in *Inbox) callOutcomes() factors.CallOutcomes {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.outcomes
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
	return in.add(ctx, Item{ID: id, Channel: factors.ChannelEmail, To: m.To, Subject: m.Subject, Body: body})
}

// SendSMS captures a text message.
func (in *Inbox) SendSMS(ctx context.Context, m factors.SMS) error {
	id, err := newID()
	if err != nil {
		return fmt.Errorf("dev: send sms: %w", err)
	}
	return in.add(ctx, Item{ID: id, Channel: factors.ChannelSMS, To: m.To, Body: m.Text})
}

// PlaceCall captures a call as a pending voice item whose id is the call's id, so
// that answering it from the inbox reports the outcome under that id. A call placed
// again under the same id replaces the first: it is pending again, and newest.
func (in *Inbox) PlaceCall(ctx context.Context, c factors.Call) error {
	if c.ID == "" {
		return fmt.Errorf("dev: place call: empty call id")
	}
	return in.add(ctx, Item{ID: c.ID, Channel: factors.ChannelVoice, To: c.To, Body: c.Script, CallPending: true})
}

// codePattern finds a one-time code: six digits standing on their own.
var codePattern = regexp.MustCompile(`\b\d{6}\b`)

// add stores the item, then lists its id as the newest and deletes the items that
// fell off the end of the list. An item stored but not listed (the second write
// failed), or dropped but not deleted, is never shown and expires with its TTL.
func (in *Inbox) add(ctx context.Context, it Item) error {
	it.Code = codePattern.FindString(it.Subject + "\n" + it.Body)
	it.CreatedAt = in.now().UTC()
	b, err := json.Marshal(record{Item: it, ExpiresAt: it.CreatedAt.Add(in.ttl)})
	if err != nil {
		return fmt.Errorf("dev: capture %s: %w", it.Channel, err)
	}
	if err := in.records.Put(ctx, itemKeyPrefix+it.ID, b, in.ttl); err != nil {
		return fmt.Errorf("dev: capture %s: %w", it.Channel, err)
	}
	dropped, err := in.records.PushCapped(ctx, indexKey, indexEntry(it.To, it.ID), in.capacity, in.ttl)
	if err != nil {
		return fmt.Errorf("dev: capture %s: %w", it.Channel, err)
	}
	for _, e := range dropped {
		_, id := parseIndexEntry(e)
		if err := in.records.Delete(ctx, itemKeyPrefix+id); err != nil {
			in.log.WarnContext(ctx, "dev inbox: delete a dropped message", slog.String("error", redactID(err, id)))
			break // they expire anyway
		}
	}
	in.log.InfoContext(ctx, "dev inbox: message captured, not sent",
		slog.String("channel", string(it.Channel)), slog.String("to", maskRecipient(it.Channel, it.To)))
	return nil
}

// indexEntry is the index's value for a message: its recipient (without NUL, which
// no address or number holds), NUL, its id. A call placed again under its id has
// the same entry, so the list holds it once.
func indexEntry(to, id string) []byte {
	return []byte(strings.ReplaceAll(to, "\x00", "") + "\x00" + id)
}

func parseIndexEntry(e []byte) (to, id string) {
	to, id, _ = strings.Cut(string(e), "\x00")
	return to, id
}

// Items returns the captured messages, newest first, whichever process sharing the
// Store captured them.
func (in *Inbox) Items(ctx context.Context) ([]Item, error) {
	return in.items(ctx, nil)
}

// items returns the captured messages to the recipients for which match is true
// (all when match is nil), newest first. Only those are fetched from the Store.
func (in *Inbox) items(ctx context.Context, match func(to string) bool) ([]Item, error) {
	entries, err := in.records.List(ctx, indexKey)
	if err != nil {
		return nil, fmt.Errorf("dev: read inbox: %w", err)
	}
	keys := make([]string, 0, len(entries))
	for _, e := range entries {
		if to, id := parseIndexEntry(e); match == nil || match(to) {
			keys = append(keys, itemKeyPrefix+id)
		}
	}
	if len(keys) == 0 {
		return []Item{}, nil
	}
	vals, err := in.records.GetMany(ctx, keys...)
	if err != nil {
		return nil, fmt.Errorf("dev: read inbox: %w", err)
	}
	out := make([]Item, 0, len(vals))
	for i, v := range vals {
		if v == nil {
			continue // expired
		}
		var rec record
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, fmt.Errorf("dev: read inbox: item %d of %d: %w", i+1, len(keys), err)
		}
		out = append(out, rec.Item)
	}
	return out, nil
}

// Latest returns the newest message on channel to the recipient to.
func (in *Inbox) Latest(ctx context.Context, channel factors.Channel, to string) (Item, bool, error) {
	items, err := in.items(ctx, func(t string) bool { return t == to })
	if err != nil {
		return Item{}, false, err
	}
	for _, it := range items {
		if it.Channel == channel && it.To == to {
			return it, true, nil
		}
	}
	return Item{}, false, nil
}

// Why a simulated call cannot be ended (besides the CallOutcomes' own errors).
var (
	errNoCall      = errors.New("dev: no simulated call with that id")
	errCallEnded   = errors.New("dev: the call has already been answered or hung up")
	errNoOutcomes  = errors.New("dev: nothing receives call outcomes yet")
	errCallChanged = errors.New("dev: the call kept changing")
)

// endCall ends the pending simulated call id with result and reports the result to
// the CallOutcomes. A call is ended once, whichever process sharing the Store is
// asked: the call is marked ended with a compare-and-set before it is reported, so
// of two presses at once (at one process or two) one reports and the other gets
// errCallEnded. When the report fails for a reason other than
// factors.ErrUnknownCall (the journey no longer waits: the call stays ended), the
// call is pending again, so it can be tried again.
func (in *Inbox) endCall(ctx context.Context, id string, result factors.CallResult) error {
	outcomes := in.callOutcomes()
	claimed := false
	for range 5 {
		rec, version, err := in.getCall(ctx, id)
		if err != nil {
			return err
		}
		if !rec.CallPending {
			return errCallEnded
		}
		if outcomes == nil {
			return errNoOutcomes
		}
		rec.CallPending = false
		err = in.putCall(ctx, id, version, rec)
		if errors.Is(err, store.ErrConflict) {
			continue // changed meanwhile: look again
		}
		if err != nil {
			return err
		}
		claimed = true
		break
	}
	if !claimed {
		return errCallChanged
	}

	err := outcomes.RecordCallOutcome(ctx, id, result)
	if err == nil || errors.Is(err, factors.ErrUnknownCall) {
		return err
	}
	if rerr := in.reopenCall(ctx, id); rerr != nil {
		in.log.WarnContext(ctx, "dev inbox: call left ended after a failed report", slog.String("error", redactID(rerr, id)))
	}
	return err
}

// reopenCall marks an ended call pending again.
func (in *Inbox) reopenCall(ctx context.Context, id string) error {
	for range 5 {
		rec, version, err := in.getCall(ctx, id)
		if err != nil || rec.CallPending {
			return err
		}
		rec.CallPending = true
		if err := in.putCall(ctx, id, version, rec); !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return errCallChanged
}

// getCall reads the voice item id; errNoCall when there is none (absent, expired,
// or not a call).
func (in *Inbox) getCall(ctx context.Context, id string) (record, int64, error) {
	var rec record
	b, version, err := in.records.Get(ctx, itemKeyPrefix+id)
	if errors.Is(err, store.ErrNotFound) {
		return rec, 0, errNoCall
	}
	if err != nil {
		return rec, 0, fmt.Errorf("dev: read call: %w", err)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, 0, fmt.Errorf("dev: read call: %w", err)
	}
	if rec.Channel != factors.ChannelVoice || !in.now().Before(rec.ExpiresAt) {
		return rec, 0, errNoCall
	}
	return rec, version, nil
}

// putCall writes rec over version, keeping the record's expiry.
func (in *Inbox) putCall(ctx context.Context, id string, version int64, rec record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("dev: write call: %w", err)
	}
	ttl := max(rec.ExpiresAt.Sub(in.now()), time.Millisecond)
	_, err = in.records.CompareAndSet(ctx, itemKeyPrefix+id, version, b, ttl)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNoCall
	case errors.Is(err, store.ErrConflict):
		return err
	case err != nil:
		return fmt.Errorf("dev: write call: %w", err)
	}
	return nil
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
