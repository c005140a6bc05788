package redis

import (
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// The client gets bounded waits unless the URL sets them, always honours context
// deadlines, and retries (safe commands only) once by default.
func TestClientOptionsBoundWaits(t *testing.T) {
	for _, tt := range []struct {
		url                     string
		dial, read, write, pool time.Duration
		retries                 int // as go-redis keeps it: 0 is none
	}{
		{"redis://127.0.0.1:6379/0", DialTimeout, ReadTimeout, WriteTimeout, PoolTimeout, ReadRetries},
		{"redis://127.0.0.1:6379/0?dial_timeout=3s&read_timeout=2s&write_timeout=4s&pool_timeout=5s&max_retries=-1",
			3 * time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 0},
		{"redis://127.0.0.1:6379?master_name=m&addr=127.0.0.1:26380", DialTimeout, ReadTimeout, WriteTimeout, PoolTimeout, ReadRetries},
		{"redis://127.0.0.1:7000?addr=127.0.0.1:7001", DialTimeout, ReadTimeout, WriteTimeout, PoolTimeout, ReadRetries},
	} {
		c, _, err := newClient(tt.url)
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		var dial, read, write, pool time.Duration
		var retries int
		var ctxTimeouts bool
		switch c := c.(type) {
		case *goredis.Client: // also what NewFailoverClient returns
			o := c.Options()
			dial, read, write, pool, retries, ctxTimeouts = o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.MaxRetries, o.ContextTimeoutEnabled
		case *goredis.ClusterClient:
			o := c.Options()
			dial, read, write, pool, retries, ctxTimeouts = o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.MaxRetries, o.ContextTimeoutEnabled
		default:
			t.Fatalf("%s: client %T", tt.url, c)
		}
		c.Close()
		if dial != tt.dial || read != tt.read || write != tt.write || pool != tt.pool || retries != tt.retries || !ctxTimeouts {
			t.Errorf("%s: dial %s read %s write %s pool %s retries %d context deadlines %v; want %s %s %s %s %d true",
				tt.url, dial, read, write, pool, retries, ctxTimeouts, tt.dial, tt.read, tt.write, tt.pool, tt.retries)
		}
	}
}
