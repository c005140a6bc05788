package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/councilforms/idp/idp/limits"
	"github.com/councilforms/idp/store"
)

// clientThrottle counts failed client authentications in the durable store
// (so a flush of the ephemeral store resets nothing) and refuses callers
// past limits.ClientSecrets before their secret is checked.
//
// Counters, one fixed window each:
//
//	clientauth:fail:net:<network>            wrong secrets from a network
//	clientauth:fail:client:<id>              wrong secrets for a client id
//	clientauth:fail:client:<id>:net:<net>    the same, from one known network
//	clientauth:ok:client:<id>:net:<net>      successes (KnownNetworkFor windows)
//
// A known network (one where the client authenticated successfully in this
// or the previous KnownNetworkFor window) is not locked out by failures as
// its client id from elsewhere, so a guesser cannot stop a form app signing
// people in; it has a budget of its own.
type clientThrottle struct {
	rule  limits.ClientSecretRule
	db    throttleCounters
	now   func() time.Time
	known knownMarks
}

// throttleCounters is what clientThrottle keeps its counts in.
type throttleCounters interface {
	store.Counters
	store.CounterReads
}

// knownMarks remembers which successes this process has already recorded in
// the current window, so a busy form app costs one write per window, not one
// per request.
type knownMarks struct {
	mu   sync.Mutex
	seen map[string]int64 // counter key -> window start it was recorded in
}

func (k *knownMarks) recorded(key string, start int64) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.seen[key] == start
}

func (k *knownMarks) record(key string, start int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.seen == nil {
		k.seen = map[string]int64{}
	}
	for key, s := range k.seen {
		if s < start {
			delete(k.seen, key)
		}
	}
	k.seen[key] = start
}

// errThrottled reports a refusal; retryAfter is until the window ends.
type errThrottled struct{ retryAfter time.Duration }

func (e errThrottled) Error() string {
	return fmt.Sprintf("provider: too many failed client authentications; retry after %v", e.retryAfter)
}

// failures are the wrong secrets counted in this window from a network and
// for a client id, read together (one round trip) before either is checked.
type failures struct{ network, client int }

func (t *clientThrottle) failures(ctx context.Context, clientID, network string) (failures, error) {
	n, err := t.db.Counts(ctx, []string{failNetworkKey(network), failClientKey(clientID)}, t.rule.Window, t.now())
	if err != nil {
		return failures{}, fmt.Errorf("provider: client authentication counter: %w", err)
	}
	return failures{network: n[0], client: n[1]}, nil
}

// checkNetwork refuses a network past its failure budget.
func (t *clientThrottle) checkNetwork(f failures) error {
	if f.network >= t.rule.PerNetwork {
		return t.refusal()
	}
	return nil
}

// checkClient refuses a caller from network authenticating as clientID when
// that client id is past its budget (f, read for clientID), unless the
// network is known to the client and still within its own budget.
func (t *clientThrottle) checkClient(ctx context.Context, clientID, network string, f failures) error {
	now := t.now()
	if f.client < t.rule.PerClient {
		return nil
	}
	known, err := t.isKnown(ctx, clientID, network)
	if err != nil {
		return err
	}
	if !known {
		return t.refusal()
	}
	n, err := t.db.Count(ctx, failClientNetworkKey(clientID, network), t.rule.Window, now)
	if err != nil {
		return fmt.Errorf("provider: client authentication counter: %w", err)
	}
	if n >= t.rule.PerClient {
		return t.refusal()
	}
	return nil
}

// failed records a wrong secret for a confidential client. locked names
// what this failure has just locked ("network", "client id", "client id on
// its known network"), or is empty.
func (t *clientThrottle) failed(ctx context.Context, clientID, network string) (locked string, err error) {
	type counter struct {
		key, what string
		limit     int
	}
	counters := []counter{
		{failNetworkKey(network), "network", t.rule.PerNetwork},
		{failClientKey(clientID), "client id", t.rule.PerClient},
	}
	known, err := t.isKnown(ctx, clientID, network)
	if err != nil {
		return "", err
	}
	if known {
		counters = append(counters, counter{failClientNetworkKey(clientID, network), "client id on its known network", t.rule.PerClient})
	}
	now := t.now()
	var just []string
	for _, c := range counters {
		n, err := t.db.Hit(ctx, c.key, t.rule.Window, now)
		if err != nil {
			return "", fmt.Errorf("provider: count failed client authentication: %w", err)
		}
		if n == c.limit {
			just = append(just, c.what)
		}
	}
	return strings.Join(just, ", "), nil
}

// succeeded makes the network known to the client.
func (t *clientThrottle) succeeded(ctx context.Context, clientID, network string) error {
	now := t.now()
	key := okClientNetworkKey(clientID, network)
	start := windowStart(t.rule.KnownNetworkFor, now)
	if t.known.recorded(key, start) {
		return nil
	}
	n, err := t.db.Count(ctx, key, t.rule.KnownNetworkFor, now)
	if err == nil && n == 0 {
		_, err = t.db.Hit(ctx, key, t.rule.KnownNetworkFor, now)
	}
	if err != nil {
		return fmt.Errorf("provider: record client authentication: %w", err)
	}
	t.known.record(key, start)
	return nil
}

func (t *clientThrottle) isKnown(ctx context.Context, clientID, network string) (bool, error) {
	now := t.now()
	key := okClientNetworkKey(clientID, network)
	for _, at := range []time.Time{now, now.Add(-t.rule.KnownNetworkFor)} {
		n, err := t.db.Count(ctx, key, t.rule.KnownNetworkFor, at)
		if err != nil {
			return false, fmt.Errorf("provider: client authentication counter: %w", err)
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}

// refusal lasts until the current window ends, as the store's windows are
// aligned to multiples of the window since the Unix epoch.
func (t *clientThrottle) refusal() errThrottled {
	now := t.now()
	end := time.Unix(0, windowStart(t.rule.Window, now)+int64(t.rule.Window))
	return errThrottled{retryAfter: end.Sub(now)}
}

func windowStart(window time.Duration, now time.Time) int64 {
	n, w := now.UnixNano(), int64(window)
	start := n - n%w
	if n%w < 0 {
		start -= w
	}
	return start
}

func failNetworkKey(network string) string { return store.KeyClientFailNetwork + network }
func failClientKey(id string) string       { return store.KeyClientFail + id }
func failClientNetworkKey(id, network string) string {
	return store.KeyClientFail + id + ":net:" + network
}
func okClientNetworkKey(id, network string) string {
	return store.KeyClientOK + id + ":net:" + network
}

// networkOf is the bucket an address is counted in (limits.NetworkKey).
func networkOf(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		if addr == "" {
			return "unknown"
		}
		return addr
	}
	return limits.NetworkKey(a.WithZone(""))
}

// withClientThrottle answers a request refused by the throttle (see
// AuthorizeClientIDSecret) with 429 invalid_client and Retry-After, whatever
// the library made of the refusal.
func (p *Provider) withClientThrottle(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&throttleWriter{ResponseWriter: w, hc: httpFromContext(r.Context())}, r)
	})
}

type throttleWriter struct {
	http.ResponseWriter
	hc       *httpContext
	started  bool
	replaced bool
}

func (t *throttleWriter) WriteHeader(status int) {
	if t.started {
		return
	}
	t.started = true
	if t.hc == nil || t.hc.throttled == nil {
		t.ResponseWriter.WriteHeader(status)
		return
	}
	t.replaced = true
	secs := strconv.Itoa(int(math.Ceil(t.hc.throttled.retryAfter.Seconds())))
	h := t.ResponseWriter.Header()
	h.Del("Content-Length")
	h.Del("WWW-Authenticate")
	h.Set("Content-Type", "application/json")
	h.Set("Retry-After", secs)
	t.ResponseWriter.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(t.ResponseWriter).Encode(map[string]string{
		"error":             "invalid_client",
		"error_description": "Too many failed attempts; try again in " + secs + " seconds",
	})
}

func (t *throttleWriter) Write(b []byte) (int, error) {
	if !t.started {
		t.WriteHeader(http.StatusOK)
	}
	if t.replaced {
		return len(b), nil
	}
	return t.ResponseWriter.Write(b)
}
