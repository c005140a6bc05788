package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/memory"
	"github.com/councilforms/idp/store/storetest"
)

func TestMemoryContract(t *testing.T) {
	storetest.RunEphemeral(t, func(t *testing.T) store.Ephemeral {
		s := memory.New()
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestFlush(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	t.Cleanup(func() { s.Close() })
	if err := s.Put(ctx, "journey:a", []byte("x"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(ctx, "count:b", time.Hour); err != nil {
		t.Fatal(err)
	}
	s.Flush()
	if _, _, err := s.Get(ctx, "journey:a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get after Flush: %v, want ErrNotFound", err)
	}
	if n, err := s.Incr(ctx, "count:b", time.Hour); err != nil || n != 1 {
		t.Fatalf("Incr after Flush = %d, %v; want 1", n, err)
	}
}
