package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
)

// RunEphemeral runs the store.Ephemeral contract against the stores open returns.
// open is called once per subtest with that subtest's t, and must give a store whose
// keyspace no other subtest sees (a fresh memory store, or a Redis store with its own
// prefix); it should register its own cleanup. Subtests run in parallel.
//
// The expiry subtests use real TTLs of a few hundred milliseconds and sleep past
// them: they check that records expire, never how fast an operation is.
func RunEphemeral(t *testing.T, open func(t *testing.T) store.Ephemeral) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s store.Ephemeral)
	}{
		{"CreateGet", ephemeralCreateGet},
		{"CreateExisting", ephemeralCreateExisting},
		{"GetMissing", ephemeralGetMissing},
		{"GetMany", ephemeralGetMany},
		{"ValuesAreBytes", ephemeralValuesAreBytes},
		{"ValuesAreCopied", ephemeralValuesAreCopied},
		{"CompareAndSet", ephemeralCompareAndSet},
		{"CompareAndSetStale", ephemeralCompareAndSetStale},
		{"CompareAndSetMissing", ephemeralCompareAndSetMissing},
		{"CompareAndSetRace", ephemeralCompareAndSetRace},
		{"Put", ephemeralPut},
		{"Take", ephemeralTake},
		{"TakeRace", ephemeralTakeRace},
		{"Delete", ephemeralDelete},
		{"Incr", ephemeralIncr},
		{"IncrRace", ephemeralIncrRace},
		{"RecordExpires", ephemeralRecordExpires},
		{"CompareAndSetResetsTTL", ephemeralCompareAndSetResetsTTL},
		{"PutAfterExpiry", ephemeralPutAfterExpiry},
		{"CounterExpires", ephemeralCounterExpires},
		{"IncrFixedWindow", ephemeralIncrFixedWindow},
		{"NonPositiveTTL", ephemeralNonPositiveTTL},
		{"PushCappedList", ephemeralPushCappedList},
		{"ListIsCapped", ephemeralListIsCapped},
		{"ListValuesAreBytes", ephemeralListValuesAreBytes},
		{"PushCappedRace", ephemeralPushCappedRace},
		{"ListExpires", ephemeralListExpires},
		{"PushCappedResetsTTL", ephemeralPushCappedResetsTTL},
		{"ListIsItsOwnKind", ephemeralListIsItsOwnKind},
		{"PushCappedRefusesBadArguments", ephemeralPushCappedRefusesBadArguments},
		{"Ping", ephemeralPing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			tc.fn(t, s)
		})
	}
}

const ephemeralLongTTL = time.Minute

func ephemeralGetOK(t *testing.T, s store.Ephemeral, key string) ([]byte, int64) {
	t.Helper()
	v, n, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v, n
}

func ephemeralWantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func ephemeralCreateGet(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	if err := s.Create(ctx, "journey:a", []byte("state one"), ephemeralLongTTL); err != nil {
		t.Fatalf("Create: %v", err)
	}
	v, n := ephemeralGetOK(t, s, "journey:a")
	if string(v) != "state one" || n != 1 {
		t.Fatalf("Get = %q, version %d; want %q, version 1", v, n, "state one")
	}
}

func ephemeralCreateExisting(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	if err := s.Create(ctx, "k", []byte("first"), ephemeralLongTTL); err != nil {
		t.Fatalf("Create: %v", err)
	}
	ephemeralWantErr(t, "second Create", s.Create(ctx, "k", []byte("second"), ephemeralLongTTL), store.ErrConflict)
	v, n := ephemeralGetOK(t, s, "k")
	if string(v) != "first" || n != 1 {
		t.Fatalf("after refused Create: %q, version %d; want %q, version 1", v, n, "first")
	}
}

func ephemeralGetMissing(t *testing.T, s store.Ephemeral) {
	_, _, err := s.Get(context.Background(), "absent")
	ephemeralWantErr(t, "Get absent", err, store.ErrNotFound)
}

func ephemeralGetMany(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	if got, err := s.GetMany(ctx); err != nil || len(got) != 0 {
		t.Fatalf("GetMany() = %q, %v; want nothing", got, err)
	}
	if err := s.Create(ctx, "many:a", []byte("alpha"), ephemeralLongTTL); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "many:empty", []byte{}, ephemeralLongTTL); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "many:b", []byte("beta"), ephemeralLongTTL); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompareAndSet(ctx, "many:b", 1, []byte("beta 2"), ephemeralLongTTL); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "many:gone", []byte("x"), ephemeralLongTTL); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "many:gone"); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetMany(ctx, "many:b", "many:absent", "many:a", "many:gone", "many:empty", "many:a")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"beta 2", "", "alpha", "", "", "alpha"}
	present := []bool{true, false, true, false, true, true}
	if len(got) != len(want) {
		t.Fatalf("GetMany returned %d values, want %d", len(got), len(want))
	}
	for i := range want {
		if (got[i] != nil) != present[i] || string(got[i]) != want[i] {
			t.Errorf("value %d = %q (nil %v), want %q (present %v)", i, got[i], got[i] == nil, want[i], present[i])
		}
	}
	// The values are copies: changing one changes nothing stored.
	got[0][0] = 'X'
	if v, _ := ephemeralGetOK(t, s, "many:b"); string(v) != "beta 2" {
		t.Errorf("stored value changed through GetMany's result: %q", v)
	}
}

func ephemeralValuesAreBytes(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	for i, val := range [][]byte{{}, {0, 1, 2, 0xff, 0xfe, 0}, []byte("ünïcödé \n\r\t"), bytes.Repeat([]byte("x"), 64<<10)} {
		key := fmt.Sprintf("bytes:%d", i)
		if err := s.Create(ctx, key, val, ephemeralLongTTL); err != nil {
			t.Fatalf("Create %d: %v", i, err)
		}
		got, _ := ephemeralGetOK(t, s, key)
		if !bytes.Equal(got, val) {
			t.Fatalf("value %d: got %d bytes, want %d bytes, equal=false", i, len(got), len(val))
		}
		taken, err := s.Take(ctx, key)
		if err != nil {
			t.Fatalf("Take %d: %v", i, err)
		}
		if !bytes.Equal(taken, val) {
			t.Fatalf("taken value %d differs", i)
		}
	}
}

func ephemeralValuesAreCopied(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	in := []byte("original")
	if err := s.Create(ctx, "k", in, ephemeralLongTTL); err != nil {
		t.Fatalf("Create: %v", err)
	}
	copy(in, "XXXXXXXX")
	got, _ := ephemeralGetOK(t, s, "k")
	if string(got) != "original" {
		t.Fatalf("changing the slice passed to Create changed the record: %q", got)
	}
	copy(got, "YYYYYYYY")
	again, _ := ephemeralGetOK(t, s, "k")
	if string(again) != "original" {
		t.Fatalf("changing the slice Get returned changed the record: %q", again)
	}
}

func ephemeralCompareAndSet(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	if err := s.Create(ctx, "k", []byte("v1"), ephemeralLongTTL); err != nil {
		t.Fatalf("Create: %v", err)
	}
	for want := int64(2); want <= 4; want++ {
		val := fmt.Sprintf("v%d", want)
		n, err := s.CompareAndSet(ctx, "k", want-1, []byte(val), ephemeralLongTTL)
		if err != nil {
			t.Fatalf("CompareAndSet version %d: %v", want-1, err)
		}
		if n != want {
			t.Fatalf("CompareAndSet returned version %d, want %d", n, want)
		}
		v, got := ephemeralGetOK(t, s, "k")
		if string(v) != val || got != want {
			t.Fatalf("Get = %q, version %d; want %q, version %d", v, got, val, want)
		}
	}
}

func ephemeralCompareAndSetStale(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	if err := s.Create(ctx, "k", []byte("v1"), ephemeralLongTTL); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := s.CompareAndSet(ctx, "k", 1, []byte("v2"), ephemeralLongTTL); err != nil {
		t.Fatalf("CompareAndSet: %v", err)
	}
	for _, stale := range []int64{1, 0, 3, -1} {
		_, err := s.CompareAndSet(ctx, "k", stale, []byte("lost"), ephemeralLongTTL)
		ephemeralWantErr(t, fmt.Sprintf("CompareAndSet with version %d", stale), err, store.ErrConflict)
	}
	v, n := ephemeralGetOK(t, s, "k")
	if string(v) != "v2" || n != 2 {
		t.Fatalf("after refused writes: %q, version %d; want %q, version 2", v, n, "v2")
	}
}

func ephemeralCompareAndSetMissing(t *testing.T, s store.Ephemeral) {
	_, err := s.CompareAndSet(context.Background(), "absent", 1, []byte("v"), ephemeralLongTTL)
	ephemeralWantErr(t, "CompareAndSet absent", err, store.ErrNotFound)
	_, _, err = s.Get(context.Background(), "absent")
	ephemeralWantErr(t, "Get after CompareAndSet absent", err, store.ErrNotFound)
}

// ephemeralCompareAndSetRace: writers holding the same version race; exactly one wins
// (two tabs, or a double click, submitting the same journey step).
func ephemeralCompareAndSetRace(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	const writers = 10
	for round := 0; round < 5; round++ {
		key := fmt.Sprintf("race:%d", round)
		if err := s.Create(ctx, key, []byte("start"), ephemeralLongTTL); err != nil {
			t.Fatalf("Create: %v", err)
		}
		var (
			wg        sync.WaitGroup
			start     = make(chan struct{})
			errs      = make([]error, writers)
			versions  = make([]int64, writers)
			winner    = -1
			conflicts int
		)
		for i := 0; i < writers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				versions[i], errs[i] = s.CompareAndSet(ctx, key, 1, []byte(fmt.Sprintf("writer %d", i)), ephemeralLongTTL)
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("round %d: writers %d and %d both won", round, winner, i)
				}
				winner = i
				if versions[i] != 2 {
					t.Fatalf("round %d: winner got version %d, want 2", round, versions[i])
				}
			case errors.Is(err, store.ErrConflict):
				conflicts++
			default:
				t.Fatalf("round %d: writer %d: %v", round, i, err)
			}
		}
		if winner < 0 || conflicts != writers-1 {
			t.Fatalf("round %d: winner %d, %d conflicts; want one winner and %d conflicts", round, winner, conflicts, writers-1)
		}
		v, n := ephemeralGetOK(t, s, key)
		if want := fmt.Sprintf("writer %d", winner); string(v) != want || n != 2 {
			t.Fatalf("round %d: stored %q, version %d; want %q, version 2", round, v, n, want)
		}
	}
}

func ephemeralPut(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	if err := s.Put(ctx, "k", []byte("a"), ephemeralLongTTL); err != nil {
		t.Fatalf("Put new: %v", err)
	}
	if v, n := ephemeralGetOK(t, s, "k"); string(v) != "a" || n != 1 {
		t.Fatalf("after Put new: %q, version %d; want %q, version 1", v, n, "a")
	}
	if err := s.Put(ctx, "k", []byte("b"), ephemeralLongTTL); err != nil {
		t.Fatalf("Put over: %v", err)
	}
	if v, n := ephemeralGetOK(t, s, "k"); string(v) != "b" || n != 2 {
		t.Fatalf("after Put over: %q, version %d; want %q, version 2", v, n, "b")
	}
	// A Put moves the version on, so a writer still holding the old one loses.
	_, err := s.CompareAndSet(ctx, "k", 1, []byte("stale"), ephemeralLongTTL)
	ephemeralWantErr(t, "CompareAndSet after Put", err, store.ErrConflict)
	if _, err := s.CompareAndSet(ctx, "k", 2, []byte("c"), ephemeralLongTTL); err != nil {
		t.Fatalf("CompareAndSet with Put's version: %v", err)
	}
}

func ephemeralTake(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	if err := s.Create(ctx, "code:x", []byte("auth code"), ephemeralLongTTL); err != nil {
		t.Fatalf("Create: %v", err)
	}
	v, err := s.Take(ctx, "code:x")
	if err != nil || string(v) != "auth code" {
		t.Fatalf("Take = %q, %v; want %q", v, err, "auth code")
	}
	_, err = s.Take(ctx, "code:x")
	ephemeralWantErr(t, "second Take", err, store.ErrNotFound)
	_, _, err = s.Get(ctx, "code:x")
	ephemeralWantErr(t, "Get after Take", err, store.ErrNotFound)
	// The key is free again.
	if err := s.Create(ctx, "code:x", []byte("new"), ephemeralLongTTL); err != nil {
		t.Fatalf("Create after Take: %v", err)
	}
	if _, n := ephemeralGetOK(t, s, "code:x"); n != 1 {
		t.Fatalf("version after re-Create = %d, want 1", n)
	}
}

// ephemeralTakeRace: an authorization code redeemed twice at once is given out once.
func ephemeralTakeRace(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	const takers = 20
	for round := 0; round < 5; round++ {
		key := fmt.Sprintf("code:%d", round)
		if err := s.Create(ctx, key, []byte("secret"), ephemeralLongTTL); err != nil {
			t.Fatalf("Create: %v", err)
		}
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			vals  = make([][]byte, takers)
			errs  = make([]error, takers)
		)
		for i := 0; i < takers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				vals[i], errs[i] = s.Take(ctx, key)
			}()
		}
		close(start)
		wg.Wait()
		got := 0
		for i, err := range errs {
			switch {
			case err == nil:
				got++
				if string(vals[i]) != "secret" {
					t.Fatalf("round %d: taker %d got %q", round, i, vals[i])
				}
			case errors.Is(err, store.ErrNotFound):
			default:
				t.Fatalf("round %d: taker %d: %v", round, i, err)
			}
		}
		if got != 1 {
			t.Fatalf("round %d: %d takers got the value, want exactly 1", round, got)
		}
	}
}

func ephemeralDelete(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	if err := s.Delete(ctx, "absent"); err != nil {
		t.Fatalf("Delete absent: %v", err)
	}
	if err := s.Create(ctx, "k", []byte("v"), ephemeralLongTTL); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, _, err := s.Get(ctx, "k")
	ephemeralWantErr(t, "Get after Delete", err, store.ErrNotFound)
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete twice: %v", err)
	}
	// Delete also resets a counter.
	for i := 0; i < 3; i++ {
		if _, err := s.Incr(ctx, "counter", ephemeralLongTTL); err != nil {
			t.Fatalf("Incr: %v", err)
		}
	}
	if err := s.Delete(ctx, "counter"); err != nil {
		t.Fatalf("Delete counter: %v", err)
	}
	if n, err := s.Incr(ctx, "counter", ephemeralLongTTL); err != nil || n != 1 {
		t.Fatalf("Incr after Delete = %d, %v; want 1", n, err)
	}
}

func ephemeralIncr(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	for want := int64(1); want <= 5; want++ {
		n, err := s.Incr(ctx, "rate:ip", ephemeralLongTTL)
		if err != nil {
			t.Fatalf("Incr: %v", err)
		}
		if n != want {
			t.Fatalf("Incr = %d, want %d", n, want)
		}
	}
	if n, err := s.Incr(ctx, "rate:other", ephemeralLongTTL); err != nil || n != 1 {
		t.Fatalf("Incr of another counter = %d, %v; want 1", n, err)
	}
}

func ephemeralIncrRace(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	const n = 50
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = make(map[int64]bool)
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := s.Incr(ctx, "rate:race", ephemeralLongTTL)
			if err != nil {
				t.Errorf("Incr: %v", err)
				return
			}
			mu.Lock()
			seen[v] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	for i := int64(1); i <= n; i++ {
		if !seen[i] {
			t.Fatalf("no Incr returned %d: increments were lost or repeated", i)
		}
	}
}

// ephemeralSleepUntil sleeps until deadline (at least until it has passed).
func ephemeralSleepUntil(deadline time.Time) {
	time.Sleep(time.Until(deadline))
}

func ephemeralRecordExpires(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	// The first Get must land before the TTL runs out (see ephemeralInTime).
	key, ttl := "", time.Duration(0)
	ephemeralInTime(t, func(attempt int, d time.Duration) (bool, error) {
		key, ttl = fmt.Sprintf("k%d", attempt), d
		created := time.Now()
		if err := s.Create(ctx, key, []byte("v"), ttl); err != nil {
			t.Fatalf("Create: %v", err)
		}
		_, _, err := s.Get(ctx, key)
		return time.Since(created) < ttl, err
	})
	ephemeralSleepUntil(time.Now().Add(ttl + 50*time.Millisecond))
	_, _, err := s.Get(ctx, key)
	ephemeralWantErr(t, "Get after expiry", err, store.ErrNotFound)
	_, err = s.CompareAndSet(ctx, key, 1, []byte("late"), ephemeralLongTTL)
	ephemeralWantErr(t, "CompareAndSet after expiry", err, store.ErrNotFound)
	_, err = s.Take(ctx, key)
	ephemeralWantErr(t, "Take after expiry", err, store.ErrNotFound)
	// An expired key can be created again, from version 1.
	if err := s.Create(ctx, key, []byte("again"), ephemeralLongTTL); err != nil {
		t.Fatalf("Create after expiry: %v", err)
	}
	if v, n := ephemeralGetOK(t, s, key); string(v) != "again" || n != 1 {
		t.Fatalf("after re-Create: %q, version %d; want %q, version 1", v, n, "again")
	}
}

func ephemeralCompareAndSetResetsTTL(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	// The CompareAndSet must land before the key's first TTL runs out: a
	// machine too slow for 200 ms is given twice as long, and again.
	key, ttl, start := "", time.Duration(0), time.Time{}
	ephemeralInTime(t, func(attempt int, d time.Duration) (bool, error) {
		key, ttl = fmt.Sprintf("k%d", attempt), d
		created := time.Now()
		if err := s.Create(ctx, key, []byte("v1"), ttl); err != nil {
			t.Fatalf("Create: %v", err)
		}
		start = time.Now()
		_, err := s.CompareAndSet(ctx, key, 1, []byte("v2"), ephemeralLongTTL)
		return time.Since(created) < ttl, err
	})
	ephemeralSleepUntil(start.Add(ttl + 50*time.Millisecond))
	if v, n := ephemeralGetOK(t, s, key); string(v) != "v2" || n != 2 {
		t.Fatalf("after the first TTL: %q, version %d; want %q, version 2", v, n, "v2")
	}
	// And it can shorten it: the key is gone ttl after the call returned.
	if _, err := s.CompareAndSet(ctx, key, 2, []byte("v3"), ttl); err != nil {
		t.Fatalf("CompareAndSet: %v", err)
	}
	ephemeralSleepUntil(time.Now().Add(ttl + 50*time.Millisecond))
	_, _, err := s.Get(ctx, key)
	ephemeralWantErr(t, "Get after the shortened TTL", err, store.ErrNotFound)
}

// ephemeralInTime runs try with a TTL of 200 ms, then twice as long and again
// up to 6.4 s, until try reports that what it checks happened within the TTL
// (measured from before the key was written, so surely in time). An error
// from a try that was in time fails the test; one from a late try is what the
// TTL running out would give, and the next try has longer. So a slow machine
// makes the test slower, never skipped, and a failure is the store's.
func ephemeralInTime(t *testing.T, try func(attempt int, ttl time.Duration) (inTime bool, err error)) {
	t.Helper()
	ttl := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		inTime, err := try(attempt, ttl)
		switch {
		case inTime && err != nil:
			t.Fatalf("with a TTL of %v: %v", ttl, err)
		case inTime:
			return
		case ttl >= 6400*time.Millisecond:
			t.Fatalf("the store took longer than a TTL of %v to answer twice (last error %v)", ttl, err)
		}
		ttl *= 2
	}
}

func ephemeralPutAfterExpiry(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	const ttl = 100 * time.Millisecond
	if err := s.Create(ctx, "k", []byte("v1"), ttl); err != nil {
		t.Fatalf("Create: %v", err)
	}
	ephemeralSleepUntil(time.Now().Add(ttl + 50*time.Millisecond))
	if err := s.Put(ctx, "k", []byte("fresh"), ephemeralLongTTL); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if v, n := ephemeralGetOK(t, s, "k"); string(v) != "fresh" || n != 1 {
		t.Fatalf("Put over an expired record: %q, version %d; want %q, version 1", v, n, "fresh")
	}
}

func ephemeralCounterExpires(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	const ttl = 150 * time.Millisecond
	var windowStarted time.Time // by then the first Incr has opened the window
	for i := 0; i < 3; i++ {
		if _, err := s.Incr(ctx, "rate:k", ttl); err != nil {
			t.Fatalf("Incr: %v", err)
		}
		if i == 0 {
			windowStarted = time.Now()
		}
	}
	ephemeralSleepUntil(windowStarted.Add(ttl + 50*time.Millisecond))
	if n, err := s.Incr(ctx, "rate:k", ttl); err != nil || n != 1 {
		t.Fatalf("Incr after the window = %d, %v; want 1 (a new window)", n, err)
	}
}

// ephemeralIncrFixedWindow: increments inside a window do not push its end back,
// otherwise a client that keeps trying would never be let through again.
func ephemeralIncrFixedWindow(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	// The first Incr must answer within a quarter of the window and the
	// second land inside it (see ephemeralInTime).
	key, ttl, start := "", time.Duration(0), time.Time{}
	ephemeralInTime(t, func(attempt int, d time.Duration) (bool, error) {
		key, ttl, start = fmt.Sprintf("rate:w%d", attempt), d, time.Now()
		if n, err := s.Incr(ctx, key, ttl); err != nil || n != 1 {
			t.Fatalf("first Incr = %d, %v; want 1", n, err)
		}
		quick := time.Since(start) < ttl/4
		ephemeralSleepUntil(start.Add(ttl / 2))
		n, err := s.Incr(ctx, key, ttl)
		if err == nil && n != 2 {
			err = fmt.Errorf("second Incr inside the window = %d, want 2", n)
		}
		return quick && time.Since(start) < ttl, err
	})
	// Past the first window's end (before start + ttl/4 + ttl) but before the
	// end a sliding window would have (at least start + ttl/2 + ttl).
	ephemeralSleepUntil(start.Add(ttl + ttl/4))
	if n, err := s.Incr(ctx, key, ttl); err != nil || n != 1 {
		t.Fatalf("Incr after the window = %d, %v; want 1: a later Incr extended the TTL", n, err)
	}
}

func ephemeralNonPositiveTTL(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	for _, ttl := range []time.Duration{0, -time.Second} {
		if err := s.Create(ctx, "k", []byte("v"), ttl); err == nil {
			t.Fatalf("Create with ttl %v succeeded", ttl)
		}
		if err := s.Put(ctx, "k", []byte("v"), ttl); err == nil {
			t.Fatalf("Put with ttl %v succeeded", ttl)
		}
		if _, err := s.Incr(ctx, "c", ttl); err == nil {
			t.Fatalf("Incr with ttl %v succeeded", ttl)
		}
	}
	_, _, err := s.Get(ctx, "k")
	ephemeralWantErr(t, "Get after refused writes", err, store.ErrNotFound)
	if err := s.Create(ctx, "k", []byte("v"), ephemeralLongTTL); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := s.CompareAndSet(ctx, "k", 1, []byte("v2"), 0); err == nil {
		t.Fatal("CompareAndSet with ttl 0 succeeded")
	}
	if v, n := ephemeralGetOK(t, s, "k"); string(v) != "v" || n != 1 {
		t.Fatalf("after refused CompareAndSet: %q, version %d; want %q, version 1", v, n, "v")
	}
}

func ephemeralPing(t *testing.T, s store.Ephemeral) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping after Close succeeded")
	}
}

// ephemeralList reads the list at key as strings, newest first.
func ephemeralList(t *testing.T, s store.Ephemeral, key string) []string {
	t.Helper()
	vals, err := s.List(context.Background(), key)
	if err != nil {
		t.Fatalf("List(%q): %v", key, err)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

// ephemeralPush pushes value and returns the values dropped, as strings.
func ephemeralPush(t *testing.T, s store.Ephemeral, key, value string, max int, ttl time.Duration) []string {
	t.Helper()
	dropped, err := s.PushCapped(context.Background(), key, []byte(value), max, ttl)
	if err != nil {
		t.Fatalf("PushCapped(%q, %q): %v", key, value, err)
	}
	out := make([]string, len(dropped))
	for i, v := range dropped {
		out[i] = string(v)
	}
	return out
}

func ephemeralPushDrops(t *testing.T, s store.Ephemeral, key, value string, max int, want ...string) {
	t.Helper()
	if got := ephemeralPush(t, s, key, value, max, ephemeralLongTTL); fmt.Sprint(got) != fmt.Sprint(want) || len(got) != len(want) {
		t.Fatalf("PushCapped(%q, %q, max %d) dropped %q, want %q", key, value, max, got, want)
	}
}

func ephemeralWantList(t *testing.T, s store.Ephemeral, key string, want ...string) {
	t.Helper()
	got := ephemeralList(t, s, key)
	if fmt.Sprint(got) != fmt.Sprint(want) || len(got) != len(want) {
		t.Fatalf("List(%q) = %q, want %q", key, got, want)
	}
}

func ephemeralPushCappedList(t *testing.T, s store.Ephemeral) {
	// An absent list is empty, not an error.
	ephemeralWantList(t, s, "inbox")
	for _, v := range []string{"a", "b", "c"} {
		ephemeralPushDrops(t, s, "inbox", v, 10)
	}
	ephemeralWantList(t, s, "inbox", "c", "b", "a")
	// A value pushed again moves to the head: each value is listed once.
	ephemeralPushDrops(t, s, "inbox", "a", 10)
	ephemeralWantList(t, s, "inbox", "a", "c", "b")
	ephemeralPushDrops(t, s, "inbox", "a", 10)
	ephemeralWantList(t, s, "inbox", "a", "c", "b")
	// Other lists are apart.
	ephemeralPushDrops(t, s, "other", "x", 10)
	ephemeralWantList(t, s, "other", "x")
	ephemeralWantList(t, s, "inbox", "a", "c", "b")
	// Delete removes a list.
	if err := s.Delete(context.Background(), "inbox"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	ephemeralWantList(t, s, "inbox")
	ephemeralPushDrops(t, s, "inbox", "fresh", 10)
	ephemeralWantList(t, s, "inbox", "fresh")
}

// ephemeralListIsCapped: a push beyond max drops the oldest values and returns them
// (newest first); a smaller max trims the list to it.
func ephemeralListIsCapped(t *testing.T, s store.Ephemeral) {
	for i := 1; i <= 5; i++ {
		ephemeralPushDrops(t, s, "ring", fmt.Sprint(i), 5)
	}
	ephemeralPushDrops(t, s, "ring", "6", 5, "1")
	ephemeralPushDrops(t, s, "ring", "7", 5, "2")
	ephemeralWantList(t, s, "ring", "7", "6", "5", "4", "3")
	// Pushing a listed value again drops nothing, even at the cap.
	ephemeralPushDrops(t, s, "ring", "3", 5)
	ephemeralWantList(t, s, "ring", "3", "7", "6", "5", "4")
	ephemeralPushDrops(t, s, "ring", "8", 2, "7", "6", "5", "4")
	ephemeralWantList(t, s, "ring", "8", "3")
	ephemeralPushDrops(t, s, "ring", "9", 1, "8", "3")
	ephemeralWantList(t, s, "ring", "9")
}

func ephemeralListValuesAreBytes(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	vals := [][]byte{{}, {0, 1, 2, 0xff, 0xfe, 0}, []byte("ünïcödé \n\r\t"), bytes.Repeat([]byte("x"), 64<<10)}
	for _, v := range vals {
		in := append([]byte(nil), v...)
		if _, err := s.PushCapped(ctx, "bytes", in, 10, ephemeralLongTTL); err != nil {
			t.Fatalf("PushCapped: %v", err)
		}
		if len(in) > 0 {
			in[0] ^= 0xff // changing the slice passed in changes nothing stored
		}
	}
	got, err := s.List(ctx, "bytes")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(got) != len(vals) {
		t.Fatalf("List returned %d values, want %d", len(got), len(vals))
	}
	for i, v := range vals {
		if g := got[len(vals)-1-i]; !bytes.Equal(g, v) {
			t.Fatalf("value %d: got %d bytes, want %d bytes, equal=false", i, len(g), len(v))
		}
	}
	// The values returned are copies.
	got[0][0] = 'Y'
	again, err := s.List(ctx, "bytes")
	if err != nil || again[0][0] != 'x' {
		t.Fatalf("changing List's result changed the list: %q..., %v", again[0][:1], err)
	}
}

// ephemeralPushCappedRace: processes pushing at once lose nothing: every value is
// either listed or returned as dropped to exactly one pusher, and the list never
// holds more than the cap.
func ephemeralPushCappedRace(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	const pushers = 50
	for _, tc := range []struct {
		key string
		max int
	}{{"race:all", 2 * pushers}, {"race:capped", 10}} {
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			dropped []string
			start   = make(chan struct{})
		)
		for i := 0; i < pushers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				d, err := s.PushCapped(ctx, tc.key, []byte(fmt.Sprint(i)), tc.max, ephemeralLongTTL)
				if err != nil {
					t.Errorf("PushCapped: %v", err)
					return
				}
				mu.Lock()
				for _, v := range d {
					dropped = append(dropped, string(v))
				}
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		got := ephemeralList(t, s, tc.key)
		if want := min(pushers, tc.max); len(got) != want {
			t.Fatalf("%s: %d values after %d pushes with max %d, want %d: %q", tc.key, len(got), pushers, tc.max, want, got)
		}
		seen := map[string]int{}
		for _, v := range append(got, dropped...) {
			seen[v]++
		}
		for i := 0; i < pushers; i++ {
			if n := seen[fmt.Sprint(i)]; n != 1 {
				t.Fatalf("%s: value %d listed or dropped %d times, want once (listed %q, dropped %q)", tc.key, i, n, got, dropped)
			}
		}
	}
}

func ephemeralListExpires(t *testing.T, s store.Ephemeral) {
	const ttl = 150 * time.Millisecond
	start := time.Now()
	ephemeralPush(t, s, "short", "old", 10, ttl)
	ephemeralSleepUntil(start.Add(ttl + 50*time.Millisecond))
	ephemeralWantList(t, s, "short")
	// A push after expiry starts a new list.
	ephemeralPush(t, s, "short", "new", 10, ephemeralLongTTL)
	ephemeralWantList(t, s, "short", "new")
}

// ephemeralPushCappedResetsTTL: a list lives until ttl after its latest push, and a
// push can shorten its life as well as lengthen it.
func ephemeralPushCappedResetsTTL(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	// The second push must land before the first one's TTL runs out.
	key, ttl, start := "", time.Duration(0), time.Time{}
	ephemeralInTime(t, func(attempt int, d time.Duration) (bool, error) {
		key, ttl = fmt.Sprintf("k%d", attempt), d
		pushed := time.Now()
		if _, err := s.PushCapped(ctx, key, []byte("1"), 10, ttl); err != nil {
			t.Fatalf("PushCapped: %v", err)
		}
		start = time.Now()
		_, err := s.PushCapped(ctx, key, []byte("2"), 10, ephemeralLongTTL)
		return time.Since(pushed) < ttl, err
	})
	ephemeralSleepUntil(start.Add(ttl + 50*time.Millisecond))
	ephemeralWantList(t, s, key, "2", "1")
	ephemeralPush(t, s, key, "3", 10, ttl)
	ephemeralSleepUntil(time.Now().Add(ttl + 50*time.Millisecond))
	ephemeralWantList(t, s, key)
}

// ephemeralListIsItsOwnKind: a key holds a list, a record or a counter, and the
// operations of one kind do not silently read or overwrite another.
func ephemeralListIsItsOwnKind(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	ephemeralPush(t, s, "list", "v", 10, ephemeralLongTTL)
	if _, _, err := s.Get(ctx, "list"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of a list: %v, want an error other than ErrNotFound", err)
	}
	if err := s.Create(ctx, "list", []byte("r"), ephemeralLongTTL); err == nil {
		t.Error("Create over a list succeeded")
	}
	if err := s.Create(ctx, "record", []byte("r"), ephemeralLongTTL); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PushCapped(ctx, "record", []byte("v"), 10, ephemeralLongTTL); err == nil {
		t.Error("PushCapped onto a record succeeded")
	}
	if _, err := s.List(ctx, "record"); err == nil {
		t.Error("List of a record succeeded")
	}
	if v, n := ephemeralGetOK(t, s, "record"); string(v) != "r" || n != 1 {
		t.Errorf("record after refused list operations: %q, version %d", v, n)
	}
	ephemeralWantList(t, s, "list", "v")
}

func ephemeralPushCappedRefusesBadArguments(t *testing.T, s store.Ephemeral) {
	ctx := context.Background()
	for _, ttl := range []time.Duration{0, -time.Second} {
		if _, err := s.PushCapped(ctx, "k", []byte("v"), 10, ttl); err == nil {
			t.Errorf("PushCapped with ttl %v succeeded", ttl)
		}
	}
	for _, max := range []int{0, -1} {
		if _, err := s.PushCapped(ctx, "k", []byte("v"), max, ephemeralLongTTL); err == nil {
			t.Errorf("PushCapped with max %d succeeded", max)
		}
	}
	ephemeralWantList(t, s, "k")
}
