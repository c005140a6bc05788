package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/councilforms/idp/idp/password"
)

// hashMeasure is one measurement of raw argon2id hashing.
type hashMeasure struct {
	rate    float64       // hashes per second of wall time
	cpu     time.Duration // CPU time per hash
	workers int
}

// hashRate measures raw argon2id hashes per second with the server's
// parameters (password.DefaultParams through password.NewHasher, bounded to
// as many at once as there are cores, as the server bounds them), from as
// many goroutines as there are cores, for d. It is the physical limit of
// password sign-ins on this machine: each sign-in verifies one hash. The CPU
// time per hash does not depend on what else runs on the machine.
func hashRate(ctx context.Context, d time.Duration) (hashMeasure, error) {
	cores := runtime.GOMAXPROCS(0)
	h := password.NewHasher(password.DefaultParams, cores)
	var n atomic.Int64
	var firstErr error
	var once sync.Once
	before := sampleCPU(0)
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range cores {
		wg.Add(1)
		go pprof.Do(ctx, pprof.Labels("side", "driver"), func(ctx context.Context) {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	m := hashMeasure{rate: float64(n.Load()) / time.Since(start).Seconds(), workers: cores}
	if n.Load() > 0 {
		m.cpu = before.to(sampleCPU(0)).driver / time.Duration(n.Load())
	}
	return m, firstErr
}

// redisFamily is the memory that the keys of one kind (the part of the key
// after the prefix, up to its first ':') hold in Redis.
type redisFamily struct {
	keys  int
	bytes int64
}

// redisMemory sums MEMORY USAGE (exact: SAMPLES 0) of every key under prefix,
// by family.
func redisMemory(ctx context.Context, c *goredis.Client, prefix string) (map[string]redisFamily, int64, error) {
	fams := map[string]redisFamily{}
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		n, err := c.MemoryUsage(ctx, key, 0).Result()
		if err == goredis.Nil {
			continue // expired meanwhile
		}
		if err != nil {
			return nil, 0, fmt.Errorf("MEMORY USAGE: %w", err)
		}
		fam, _, _ := strings.Cut(strings.TrimPrefix(key, prefix), ":")
		f := fams[fam]
		f.keys++
		f.bytes += n
		fams[fam] = f
	}
	if err := iter.Err(); err != nil {
		return nil, 0, fmt.Errorf("SCAN: %w", err)
	}
	used, err := usedMemory(ctx, c)
	return fams, used, err
}

func usedMemory(ctx context.Context, c *goredis.Client) (int64, error) {
	info, err := c.Info(ctx, "memory").Result()
	if err != nil {
		return 0, fmt.Errorf("INFO memory: %w", err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			var n int64
			fmt.Sscan(v, &n)
			return n, nil
		}
	}
	return 0, nil
}

// memoryReport is what n in-flight journeys added to Redis.
type memoryReport struct {
	inFlight  int
	families  map[string]redisFamily // added keys and bytes, by family
	usedDelta int64                  // INFO used_memory difference (allocator overhead included)
	failed    int
}

// inFlightMemory starts n sign-ins and leaves each on the SMS code page
// (password checked, code sent, not yet typed), then measures what Redis
// holds for them: the difference of MEMORY USAGE by key family before and
// after.
func (d *driver) inFlightMemory(ctx context.Context, n int) (memoryReport, error) {
	r := memoryReport{inFlight: n, families: map[string]redisFamily{}}
	opts, err := goredis.ParseURL(d.t.redisURL)
	if err != nil {
		return r, fmt.Errorf("-redis: %w", err)
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	before, usedBefore, err := redisMemory(ctx, c, d.t.redisPrefix)
	if err != nil {
		return r, err
	}
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	for range min(d.workers, len(d.people)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if int(next.Add(1)) > n || ctx.Err() != nil {
					return
				}
				p := <-d.free
				err := d.startJourney(ctx, p)
				d.free <- p
				if err != nil {
					failed.Add(1)
					once.Do(func() { firstErr = err })
				}
			}
		}()
	}
	wg.Wait()
	r.failed = int(failed.Load())
	after, usedAfter, err := redisMemory(ctx, c, d.t.redisPrefix)
	if err != nil {
		return r, err
	}
	for fam, a := range after {
		b := before[fam]
		if a.keys != b.keys || a.bytes != b.bytes {
			r.families[fam] = redisFamily{keys: a.keys - b.keys, bytes: a.bytes - b.bytes}
		}
	}
	r.usedDelta = usedAfter - usedBefore
	if firstErr != nil {
		return r, fmt.Errorf("%d of %d in-flight journeys failed; first: %w", r.failed, n, firstErr)
	}
	return r, nil
}

// startJourney signs p in up to the SMS code page and leaves it there.
func (d *driver) startJourney(ctx context.Context, p *person) error {
	b, err := d.newBrowser(p)
	if err != nil {
		return err
	}
	if err := b.Open(ctx, d.rp.start().URL); err != nil {
		return err
	}
	return d.walk(ctx, b, p, goalAtSMS)
}

func (r memoryReport) print(w io.Writer) {
	fmt.Fprintf(w, "Redis memory of %d in-flight journeys (each left on the SMS code page):\n", r.inFlight)
	fams := make([]string, 0, len(r.families))
	var total int64
	for f := range r.families {
		fams = append(fams, f)
		total += r.families[f].bytes
	}
	sort.Strings(fams)
	for _, f := range fams {
		x := r.families[f]
		fmt.Fprintf(w, "  %-16s %+6d keys  %+9d bytes  %7.0f bytes per journey\n", f+":*", x.keys, x.bytes, float64(x.bytes)/float64(r.inFlight))
	}
	fmt.Fprintf(w, "  all keys: %.0f bytes per journey (MEMORY USAGE); used_memory grew %.0f bytes per journey\n",
		float64(total)/float64(r.inFlight), float64(r.usedDelta)/float64(r.inFlight))
}
