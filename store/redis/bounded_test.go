package redis_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/councilforms/idp/store/redis"
)

// frozenRedis speaks just enough RESP to be connected to (PING answers PONG, every
// other command an error, so go-redis falls back from HELLO) and then, once frozen,
// swallows every command without answering: a Redis that is stalled, not down. It
// counts the commands it swallowed by name. The connection handshake (HELLO, CLIENT)
// is answered even when frozen, so that each call's own command is what gets
// swallowed and counted, also on the fresh connection that follows a timeout.
type frozenRedis struct {
	ln     net.Listener
	mu     sync.Mutex
	frozen bool
	seen   map[string]int
}

func startFrozenRedis(t *testing.T) *frozenRedis {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &frozenRedis{ln: ln, seen: map[string]int{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return f
}

func (f *frozenRedis) url() string { return "redis://" + f.ln.Addr().String() + "/0" }

func (f *frozenRedis) freeze() {
	f.mu.Lock()
	f.frozen = true
	f.mu.Unlock()
}

func (f *frozenRedis) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[name]
}

func (f *frozenRedis) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		args, err := readCommand(r)
		if err != nil {
			return
		}
		name := strings.ToUpper(args[0])
		f.mu.Lock()
		frozen := f.frozen && name != "HELLO" && name != "CLIENT"
		if frozen {
			f.seen[name]++
		}
		f.mu.Unlock()
		switch {
		case frozen:
			continue // never answer
		case name == "PING":
			io.WriteString(c, "+PONG\r\n")
		default:
			io.WriteString(c, "-ERR unknown command\r\n")
		}
	}
}

// readCommand reads one RESP array of bulk strings.
func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(line, "*") {
		return nil, fmt.Errorf("not an array: %q", line)
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil || n < 1 {
		return nil, fmt.Errorf("bad array length %q", line)
	}
	args := make([]string, n)
	for i := range args {
		head, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(head, "$")))
		if err != nil {
			return nil, fmt.Errorf("bad bulk length %q", head)
		}
		b := make([]byte, size+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		args[i] = string(b[:size])
	}
	return args, nil
}

// hangGuard is how long a call may take before the test calls it a hang: far above
// the store's bounds (about a second), far below what go-redis's defaults give
// (5 s per read, three retries).
const hangGuard = 8 * time.Second

// With Redis frozen, a compare-and-set fails with an error instead of hanging, and
// the script reached Redis once: it is never sent again, since it may already have
// run (a second run would report a conflict that never happened).
func TestRedisFrozenScriptsFailOnceNotRepeated(t *testing.T) {
	f := startFrozenRedis(t)
	s, err := redis.Open(context.Background(), f.url(), "idp:")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	f.freeze()

	for _, call := range []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"compare-and-set", func(ctx context.Context) error {
			_, err := s.CompareAndSet(ctx, "journey:a", 1, []byte("v"), time.Minute)
			return err
		}},
		{"create", func(ctx context.Context) error { return s.Create(ctx, "journey:b", []byte("v"), time.Minute) }},
		{"take", func(ctx context.Context) error { _, err := s.Take(ctx, "code:c"); return err }},
		{"incr", func(ctx context.Context) error { _, err := s.Incr(ctx, "count:d", time.Minute); return err }},
		{"push", func(ctx context.Context) error {
			_, err := s.PushCapped(ctx, "list:e", []byte("v"), 10, time.Minute)
			return err
		}},
	} {
		before := f.count("EVALSHA") + f.count("EVAL")
		done := make(chan error, 1)
		go func() { done <- call.run(context.Background()) }()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s with Redis frozen succeeded", call.name)
			}
		case <-time.After(hangGuard):
			t.Fatalf("%s with Redis frozen still waiting after %s", call.name, hangGuard)
		}
		if n := f.count("EVALSHA") + f.count("EVAL") - before; n != 1 {
			t.Errorf("%s with Redis frozen sent its script %d times, want once", call.name, n)
		}
	}
}

// Reads and PING (what /readyz uses) are bounded too, and a caller's earlier
// deadline is honoured.
func TestRedisFrozenReadsAreBounded(t *testing.T) {
	f := startFrozenRedis(t)
	s, err := redis.Open(context.Background(), f.url(), "idp:")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	f.freeze()

	done := make(chan error, 1)
	go func() { _, _, err := s.Get(context.Background(), "journey:a"); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Get with Redis frozen succeeded")
		}
	case <-time.After(hangGuard):
		t.Fatalf("Get with Redis frozen still waiting after %s", hangGuard)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	go func() { done <- s.Ping(ctx) }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Ping with Redis frozen succeeded")
		}
	case <-time.After(hangGuard):
		t.Fatalf("Ping with a 100 ms deadline still waiting after %s", hangGuard)
	}
}
