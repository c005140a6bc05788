package password

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/crypto/argon2"
)

// testParams are cheap so the tests run fast; BenchmarkHash uses DefaultParams.
var testParams = Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

func TestHashVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 2)
	for _, pw := range []string{"correct horse battery staple", "ünïcödé pässwörd", " spaces around ", strings.Repeat("x", MaxLength)} {
		encoded, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatalf("Hash: %v", err)
		}
		ok, rehash, err := h.Verify(ctx, pw, encoded)
		if err != nil || !ok || rehash {
			t.Fatalf("Verify(own hash) = ok %v, rehash %v, err %v; want ok, no rehash", ok, rehash, err)
		}
	}
}

func TestHashFormat(t *testing.T) {
	h := NewHasher(DefaultParams, 1)
	encoded, err := h.Hash(context.Background(), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "$argon2id$v=19$m=19456,t=2,p=1$"
	if !strings.HasPrefix(encoded, prefix) {
		t.Fatalf("hash %q does not start with %q", encoded, prefix)
	}
	parts := strings.Split(encoded, "$")
	// 16-byte salt and 32-byte key in unpadded standard base64.
	if len(parts) != 6 || len(parts[4]) != 22 || len(parts[5]) != 43 || strings.ContainsAny(parts[4]+parts[5], "=-_") {
		t.Fatalf("unexpected hash shape %q", encoded)
	}
	other, _ := h.Hash(context.Background(), "correct horse battery staple")
	if other == encoded {
		t.Fatal("two hashes of the same password are equal: the salt is not random")
	}
}

// TestVerifyKnownVector checks Verify against a hash computed independently with
// argon2.IDKey, so Hash and Verify cannot agree on a wrong encoding.
func TestVerifyKnownVector(t *testing.T) {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte("password123!"), salt, 1, 64, 1, 32)
	encoded := encode(testParams, salt, key)
	h := NewHasher(testParams, 1)
	ok, _, err := h.Verify(context.Background(), "password123!", encoded)
	if err != nil || !ok {
		t.Fatalf("Verify(known vector) = %v, %v", ok, err)
	}
}

func TestVerifyWrongPassword(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 1)
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	for _, wrong := range []string{"", "correct horse battery stapl", "Correct horse battery staple", "correct horse battery staple "} {
		ok, rehash, err := h.Verify(ctx, wrong, encoded)
		if err != nil || ok || rehash {
			t.Fatalf("Verify(%q) = ok %v, rehash %v, err %v; want a plain mismatch", wrong, ok, rehash, err)
		}
	}
}

func TestVerifyNeedsRehash(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(testParams, 1)
	encoded, err := old.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]Params{
		"memory":  {Memory: 128, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16},
		"time":    {Memory: 64, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16},
		"threads": {Memory: 64, Time: 1, Threads: 2, KeyLen: 32, SaltLen: 16},
		"keylen":  {Memory: 64, Time: 1, Threads: 1, KeyLen: 16, SaltLen: 16},
		"saltlen": {Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 32},
	} {
		t.Run(name, func(t *testing.T) {
			h := NewHasher(p, 1)
			ok, rehash, err := h.Verify(ctx, "correct horse battery staple", encoded)
			if err != nil || !ok || !rehash {
				t.Fatalf("Verify with new %s = ok %v, rehash %v, err %v; want ok and rehash", name, ok, rehash, err)
			}
			ok, rehash, _ = h.Verify(ctx, "wrong", encoded)
			if ok || rehash {
				t.Fatalf("wrong password: ok %v, rehash %v; want neither", ok, rehash)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 1)
	good, err := h.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	for name, encoded := range map[string]string{
		"empty":            "",
		"garbage":          "not a hash",
		"bcrypt":           "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":          "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"old version":      "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"no version":       "$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"missing param":    "$argon2id$v=19$m=64,t=1$" + salt + "$" + key,
		"repeated param":   "$argon2id$v=19$m=64,m=64,t=1,p=1$" + salt + "$" + key,
		"unknown param":    "$argon2id$v=19$m=64,t=1,p=1,x=2$" + salt + "$" + key,
		"negative":         "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key,
		"zero time":        "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"zero threads":     "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"threads overflow": "$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key,
		"memory too small": "$argon2id$v=19$m=4,t=1,p=1$" + salt + "$" + key,
		"memory too large": "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key,
		"time too large":   "$argon2id$v=19$m=64,t=100000,p=1$" + salt + "$" + key,
		"bad salt":         "$argon2id$v=19$m=64,t=1,p=1$!!!$" + key,
		"short salt":       "$argon2id$v=19$m=64,t=1,p=1$AAAA$" + key,
		"padded salt":      "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,
		"empty hash":       "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$",
		"extra field":      good + "$extra",
		"truncated":        good[:len(good)-len(key)-1],
	} {
		ok, rehash, err := h.Verify(ctx, "pw", encoded)
		if !errors.Is(err, ErrMalformedHash) || ok || rehash {
			t.Errorf("%s: Verify = ok %v, rehash %v, err %v; want ErrMalformedHash", name, ok, rehash, err)
		}
		if err != nil && encoded != "" && strings.Contains(err.Error(), encoded) {
			t.Errorf("%s: error echoes the stored hash", name)
		}
	}
}

func TestDummyVerify(t *testing.T) {
	h := NewHasher(testParams, 1)
	var calls atomic.Int32
	var got Params
	h.derive = func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		calls.Add(1)
		got = Params{Memory: memory, Time: time, Threads: threads, KeyLen: keyLen, SaltLen: uint32(len(salt))}
		return argon2.IDKey(password, salt, time, memory, threads, keyLen)
	}
	h.DummyVerify(context.Background(), "anything")
	// It does the same work as verifying a real hash made with the hasher's params.
	if calls.Load() != 1 || got != testParams {
		t.Fatalf("DummyVerify derived %d keys with %+v; want 1 with %+v", calls.Load(), got, testParams)
	}
}

// TestConcurrencyBound observes the semaphore: with a limit of 2, no more than 2
// derivations run at once however many callers there are.
func TestConcurrencyBound(t *testing.T) {
	const limit = 2
	const callers = limit * (QueueFactor + 1) // as many as may queue
	h := NewHasher(testParams, limit)
	var running, peak atomic.Int32
	h.derive = func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		// Hold the slot long enough for the other callers to pile up behind it.
		timeSleep(5)
		running.Add(-1)
		return argon2.IDKey(password, salt, time, memory, threads, keyLen)
	}
	var wg sync.WaitGroup
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			encoded, err := h.Hash(context.Background(), "pw")
			if err != nil {
				t.Errorf("Hash: %v", err)
				return
			}
			if ok, _, err := h.Verify(context.Background(), "pw", encoded); !ok || err != nil {
				t.Errorf("Verify = %v, %v", ok, err)
			}
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > limit {
		t.Fatalf("%d derivations ran at once, limit %d", p, limit)
	} else if p < 2 {
		t.Fatalf("peak concurrency %d: the test did not exercise the limit", p)
	}
}

// TestQueueBound: once the slots are busy and QueueFactor callers per slot are
// waiting, the next hash fails at once with ErrBusy instead of joining the queue;
// it succeeds again when the queue drains.
func TestQueueBound(t *testing.T) {
	h := NewHasher(testParams, 1)
	release := make(chan struct{})
	h.derive = func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		<-release
		return make([]byte, keyLen)
	}
	var wg sync.WaitGroup
	for range 1 + QueueFactor {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = h.Hash(context.Background(), "pw") }()
	}
	for len(h.queue) < 1+QueueFactor {
		timeSleep(1)
	}
	if _, err := h.Hash(context.Background(), "pw"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash with a full queue: %v, want ErrBusy", err)
	}
	if err := h.DummyVerify(context.Background(), "pw"); !errors.Is(err, ErrBusy) {
		t.Fatalf("DummyVerify with a full queue: %v, want ErrBusy (an unknown account must be refused the same way)", err)
	}
	close(release)
	wg.Wait()
	if _, err := h.Hash(context.Background(), "pw"); err != nil {
		t.Fatalf("Hash after the queue drained: %v", err)
	}
}

func TestAcquireRespectsContext(t *testing.T) {
	h := NewHasher(testParams, 1)
	h.sem <- struct{}{} // another hash holds the only slot

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash while full = %v, want DeadlineExceeded", err)
	}
	encoded := encode(testParams, []byte("0123456789abcdef"), make([]byte, 32))
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, _, err := h.Verify(cancelled, "pw", encoded); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify while full = %v, want Canceled", err)
	}

	<-h.sem // the slot is released
	if _, err := h.Hash(context.Background(), "pw"); err != nil {
		t.Fatalf("Hash after release: %v", err)
	}
	if len(h.sem) != 0 {
		t.Fatalf("%d slots still held after Hash returned", len(h.sem))
	}
}

func TestNewHasherDefaultConcurrency(t *testing.T) {
	if got := cap(NewHasher(testParams, 0).sem); got < 1 {
		t.Fatalf("default concurrency %d", got)
	}
	if got := cap(NewHasher(testParams, 3).sem); got != 3 {
		t.Fatalf("concurrency %d, want 3", got)
	}
}

func timeSleep(ms int) { time.Sleep(time.Duration(ms) * time.Millisecond) }

func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams, 1)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := NewHasher(DefaultParams, 1)
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, err := h.Verify(ctx, "correct horse battery staple", encoded); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// Instrument's metrics count every hash and verification (a dummy one too),
// time the hashing, and show the bound and how many run.
func TestInstrument(t *testing.T) {
	h := NewHasher(testParams, 1)
	reg := prometheus.NewRegistry()
	if err := h.Instrument(reg); err != nil {
		t.Fatal(err)
	}
	if err := h.Instrument(reg); err == nil {
		t.Error("registering the metrics twice succeeded")
	}
	release := make(chan struct{})
	inside := make(chan struct{})
	var first sync.Once
	h.derive = func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		// The first hash holds the only slot until told. (A non-blocking send
		// here lost the signal whenever the hash started before the test
		// waited for it, and the test then waited for ever.)
		first.Do(func() {
			inside <- struct{}{}
			<-release
		})
		return argon2.IDKey(password, salt, time, memory, threads, keyLen)
	}
	ctx := context.Background()
	done := make(chan string)
	go func() {
		enc, _ := h.Hash(ctx, "pw")
		done <- enc
	}()
	<-inside
	if got := gaugeValue(t, reg, "idp_password_hashes_running"); got != 1 {
		t.Errorf("running while one hashes = %v", got)
	}
	dummy := make(chan struct{})
	go func() {
		h.DummyVerify(ctx, "pw") // waits for the slot
		close(dummy)
	}()
	timeSleep(50)
	close(release)
	enc := <-done
	<-dummy
	if ok, _, err := h.Verify(ctx, "pw", enc); !ok || err != nil {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
	waits := histogram(t, reg, "idp_password_hash_wait_seconds")
	hashes := histogram(t, reg, "idp_password_hash_seconds")
	if waits.GetSampleCount() != 3 || hashes.GetSampleCount() != 3 {
		t.Errorf("samples: wait %d, hash %d; want 3 each", waits.GetSampleCount(), hashes.GetSampleCount())
	}
	if hashes.GetSampleSum() < 0.05 {
		t.Errorf("hash seconds %v, want at least the 50 ms the first hash was held", hashes.GetSampleSum())
	}
	if got := gaugeValue(t, reg, "idp_password_hash_slots"); got != 1 {
		t.Errorf("slots = %v, want 1", got)
	}
	if got := gaugeValue(t, reg, "idp_password_hashes_running"); got != 0 {
		t.Errorf("running afterwards = %v", got)
	}
}

func metric(t *testing.T, reg *prometheus.Registry, name string) *dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0]
		}
	}
	t.Fatalf("metric %s not gathered", name)
	return nil
}

func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	return metric(t, reg, name).GetGauge().GetValue()
}

func histogram(t *testing.T, reg *prometheus.Registry, name string) *dto.Histogram {
	return metric(t, reg, name).GetHistogram()
}
