package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes
	KeyLen  uint32 // bytes of derived key
	SaltLen uint32 // bytes of random salt
}

// DefaultParams are OWASP's recommended argon2id settings (m=19 MiB, t=2, p=1).
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}

// Limits on cost parameters read from a stored hash (unless the hasher itself uses
// higher ones). A stored hash is trusted data, but
// a corrupt or tampered one must not make a single sign-in allocate gigabytes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 64
	maxKeyLen    = 1024
	minSaltLen   = 8
	maxSaltLen   = 1024
)

// ErrMalformedHash is wrapped by Verify when the stored string is not a PHC
// argon2id hash it can check.
var ErrMalformedHash = errors.New("password: malformed argon2id hash")

// ErrBusy: so many hashes are already waiting for a slot that this one would
// wait too long. The caller answers 503 with Retry-After rather than queue
// without limit (a burst of guesses must not become a queue everyone waits in).
var ErrBusy = errors.New("password: too many password checks waiting")

// Hasher hashes and verifies passwords with argon2id. Each hash holds Params.Memory
// KiB while it runs, so a semaphore bounds how many run at once: a burst of sign-ins
// waits its turn instead of exhausting memory. At most QueueFactor times as many
// may wait; beyond that a hash fails at once with ErrBusy.
type Hasher struct {
	params Params
	sem    chan struct{}
	queue  chan struct{} // held while waiting for or holding a slot
	// dummy is a well-formed hash of no known password, verified by DummyVerify so
	// that an unknown account costs the same time as a known one.
	dummy string
	// derive is argon2.IDKey; tests replace it to observe concurrency.
	derive func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
	// waited and took observe seconds spent waiting for a slot and hashing
	// (Instrument); nil until then.
	waited, took prometheus.Observer
}

// Instrument registers the hasher's metrics with reg:
// idp_password_hash_wait_seconds (time a hash waited for a slot: sign-ins
// queueing behind the bound show here first), idp_password_hash_seconds (time
// to hash), idp_password_hashes_running and idp_password_hash_slots. Call it
// once, before the hasher is used.
func (h *Hasher) Instrument(reg prometheus.Registerer) error {
	wait := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "idp_password_hash_wait_seconds", Help: "Time a password or client secret hash waited for a free slot.",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	})
	took := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "idp_password_hash_seconds", Help: "Time to compute one argon2id hash (once it had a slot).",
		Buckets: []float64{.01, .02, .03, .05, .075, .1, .15, .25, .5},
	})
	running := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "idp_password_hashes_running", Help: "argon2id hashes running now.",
	}, func() float64 { return float64(len(h.sem)) })
	slots := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "idp_password_hash_slots", Help: "argon2id hashes that may run at once (each holds its memory cost).",
	}, func() float64 { return float64(cap(h.sem)) })
	for _, c := range []prometheus.Collector{wait, took, running, slots} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("password: register metrics: %w", err)
		}
	}
	h.waited, h.took = wait, took
	return nil
}

// NewHasher returns a Hasher for p that runs at most maxConcurrent hashes at once
// (runtime.NumCPU() when maxConcurrent <= 0).
func NewHasher(p Params, maxConcurrent int) *Hasher {
	maxConcurrent = slots(maxConcurrent)
	h := &Hasher{
		params: p,
		sem:    make(chan struct{}, maxConcurrent),
		queue:  make(chan struct{}, maxConcurrent*(QueueFactor+1)),
		derive: argon2.IDKey,
	}
	h.dummy = encode(p, randomBytes(p.SaltLen), randomBytes(p.KeyLen))
	return h
}

func slots(maxConcurrent int) int {
	if maxConcurrent <= 0 {
		return runtime.NumCPU()
	}
	return maxConcurrent
}

// QueueMemory is the memory, in bytes, of as many hashes with p as a Hasher
// made with maxConcurrent lets queue (its slots and the QueueFactor waiting per
// slot). A finished hash's memory is garbage at once, so this is the room that
// lets the garbage collector run once per queueful of hashes rather than after
// every one or two: the server's memory limit leaves it (app.SetGCPolicy).
func QueueMemory(p Params, maxConcurrent int) int64 {
	return int64(slots(maxConcurrent)) * (QueueFactor + 1) * int64(p.Memory) << 10
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

func randomBytes(n uint32) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms (Go 1.24+ panics itself).
		panic(fmt.Sprintf("password: read random bytes: %v", err))
	}
	return b
}

// QueueFactor: hashes that may wait for a slot, per slot. With 2 slots and
// about 50 ms a hash, the last in the queue waits about a fifth of a second.
const QueueFactor = 4

// acquire waits for a free slot or for ctx to end; ErrBusy when the queue is full.
func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.queue <- struct{}{}:
	default:
		return ErrBusy
	}
	start := time.Now()
	select {
	case h.sem <- struct{}{}:
		if h.waited != nil {
			h.waited.Observe(time.Since(start).Seconds())
		}
		return nil
	case <-ctx.Done():
		<-h.queue
		return fmt.Errorf("password: waiting to hash: %w", ctx.Err())
	}
}

// key runs argon2id (with a slot held).
func (h *Hasher) key(password string, salt []byte, p Params) []byte {
	start := time.Now()
	k := h.derive([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if h.took != nil {
		h.took.Observe(time.Since(start).Seconds())
	}
	return k
}

func (h *Hasher) release() { <-h.sem; <-h.queue }

// Hash returns the PHC string of password with a fresh random salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (base64, standard alphabet, no padding).
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	p := h.params
	salt := randomBytes(p.SaltLen)
	return encode(p, salt, h.key(password, salt, p)), nil
}

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify reports whether password matches encoded, using the parameters recorded
// in encoded. needsRehash is true when the password matched but encoded was made
// with parameters other than the hasher's: the caller should store a fresh Hash.
// A malformed encoded string gives an error wrapping ErrMalformedHash; a cancelled
// ctx while waiting for a slot gives ctx's error.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	// The hasher's own parameters are always allowed, even above the limits.
	if (p.Memory > maxMemoryKiB && p.Memory > h.params.Memory) || (p.Time > maxTime && p.Time > h.params.Time) {
		return false, false, fmt.Errorf("%w: cost parameters above the limit", ErrMalformedHash)
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	got := h.key(password, salt, p)
	h.release()
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p != h.params, nil
}

// DummyVerify costs what a Verify of a real hash with the hasher's parameters
// costs, and always fails. Call it when no account matches the email, so the
// response time does not tell whether an account exists. Its error is ErrBusy or
// ctx's, as Verify's would be, so an unknown account is refused the same way.
func (h *Hasher) DummyVerify(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, password, h.dummy)
	return err
}

// decode parses a PHC argon2id string. Every failure wraps ErrMalformedHash and
// never echoes the input (it is a secret-derived value).
func decode(encoded string) (Params, []byte, []byte, error) {
	var p Params
	fail := func(why string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformedHash, why)
	}
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" {
		return fail("want 5 $-separated fields")
	}
	if parts[1] != "argon2id" {
		return fail("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return fail("unsupported version")
	}
	seen := map[string]bool{}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, found := strings.Cut(kv, "=")
		if !found || seen[k] {
			return fail("bad parameter list")
		}
		seen[k] = true
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return fail("bad parameter value")
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return fail("parallelism out of range")
			}
			p.Threads = uint8(n)
		default:
			return fail("unknown parameter")
		}
	}
	if !seen["m"] || !seen["t"] || !seen["p"] {
		return fail("missing parameter")
	}
	if p.Time < 1 || p.Threads < 1 || p.Memory < 8*uint32(p.Threads) {
		return fail("parameter out of range")
	}
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return fail("bad salt")
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil || len(key) < 4 || len(key) > maxKeyLen {
		return fail("bad hash")
	}
	p.SaltLen = uint32(len(salt))
	p.KeyLen = uint32(len(key))
	return p, salt, key, nil
}
