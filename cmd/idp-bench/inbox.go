package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/councilforms/idp/idp/webtest/sim"
)

// inbox reads codes from the dev inbox as a person reads their phone: the
// newest message to them on a channel that they have not used yet. Each read
// asks only for the messages to the people waiting (`?to=`, repeated), so it
// does not transfer the whole (bounded) inbox; an idp without the filter
// sends everything and the driver picks. Reads still cost the server CPU
// that a real sign-in would not, so one poller serves everyone waiting: each
// read answers every person whose code has arrived, and reads happen only
// while someone waits. Reads are timed apart so that their cost can be
// reported next to the journeys.
type inbox struct {
	dev   *sim.Inbox
	reads *recorder // every GET of the inbox

	mu      sync.Mutex
	used    map[string]bool // item ids already consumed
	waiters []*codeWaiter
	polling bool
}

type codeWaiter struct {
	channel, to string
	deadline    time.Time
	result      chan codeResult // buffered: delivery never blocks
}

type codeResult struct {
	code string
	err  error
}

func newInbox(issuer string, client *http.Client) *inbox {
	dev := &sim.Inbox{URL: issuer, Client: client, Header: http.Header{"User-Agent": {userAgent}}}
	return &inbox{dev: dev, reads: newRecorder(), used: map[string]bool{}}
}

// pollEvery and pollFor bound the wait for a message (email goes through the
// outbox worker, so it may arrive a little after the page says it was sent).
const (
	pollEvery = 10 * time.Millisecond
	pollFor   = 15 * time.Second
)

// code waits for an unused message to `to` on channel and returns its code.
func (in *inbox) code(ctx context.Context, channel, to string) (string, error) {
	w := &codeWaiter{channel: channel, to: to, deadline: time.Now().Add(pollFor), result: make(chan codeResult, 1)}
	in.mu.Lock()
	in.waiters = append(in.waiters, w)
	if !in.polling {
		in.polling = true
		go in.poll()
	}
	in.mu.Unlock()
	select {
	case r := <-w.result:
		return r.code, r.err
	case <-ctx.Done():
		in.mu.Lock()
		in.waiters = slices.DeleteFunc(in.waiters, func(x *codeWaiter) bool { return x == w })
		in.mu.Unlock()
		return "", ctx.Err()
	}
}

// poll reads the inbox while anyone waits, handing each waiter its code.
func (in *inbox) poll() {
	for {
		in.mu.Lock()
		if len(in.waiters) == 0 {
			in.polling = false
			in.mu.Unlock()
			return
		}
		in.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), pollFor)
		items, err := in.read(ctx)
		cancel()

		in.mu.Lock()
		now := time.Now()
		waiting := in.waiters[:0]
		for _, w := range in.waiters {
			switch code, ok := in.take(items, w); {
			case err != nil:
				w.result <- codeResult{err: err}
			case ok:
				w.result <- codeResult{code: code}
			case now.After(w.deadline):
				w.result <- codeResult{err: fmt.Errorf("no new %s message in the dev inbox after %s", w.channel, pollFor)}
			default:
				waiting = append(waiting, w)
			}
		}
		in.waiters = waiting
		more := len(waiting) > 0
		in.mu.Unlock()
		if more {
			time.Sleep(pollEvery)
		}
	}
}

// take finds w's newest message and claims it if unused; in.mu is held.
func (in *inbox) take(items []sim.Item, w *codeWaiter) (string, bool) {
	for _, it := range items { // newest first
		if it.Channel != w.channel || !strings.EqualFold(it.To, w.to) || it.Code == "" {
			continue
		}
		if in.used[it.ID] {
			return "", false // the newest to this person is spent: wait for a new one
		}
		in.used[it.ID] = true
		return it.Code, true
	}
	return "", false
}

// resetReads starts counting reads afresh and returns the previous count.
func (in *inbox) resetReads() *recorder {
	in.mu.Lock()
	defer in.mu.Unlock()
	old := in.reads
	in.reads = newRecorder()
	return old
}

func (in *inbox) read(ctx context.Context) ([]sim.Item, error) {
	in.mu.Lock()
	reads := in.reads
	var to []string
	for _, w := range in.waiters {
		if !slices.Contains(to, w.to) {
			to = append(to, w.to)
		}
	}
	in.mu.Unlock()
	start := time.Now()
	items, err := in.dev.Read(ctx, to...)
	reads.record(time.Since(start), err)
	return items, err
}
