package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// inboxItem is one message of GET /dev/inbox.json (a stable surface of dev mode).
type inboxItem struct {
	ID        string    `json:"id"`
	Channel   string    `json:"channel"` // email, sms or voice
	To        string    `json:"to"`      // email address or E.164 number
	Subject   string    `json:"subject"`
	Code      string    `json:"code"`
	CreatedAt time.Time `json:"created_at"`
}

// inbox reads codes from the dev inbox as a person reads their phone: the
// newest message to them on a channel that they have not used yet. The dev
// inbox has no filter, so every read transfers the whole (bounded) inbox and
// the filtering by recipient is done here; reads are timed apart so that their
// cost can be reported next to the journeys they are part of.
type inbox struct {
	url    string
	client *http.Client
	reads  *recorder // every GET of the inbox

	mu   sync.Mutex
	used map[string]bool // item ids already consumed
}

func newInbox(issuer string, client *http.Client) *inbox {
	return &inbox{url: issuer + "/dev/inbox.json", client: client, reads: newRecorder(), used: map[string]bool{}}
}

// pollEvery and pollFor bound the wait for a message (email goes through the
// outbox worker, so it may arrive a little after the page says it was sent).
const (
	pollEvery = 10 * time.Millisecond
	pollFor   = 15 * time.Second
)

// code waits for an unused message to `to` on channel and returns its code.
func (in *inbox) code(ctx context.Context, channel, to string) (string, error) {
	deadline := time.Now().Add(pollFor)
	for {
		items, err := in.read(ctx)
		if err != nil {
			return "", err
		}
		for _, it := range items { // newest first
			if it.Channel != channel || !strings.EqualFold(it.To, to) || it.Code == "" {
				continue
			}
			in.mu.Lock()
			fresh := !in.used[it.ID]
			in.used[it.ID] = true
			in.mu.Unlock()
			if fresh {
				return it.Code, nil
			}
			break // the newest to this person is spent: wait for a new one
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no new %s message in the dev inbox after %s", channel, pollFor)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

func (in *inbox) read(ctx context.Context) ([]inboxItem, error) {
	start := time.Now()
	body, err := get(ctx, in.client, in.url, "application/json")
	in.reads.record(time.Since(start), err)
	if err != nil {
		return nil, fmt.Errorf("dev inbox: %w", err)
	}
	var items []inboxItem
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, fmt.Errorf("dev inbox: %w", err)
	}
	return items, nil
}
