package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Item is one message of GET /dev/inbox.json (a stable surface of dev mode).
type Item struct {
	ID      string    `json:"id"`
	Channel string    `json:"channel"` // email, sms or voice
	To      string    `json:"to"`      // email address or E.164 number
	Subject string    `json:"subject"`
	Body    string    `json:"body"`
	Code    string    `json:"code"`
	Created time.Time `json:"created_at"`
}

// Inbox reads the dev inbox of an idp in development mode as a person reads
// their email and phone, and answers its simulated calls.
type Inbox struct {
	URL    string       // the idp's base URL (its issuer, or a node of it)
	Client *http.Client // nil: http.DefaultClient
	Header http.Header  // sent with every request (a User-Agent, say)
	// PollEvery is how often Wait reads the inbox; 20 ms when zero.
	PollEvery time.Duration
}

func (in *Inbox) client() *http.Client {
	if in.Client == nil {
		return http.DefaultClient
	}
	return in.Client
}

// Read is the inbox, newest first: only the messages to the addresses in to
// when any are given (the inbox filters them), else every message it holds.
func (in *Inbox) Read(ctx context.Context, to ...string) ([]Item, error) {
	u := in.URL + "/dev/inbox.json"
	if len(to) > 0 {
		u += "?" + url.Values{"to": to}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range in.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	res, err := in.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("dev inbox: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, MaxBody))
	if err != nil {
		return nil, fmt.Errorf("dev inbox: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("dev inbox: GET %s: status %d", u, res.StatusCode)
	}
	var items []Item
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, fmt.Errorf("dev inbox: %w", err)
	}
	return items, nil
}

// Newest is the newest of items on channel to to (the address compared
// ignoring case), if any.
func Newest(items []Item, channel, to string) (Item, bool) {
	var found Item
	ok := false
	for _, it := range items {
		if it.Channel == channel && strings.EqualFold(it.To, to) && (!ok || it.Created.After(found.Created)) {
			found, ok = it, true
		}
	}
	return found, ok
}

// Count is how many of items are on channel to to.
func Count(items []Item, channel, to string) int {
	n := 0
	for _, it := range items {
		if it.Channel == channel && strings.EqualFold(it.To, to) {
			n++
		}
	}
	return n
}

// Latest is the newest message on channel to to, read once.
func (in *Inbox) Latest(ctx context.Context, channel, to string) (Item, error) {
	items, err := in.Read(ctx, to)
	if err != nil {
		return Item{}, err
	}
	it, ok := Newest(items, channel, to)
	if !ok {
		return Item{}, fmt.Errorf("%w: no %s message to %s", ErrNoMessage, channel, to)
	}
	return it, nil
}

// ErrNoMessage is a message that did not arrive in the dev inbox.
var ErrNoMessage = errors.New("not in the dev inbox")

// Wait reads the inbox until its newest message on channel to to satisfies
// ok (nil: it has a code), and returns it; email goes through the outbox, so
// it arrives a little after the page says it was sent. A failed read (no node
// behind a proxy, a 503 while the idp's Redis is away) is tried again. It
// gives up when ctx ends, with ErrNoMessage and the last read's error.
func (in *Inbox) Wait(ctx context.Context, channel, to string, ok func(Item) bool) (Item, error) {
	if ok == nil {
		ok = func(it Item) bool { return it.Code != "" }
	}
	every := in.PollEvery
	if every == 0 {
		every = 20 * time.Millisecond
	}
	var lastErr error
	for {
		items, err := in.Read(ctx, to)
		if err == nil {
			if it, found := Newest(items, channel, to); found && ok(it) {
				return it, nil
			}
		}
		lastErr = err
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return Item{}, fmt.Errorf("%w: %s to %s (last read: %v)", ErrNoMessage, channel, to, lastErr)
			}
			return Item{}, fmt.Errorf("%w: %s to %s", ErrNoMessage, channel, to)
		case <-time.After(every):
		}
	}
}

// PressKeys presses digits on the simulated call id, as the person answering
// it would.
func (in *Inbox) PressKeys(ctx context.Context, id, digits string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.URL+"/dev/calls/"+url.PathEscape(id)+"/keypress",
		strings.NewReader(url.Values{"digits": {digits}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := in.client().Do(req)
	if err != nil {
		return fmt.Errorf("keypress: %w", err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, MaxBody))
	if res.StatusCode >= 400 {
		return fmt.Errorf("keypress on call %s: status %d", id, res.StatusCode)
	}
	return nil
}
