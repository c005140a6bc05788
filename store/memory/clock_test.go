package memory

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemoryInjectedClock(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	s := New(WithClock(clock.Now))
	defer s.Close()

	if err := s.Create(ctx, "journey:1", []byte("v"), 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(ctx, "rate:1", time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute - time.Nanosecond)
	if n, err := s.Incr(ctx, "rate:1", time.Minute); err != nil || n != 2 {
		t.Fatalf("Incr just inside the window = %d, %v; want 2", n, err)
	}
	clock.Advance(time.Nanosecond)
	if n, err := s.Incr(ctx, "rate:1", time.Minute); err != nil || n != 1 {
		t.Fatalf("Incr at the end of the window = %d, %v; want 1", n, err)
	}
	clock.Advance(9 * time.Minute)
	if _, _, err := s.Get(ctx, "journey:1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get at expiry: %v, want ErrNotFound", err)
	}
}

func TestMemoryJanitorSweepsExpiredKeys(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	s := New(WithClock(clock.Now), WithSweepInterval(5*time.Millisecond))
	defer s.Close()

	for _, k := range []string{"a", "b", "c"} {
		if err := s.Create(ctx, k, []byte("v"), time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, "kept", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(ctx, "counter", time.Second); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second)

	// Nothing reads the expired keys: only the janitor can remove them.
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		n := len(s.entries)
		_, kept := s.entries["kept"]
		s.mu.Unlock()
		if n == 1 && kept {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("janitor left %d keys (kept present: %v), want only the live one", n, kept)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMemoryCloseStopsJanitor(t *testing.T) {
	s := New(WithSweepInterval(time.Millisecond))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	default:
		t.Fatal("janitor still running after Close")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Create(context.Background(), "k", []byte("v"), time.Minute); err == nil {
		t.Fatal("Create after Close succeeded")
	}
}

func TestMemoryKindsDoNotMix(t *testing.T) {
	ctx := context.Background()
	s := New()
	defer s.Close()
	if _, err := s.Incr(ctx, "counter", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, "counter"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get of a counter: %v, want a type error", err)
	}
	if err := s.Create(ctx, "counter", []byte("v"), time.Minute); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Create over a counter: %v, want ErrConflict", err)
	}
	if err := s.Create(ctx, "record", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(ctx, "record", time.Minute); err == nil {
		t.Fatal("Incr of a record succeeded")
	}
}
