package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/redis"
	"github.com/councilforms/idp/store/storetest"
)

// openTestStore opens a store on the test Redis with its own prefix; the keys are
// deleted when the test ends.
func openTestStore(t *testing.T) (*redis.Store, string, string) {
	t.Helper()
	url, prefix := storetest.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := redis.Open(ctx, url, prefix)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	// The contract suite closes some stores itself; a second Close only reports
	// that the client is already closed.
	t.Cleanup(func() { _ = s.Close() })
	return s, url, prefix
}

func TestRedisContract(t *testing.T) {
	storetest.Redis(t) // skip (or fail) once here rather than in every subtest
	storetest.RunEphemeral(t, func(t *testing.T) store.Ephemeral {
		s, _, _ := openTestStore(t)
		return s
	})
}

func rawClient(t *testing.T, url string) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRedisKeysCarryThePrefix(t *testing.T) {
	ctx := context.Background()
	s, url, prefix := openTestStore(t)
	raw := rawClient(t, url)

	if err := s.Create(ctx, "journey:abc", []byte("state"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(ctx, "rate:ip", time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"journey:abc", "rate:ip"} {
		if n := raw.Exists(ctx, prefix+k).Val(); n != 1 {
			t.Errorf("key %q not stored under the prefix", prefix+k)
		}
		if n := raw.Exists(ctx, k).Val(); n != 0 {
			t.Errorf("key %q stored without the prefix", k)
		}
		ttl := raw.PTTL(ctx, prefix+k).Val()
		if ttl <= 0 || ttl > time.Minute {
			t.Errorf("key %q has TTL %v, want within (0, 1m]", k, ttl)
		}
	}

	// Another prefix on the same database sees none of it.
	other := redis.New(raw, prefix+"other:")
	if _, _, err := other.Get(ctx, "journey:abc"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get through another prefix: %v, want ErrNotFound", err)
	}
	if err := other.Create(ctx, "journey:abc", []byte("theirs"), time.Minute); err != nil {
		t.Fatalf("Create through another prefix: %v", err)
	}
	if v, _, err := s.Get(ctx, "journey:abc"); err != nil || string(v) != "state" {
		t.Fatalf("Get = %q, %v; want the first store's value", v, err)
	}
}

func TestRedisOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	_, err := redis.Open(ctx, "http://user:hunter2@example.invalid/", "p:")
	if err == nil {
		t.Fatal("Open with an http URL succeeded")
	}
	_, err = redis.Open(ctx, "redis://user:hunter2@127.0.0.1:notaport/0", "p:")
	if err == nil {
		t.Fatal("Open with a bad port succeeded")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error repeats the password: %v", err)
	}

	// Port 1 on loopback refuses connections: the error must say it cannot reach Redis.
	_, err = redis.Open(ctx, "redis://127.0.0.1:1/0", "p:")
	if err == nil || !strings.Contains(err.Error(), "cannot reach 127.0.0.1:1") {
		t.Fatalf("Open of a closed port: %v, want a 'cannot reach' error", err)
	}
}

func TestRedisTLSURLAccepted(t *testing.T) {
	// rediss:// parses and selects TLS; the plain test server will not complete a
	// TLS handshake, so Open must fail at the ping with a reachability error, not
	// at parsing.
	url, _ := storetest.Redis(t)
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = redis.Open(ctx, "rediss://"+opts.Addr+"/0", "p:")
	if err == nil {
		t.Fatal("TLS Open of a plain-text server succeeded")
	}
	if !strings.Contains(err.Error(), "cannot reach") {
		t.Fatalf("rediss:// URL refused at parsing: %v", err)
	}
}

func TestRedisWrongKindIsAnError(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTestStore(t)
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

// TestRedisOpenPicksDeployment checks that the URL selects Sentinel or Cluster:
// the plain test server answers neither role, so each Open fails, and the error
// names the deployment it tried.
func TestRedisOpenPicksDeployment(t *testing.T) {
	url, _ := storetest.Redis(t)
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ url, want string }{
		{"redis://" + opts.Addr + "?master_name=idp&max_retries=0", `Sentinel master "idp" via ` + opts.Addr},
		{"redis://" + opts.Addr + "?addr=" + opts.Addr + "&max_retries=0", "Cluster " + opts.Addr},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		s, err := redis.Open(ctx, tc.url, "p:")
		cancel()
		if err == nil {
			s.Close()
			t.Fatalf("Open(%s) succeeded against a plain server", tc.url)
		}
		if !strings.Contains(err.Error(), "cannot reach "+tc.want) {
			t.Errorf("Open(%s) = %v, want an error naming %s", tc.url, err, tc.want)
		}
	}
}
