package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Redis returns the URL of the test Redis (IDP_TEST_REDIS_URL) and a key prefix
// ("idptest:<random hex>:") that no other test uses. Every key under the prefix is
// deleted when the test ends, so tests can share one Redis database and run in
// parallel. Without IDP_TEST_REDIS_URL the test is skipped, or fails when
// IDP_TEST_REQUIRE_SERVICES=1 (as in CI, which must never skip silently).
func Redis(t testing.TB) (url, prefix string) {
	t.Helper()
	url = os.Getenv("IDP_TEST_REDIS_URL")
	if url == "" {
		if os.Getenv("IDP_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("IDP_TEST_REDIS_URL is not set but IDP_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("IDP_TEST_REDIS_URL is not set")
	}
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatalf("IDP_TEST_REDIS_URL is not a Redis URL: %v", err)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random prefix: %v", err)
	}
	prefix = "idptest:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := deleteRedisPrefix(ctx, opts, prefix); err != nil {
			t.Errorf("delete test keys %s*: %v", prefix, err)
		}
	})
	return url, prefix
}

// FlushRedis deletes every key under prefix (from Redis), as FLUSHDB would
// for a deployment alone in its database, without touching the keys of the
// tests running beside it: a test shows what survives the loss of Redis.
func FlushRedis(t testing.TB, url, prefix string) {
	t.Helper()
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatalf("flush Redis: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := deleteRedisPrefix(ctx, opts, prefix); err != nil {
		t.Fatalf("flush Redis keys %s*: %v", prefix, err)
	}
}

// deleteRedisPrefix deletes every key that starts with prefix. The prefix holds
// only characters that are not glob-special, so it can go into MATCH as is.
func deleteRedisPrefix(ctx context.Context, opts *goredis.Options, prefix string) error {
	c := goredis.NewClient(opts)
	defer c.Close()
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, prefix+"*", 500).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := c.Del(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
