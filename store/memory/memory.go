package memory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/councilforms/idp/store"
)

var _ store.Ephemeral = (*Store)(nil)

// errClosed is returned by every operation after Close.
var errClosed = errors.New("memory: store is closed")

// DefaultSweepInterval is how often the janitor removes expired keys. Expired keys
// are never visible (every read checks the expiry); sweeping only bounds memory.
const DefaultSweepInterval = 30 * time.Second

// entry is one key: a versioned record, a counter or a list, as in Redis where a
// key holds one type at a time.
type entry struct {
	counter bool
	list    bool
	value   []byte   // records only
	version int64    // records only
	count   int64    // counters only
	items   [][]byte // lists only, newest first
	expires time.Time
}

// kind names what the entry holds, for errors.
func (e *entry) kind() string {
	switch {
	case e.counter:
		return "a counter"
	case e.list:
		return "a list"
	}
	return "a record"
}

// record reports whether the entry is a versioned record.
func (e *entry) record() bool { return !e.counter && !e.list }

// Store is an in-process store.Ephemeral for embedded mode and tests. Its state
// lives in one process and is lost on restart, so it suits a single idp process only.
type Store struct {
	now      func() time.Time
	interval time.Duration

	mu      sync.Mutex
	entries map[string]*entry
	closed  bool

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store read the time from now instead of time.Now, so tests
// can move time forward without sleeping.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// WithSweepInterval sets how often the janitor removes expired keys.
func WithSweepInterval(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.interval = d
		}
	}
}

// New starts an empty store and its janitor goroutine; Close stops the janitor.
func New(opts ...Option) *Store {
	s := &Store{
		now:      time.Now,
		interval: DefaultSweepInterval,
		entries:  make(map[string]*entry),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	go s.janitor()
	return s
}

func (s *Store) janitor() {
	defer close(s.done)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sweep()
		}
	}
}

// sweep deletes every expired key.
func (s *Store) sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, e := range s.entries {
		if !now.Before(e.expires) {
			delete(s.entries, k)
		}
	}
}

// live returns the unexpired entry for key, deleting it if it has expired.
// The caller holds s.mu.
func (s *Store) live(key string) *entry {
	e, ok := s.entries[key]
	if !ok {
		return nil
	}
	if !s.now().Before(e.expires) {
		delete(s.entries, key)
		return nil
	}
	return e
}

// Flush removes every key, as FLUSHDB does to a Redis database: tests use it to
// show what must survive the loss of the ephemeral store.
func (s *Store) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.entries)
}

func checkTTL(op, key string, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("memory: %s %s: ttl must be positive, got %v", op, key, ttl)
	}
	return nil
}

func clone(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return append([]byte(nil), b...)
}

func (s *Store) lock() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	return nil
}

// Create stores a new record with version 1; ErrConflict when the key exists.
func (s *Store) Create(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkTTL("create", key, ttl); err != nil {
		return err
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if s.live(key) != nil {
		return fmt.Errorf("memory: create %s: %w", key, store.ErrConflict)
	}
	s.entries[key] = &entry{value: clone(value), version: 1, expires: s.now().Add(ttl)}
	return nil
}

// Get returns a copy of the value and its version; ErrNotFound when absent or expired.
func (s *Store) Get(ctx context.Context, key string) ([]byte, int64, error) {
	if err := s.lock(); err != nil {
		return nil, 0, err
	}
	defer s.mu.Unlock()
	e := s.live(key)
	if e == nil {
		return nil, 0, fmt.Errorf("memory: get %s: %w", key, store.ErrNotFound)
	}
	if !e.record() {
		return nil, 0, fmt.Errorf("memory: get %s: key holds %s, not a record", key, e.kind())
	}
	return clone(e.value), e.version, nil
}

// GetMany returns the values of keys, nil where absent or expired.
func (s *Store) GetMany(ctx context.Context, keys ...string) ([][]byte, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := make([][]byte, len(keys))
	for i, key := range keys {
		e := s.live(key)
		if e == nil {
			continue
		}
		if !e.record() {
			return nil, fmt.Errorf("memory: get %s: key holds %s, not a record", key, e.kind())
		}
		out[i] = clone(e.value)
	}
	return out, nil
}

// CompareAndSet replaces the value when the stored version is still version.
func (s *Store) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	if err := checkTTL("compare-and-set", key, ttl); err != nil {
		return 0, err
	}
	if err := s.lock(); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	e := s.live(key)
	if e == nil {
		return 0, fmt.Errorf("memory: compare-and-set %s: %w", key, store.ErrNotFound)
	}
	if !e.record() {
		return 0, fmt.Errorf("memory: compare-and-set %s: key holds %s, not a record", key, e.kind())
	}
	if e.version != version {
		return 0, fmt.Errorf("memory: compare-and-set %s: version %d, stored %d: %w", key, version, e.version, store.ErrConflict)
	}
	e.value = clone(value)
	e.version++
	e.expires = s.now().Add(ttl)
	return e.version, nil
}

// Put stores the value whatever is there.
func (s *Store) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkTTL("put", key, ttl); err != nil {
		return err
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	e := s.live(key)
	if e != nil && !e.record() {
		return fmt.Errorf("memory: put %s: key holds %s, not a record", key, e.kind())
	}
	var version int64 = 1
	if e != nil {
		version = e.version + 1
	}
	s.entries[key] = &entry{value: clone(value), version: version, expires: s.now().Add(ttl)}
	return nil
}

// Take returns the value and deletes the record in one step.
func (s *Store) Take(ctx context.Context, key string) ([]byte, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	e := s.live(key)
	if e == nil {
		return nil, fmt.Errorf("memory: take %s: %w", key, store.ErrNotFound)
	}
	if !e.record() {
		return nil, fmt.Errorf("memory: take %s: key holds %s, not a record", key, e.kind())
	}
	delete(s.entries, key)
	return e.value, nil
}

// Delete removes the key, record or counter; an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	delete(s.entries, key)
	return nil
}

// Incr adds one to the counter, creating it with the ttl when absent or expired.
func (s *Store) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if err := checkTTL("incr", key, ttl); err != nil {
		return 0, err
	}
	if err := s.lock(); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	e := s.live(key)
	if e == nil {
		s.entries[key] = &entry{counter: true, count: 1, expires: s.now().Add(ttl)}
		return 1, nil
	}
	if !e.counter {
		return 0, fmt.Errorf("memory: incr %s: key holds %s, not a counter", key, e.kind())
	}
	e.count++
	return e.count, nil
}

// PushCapped moves a copy of value to the head of the list, keeps its newest max
// values, returns the ones dropped and sets its expiry to ttl from now.
func (s *Store) PushCapped(ctx context.Context, key string, value []byte, max int, ttl time.Duration) ([][]byte, error) {
	if err := checkTTL("push", key, ttl); err != nil {
		return nil, err
	}
	if max <= 0 {
		return nil, fmt.Errorf("memory: push %s: max must be positive, got %d", key, max)
	}
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	e := s.live(key)
	if e == nil {
		e = &entry{list: true}
		s.entries[key] = e
	} else if !e.list {
		return nil, fmt.Errorf("memory: push %s: key holds %s, not a list", key, e.kind())
	}
	items := make([][]byte, 0, len(e.items)+1)
	items = append(items, clone(value))
	for _, v := range e.items {
		if !bytes.Equal(v, value) {
			items = append(items, v)
		}
	}
	var dropped [][]byte
	if len(items) > max {
		dropped = items[max:]
		items = items[:max:max]
	}
	e.items = items
	e.expires = s.now().Add(ttl)
	return dropped, nil
}

// List returns copies of the list's values, newest first.
func (s *Store) List(ctx context.Context, key string) ([][]byte, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	e := s.live(key)
	if e == nil {
		return nil, nil
	}
	if !e.list {
		return nil, fmt.Errorf("memory: list %s: key holds %s, not a list", key, e.kind())
	}
	out := make([][]byte, len(e.items))
	for i, v := range e.items {
		out[i] = clone(v)
	}
	return out, nil
}

// Ping fails only after Close.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.lock(); err != nil {
		return err
	}
	s.mu.Unlock()
	return nil
}

// Close stops the janitor and drops every key. Later calls fail.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		s.mu.Lock()
		s.closed = true
		s.entries = nil
		s.mu.Unlock()
	})
	return nil
}
