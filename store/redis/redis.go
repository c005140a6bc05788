package redis

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/councilforms/idp/store"
)

var _ store.Ephemeral = (*Store)(nil)

// A record is a hash with two fields: v (the value) and n (the version). Every
// script touches exactly one key (KEYS[1]), so each runs on the node that owns
// the key in Redis Cluster and stays atomic there.
var (
	// ARGV: value, ttl ms. Returns 1 when created, 0 when the key exists.
	createScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'n', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

	// ARGV: expected version, value, ttl ms. Returns the new version, -1 when the
	// record is absent, -2 when the version moved on. Versions are compared as the
	// decimal strings HINCRBY keeps, so they never pass through Lua's doubles.
	casScript = goredis.NewScript(`
local n = redis.call('HGET', KEYS[1], 'n')
if not n then return -1 end
if n ~= ARGV[1] then return -2 end
local next = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'v', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return next
`)

	// ARGV: value, ttl ms. Returns the new version (1 for a new record).
	putScript = goredis.NewScript(`
local next = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'v', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return next
`)

	// Returns the value, or nil (false) when the record is absent.
	takeScript = goredis.NewScript(`
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return false end
redis.call('DEL', KEYS[1])
return v
`)

	// ARGV: ttl ms. The expiry is set only by the increment that creates the
	// counter, so the window is fixed. A counter found without an expiry (which
	// only a manual write could leave) gets one rather than living for ever.
	incrScript = goredis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
`)

	// ARGV: value, max, ttl ms. The newest value is at the head (index 0); the
	// value is listed once. Returns the values trimmed off the tail.
	pushCappedScript = goredis.NewScript(`
local max = tonumber(ARGV[2])
redis.call('LREM', KEYS[1], 0, ARGV[1])
redis.call('LPUSH', KEYS[1], ARGV[1])
local dropped = redis.call('LRANGE', KEYS[1], max, -1)
redis.call('LTRIM', KEYS[1], 0, max - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return dropped
`)
)

// Bounded waits. A Redis that is down refuses connections at once, but a frozen one
// (a stalled host, a long fork, SIGSTOP) accepts them and answers nothing, so each
// wait has its own bound, and the whole call one more: a person's click fails within
// about a second instead of hanging for the stall, and /readyz reports it within its
// 2 s. The URL may set the first four (dial_timeout=..., as go-redis reads them).
const (
	DialTimeout  = time.Second
	ReadTimeout  = time.Second
	WriteTimeout = time.Second
	PoolTimeout  = time.Second // waiting for a free connection of the pool
	// CallTimeout bounds one command, its retries included, when the caller's
	// context has no earlier deadline.
	CallTimeout = 1500 * time.Millisecond
	// ReadRetries is how often a command that is safe to repeat (a read, DEL, PING)
	// is sent again after a network error (go-redis's MaxRetries; max_retries in the
	// URL overrides it). Scripts are never sent again: see onceScripter.
	ReadRetries = 1
)

// Store is a store.Ephemeral on Redis (single node, Sentinel or Cluster).
type Store struct {
	c      goredis.UniversalClient
	once   onceScripter // runs the scripts, never retried
	prefix string
}

// Open connects to the Redis named by url, checks it answers, and returns a store
// whose keys all start with prefix. The URL picks the deployment:
//
//	redis://[user:password@]host:port/db          one server (rediss:// for TLS)
//	redis://host:port?master_name=M&addr=h2:p2    Sentinel: the hosts are sentinels
//	redis://host:port?addr=h2:p2&addr=h3:p3       Cluster: the hosts are seed nodes
//
// Options go-redis accepts as query parameters (dial_timeout=3s, ...) apply to all;
// the timeouts default to the constants above, and deadlines of the caller's context
// are always honoured.
func Open(ctx context.Context, url, prefix string) (*Store, error) {
	c, where, err := newClient(url)
	if err != nil {
		return nil, fmt.Errorf("redis: parse url: %w", redactURL(err, url))
	}
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redis: cannot reach %s: %w", where, err)
	}
	return New(c, prefix), nil
}

// newClient builds the client the URL describes and says, for errors, where it
// points (never with the password).
func newClient(rawURL string) (goredis.UniversalClient, string, error) {
	u, err := neturl.Parse(rawURL)
	if err != nil {
		return nil, "", err
	}
	q := u.Query()
	switch {
	case q.Has("master_name"):
		opts, err := goredis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, "", err
		}
		boundWaits(&opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout, &opts.PoolTimeout, &opts.MaxRetries)
		opts.ContextTimeoutEnabled = true
		where := fmt.Sprintf("Sentinel master %q via %s", opts.MasterName, strings.Join(opts.SentinelAddrs, ","))
		return goredis.NewFailoverClient(opts), where, nil
	case q.Has("addr"):
		opts, err := goredis.ParseClusterURL(rawURL)
		if err != nil {
			return nil, "", err
		}
		boundWaits(&opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout, &opts.PoolTimeout, &opts.MaxRetries)
		opts.ContextTimeoutEnabled = true
		return goredis.NewClusterClient(opts), "Cluster " + strings.Join(opts.Addrs, ","), nil
	default:
		opts, err := goredis.ParseURL(rawURL)
		if err != nil {
			return nil, "", err
		}
		boundWaits(&opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout, &opts.PoolTimeout, &opts.MaxRetries)
		opts.ContextTimeoutEnabled = true
		return goredis.NewClient(opts), fmt.Sprintf("%s (db %d)", opts.Addr, opts.DB), nil
	}
}

// boundWaits fills in the timeouts and retries the URL left unset (zero). go-redis's
// own defaults are 5 s per read and write and three retries.
func boundWaits(dial, read, write, pool *time.Duration, retries *int) {
	for _, d := range []struct {
		field *time.Duration
		def   time.Duration
	}{{dial, DialTimeout}, {read, ReadTimeout}, {write, WriteTimeout}, {pool, PoolTimeout}} {
		if *d.field == 0 {
			*d.field = d.def
		}
	}
	if *retries == 0 {
		*retries = ReadRetries
	}
}

// callBound gives every command (and pipeline) a deadline of CallTimeout unless its
// context has an earlier one; with ContextTimeoutEnabled go-redis applies it to the
// pool wait, the dial, the write and the read, retries included.
type callBound struct{}

func (callBound) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (callBound) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		ctx, cancel := context.WithTimeout(ctx, CallTimeout)
		defer cancel()
		return next(ctx, cmd)
	}
}

func (callBound) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		ctx, cancel := context.WithTimeout(ctx, CallTimeout)
		defer cancel()
		return next(ctx, cmds)
	}
}

// onceScripter runs the store's scripts with EVAL and EVALSHA commands that go-redis
// never sends a second time once they may have reached the server (Cmder.NoRetry).
// The scripts are not safe to repeat: a compare-and-set whose reply was lost to a
// timeout would run again, find its own new version and report a conflict that never
// happened; a take would find the record it already took gone; an increment would
// count twice. A failed script is an error the caller sees, never a silent second
// run. (Script.Run's fallback from EVALSHA to EVAL on NOSCRIPT is not a repeat: the
// server ran nothing.)
type onceScripter struct{ goredis.UniversalClient }

func (o onceScripter) Eval(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	return o.eval(ctx, "eval", script, keys, args)
}

func (o onceScripter) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *goredis.Cmd {
	return o.eval(ctx, "evalsha", sha1, keys, args)
}

func (o onceScripter) eval(ctx context.Context, name, payload string, keys []string, args []any) *goredis.Cmd {
	a := make([]any, 0, 3+len(keys)+len(args))
	a = append(a, name, payload, len(keys))
	for _, k := range keys {
		a = append(a, k)
	}
	cmd := goredis.NewCmd(ctx, append(a, args...)...)
	if len(keys) > 0 {
		cmd.SetFirstKeyPos(3) // the key picks the Cluster node
	}
	_ = o.Process(ctx, noRetry{cmd})
	return cmd
}

// noRetry is a command go-redis must not resend after it may have been sent.
type noRetry struct{ *goredis.Cmd }

func (noRetry) NoRetry() bool { return true }

// redactURL keeps a parse error from echoing the URL, which may carry a password.
func redactURL(err error, url string) error {
	if msg := err.Error(); strings.Contains(msg, "://") || (url != "" && strings.Contains(msg, url)) {
		return errors.New("invalid Redis URL (expected redis://[user:password@]host:port/db or rediss://...)")
	}
	return err
}

// New returns a store on an existing client; every key is prefixed with prefix.
// The store takes ownership of c: Close closes it. Every call through the store is
// bounded by CallTimeout (a hook added to c); the client's own timeouts are the
// caller's (Open sets them).
func New(c goredis.UniversalClient, prefix string) *Store {
	c.AddHook(callBound{})
	return &Store{c: c, once: onceScripter{c}, prefix: prefix}
}

func (s *Store) key(k string) string { return s.prefix + k }

// ttlMillis converts a TTL for PEXPIRE, rounding a sub-millisecond TTL up to 1 ms
// (PEXPIRE 0 would delete the key at once).
func ttlMillis(op, key string, ttl time.Duration) (int64, error) {
	if ttl <= 0 {
		return 0, fmt.Errorf("redis: %s %s: ttl must be positive, got %v", op, key, ttl)
	}
	ms := ttl.Milliseconds()
	if ms == 0 {
		ms = 1
	}
	return ms, nil
}

// Create stores a new record with version 1; ErrConflict when the key exists.
func (s *Store) Create(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ms, err := ttlMillis("create", key, ttl)
	if err != nil {
		return err
	}
	n, err := createScript.Run(ctx, s.once, []string{s.key(key)}, value, ms).Int64()
	if err != nil {
		return fmt.Errorf("redis: create %s: %w", key, err)
	}
	if n == 0 {
		return fmt.Errorf("redis: create %s: %w", key, store.ErrConflict)
	}
	return nil
}

// Get returns the value and its version; ErrNotFound when absent or expired.
func (s *Store) Get(ctx context.Context, key string) ([]byte, int64, error) {
	vals, err := s.c.HMGet(ctx, s.key(key), "v", "n").Result()
	if err != nil {
		return nil, 0, fmt.Errorf("redis: get %s: %w", key, err)
	}
	if len(vals) != 2 || vals[0] == nil || vals[1] == nil {
		return nil, 0, fmt.Errorf("redis: get %s: %w", key, store.ErrNotFound)
	}
	v, ok := vals[0].(string)
	if !ok {
		return nil, 0, fmt.Errorf("redis: get %s: unexpected value type %T", key, vals[0])
	}
	ns, ok := vals[1].(string)
	if !ok {
		return nil, 0, fmt.Errorf("redis: get %s: unexpected version type %T", key, vals[1])
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("redis: get %s: bad version %q: %w", key, ns, err)
	}
	return []byte(v), n, nil
}

// GetMany reads every key's value in one pipelined round trip.
func (s *Store) GetMany(ctx context.Context, keys ...string) ([][]byte, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	cmds := make([]*goredis.SliceCmd, len(keys))
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HMGet(ctx, s.key(k), "v", "n")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redis: get %d keys: %w", len(keys), err)
	}
	out := make([][]byte, len(keys))
	for i, c := range cmds {
		vals := c.Val()
		if len(vals) != 2 || vals[0] == nil || vals[1] == nil {
			continue
		}
		v, ok := vals[0].(string)
		if !ok {
			return nil, fmt.Errorf("redis: get %s: unexpected value type %T", keys[i], vals[0])
		}
		out[i] = []byte(v)
	}
	return out, nil
}

// CompareAndSet replaces the value when the stored version is still version,
// resets the TTL and returns the new version.
func (s *Store) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	ms, err := ttlMillis("compare-and-set", key, ttl)
	if err != nil {
		return 0, err
	}
	n, err := casScript.Run(ctx, s.once, []string{s.key(key)}, strconv.FormatInt(version, 10), value, ms).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis: compare-and-set %s: %w", key, err)
	}
	switch n {
	case -1:
		return 0, fmt.Errorf("redis: compare-and-set %s: %w", key, store.ErrNotFound)
	case -2:
		return 0, fmt.Errorf("redis: compare-and-set %s: version %d: %w", key, version, store.ErrConflict)
	}
	return n, nil
}

// Put stores the value whatever is there.
func (s *Store) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ms, err := ttlMillis("put", key, ttl)
	if err != nil {
		return err
	}
	if err := putScript.Run(ctx, s.once, []string{s.key(key)}, value, ms).Err(); err != nil {
		return fmt.Errorf("redis: put %s: %w", key, err)
	}
	return nil
}

// Take returns the value and deletes the record in one step.
func (s *Store) Take(ctx context.Context, key string) ([]byte, error) {
	v, err := takeScript.Run(ctx, s.once, []string{s.key(key)}).Text()
	if errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("redis: take %s: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("redis: take %s: %w", key, err)
	}
	return []byte(v), nil
}

// Delete removes the key, record or counter; an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.c.Del(ctx, s.key(key)).Err(); err != nil {
		return fmt.Errorf("redis: delete %s: %w", key, err)
	}
	return nil
}

// Incr adds one to the counter; the TTL is set only when the counter is created.
func (s *Store) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	ms, err := ttlMillis("incr", key, ttl)
	if err != nil {
		return 0, err
	}
	n, err := incrScript.Run(ctx, s.once, []string{s.key(key)}, ms).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis: incr %s: %w", key, err)
	}
	return n, nil
}

// PushCapped moves value to the head of the list, trims the list to its newest max
// values and sets its TTL, in one script, and returns the values trimmed.
func (s *Store) PushCapped(ctx context.Context, key string, value []byte, max int, ttl time.Duration) ([][]byte, error) {
	ms, err := ttlMillis("push", key, ttl)
	if err != nil {
		return nil, err
	}
	if max <= 0 {
		return nil, fmt.Errorf("redis: push %s: max must be positive, got %d", key, max)
	}
	vals, err := pushCappedScript.Run(ctx, s.once, []string{s.key(key)}, value, max, ms).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redis: push %s: %w", key, err)
	}
	var dropped [][]byte
	for _, v := range vals {
		dropped = append(dropped, []byte(v))
	}
	return dropped, nil
}

// List returns the list's values, newest first.
func (s *Store) List(ctx context.Context, key string) ([][]byte, error) {
	vals, err := s.c.LRange(ctx, s.key(key), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: list %s: %w", key, err)
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		out[i] = []byte(v)
	}
	return out, nil
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	return nil
}

// Close closes the client.
func (s *Store) Close() error {
	if err := s.c.Close(); err != nil {
		return fmt.Errorf("redis: close: %w", err)
	}
	return nil
}
