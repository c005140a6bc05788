package app

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"

	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/password"
)

// The server's memory limit and GC percent: auto leaves room for the password
// hash queue above a base; an operator's GOMEMLIMIT or GOGC wins over the
// server's choice of that one; off leaves both to the runtime.
func TestGCPolicy(t *testing.T) {
	const queue = 10 * 19456 << 10 // 2 cores: 10 hashes of 19 MiB may queue
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, tt := range []struct {
		name  string
		limit int64
		env   func(string) string
		want  GCPolicy
		// container is the container's memory limit (0: none).
		container int64
	}{
		{"auto", config.MemoryLimitAuto, env(), GCPolicy{MemoryLimit: 254 << 20, GCPercent: 400}, 0},
		{"a size", 1 << 30, env(), GCPolicy{MemoryLimit: 1 << 30, GCPercent: 400}, 0},
		{"off", config.MemoryLimitOff, env(), GCPolicy{}, 0},
		{"GOMEMLIMIT wins", config.MemoryLimitAuto, env("GOMEMLIMIT", "300MiB"), GCPolicy{GCPercent: 400}, 0},
		{"GOGC wins", 1 << 30, env("GOGC", "100"), GCPolicy{MemoryLimit: 1 << 30}, 0},
		{"both the operator's", config.MemoryLimitAuto, env("GOGC", "off", "GOMEMLIMIT", "1GiB"), GCPolicy{}, 0},
		{"auto in a small container", config.MemoryLimitAuto, env(), GCPolicy{MemoryLimit: 200 << 20 / 10 * 9, GCPercent: 400}, 200 << 20},
		{"auto in a large container", config.MemoryLimitAuto, env(), GCPolicy{MemoryLimit: 254 << 20, GCPercent: 400}, 4 << 30},
		{"a size in a container", 1 << 30, env(), GCPolicy{MemoryLimit: 1 << 30, GCPercent: 400}, 512 << 20},
	} {
		if got := gcPolicy(tt.limit, tt.env, queue, tt.container); got != tt.want {
			t.Errorf("%s: gcPolicy = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// BenchmarkHashes runs password hashes as the server does (as many at once as
// it has slots, on a live heap of pointers the size of the server's at idle,
// about 16 MiB) under the runtime's defaults and under the server's policy
// (SetGCPolicy with IDP_MEMORY_LIMIT=auto), and reports the collections and
// the collector's CPU per hash.
func BenchmarkHashes(b *testing.B) {
	live := make([]*[112]byte, 16<<20/128)
	for i := range live {
		live[i] = new([112]byte)
	}
	for _, tt := range []struct {
		name   string
		policy bool
	}{{"gc=defaults", false}, {"gc=policy", true}} {
		b.Run(tt.name, func(b *testing.B) {
			if tt.policy {
				p := gcPolicy(config.MemoryLimitAuto, func(string) string { return "" },
					password.QueueMemory(password.DefaultParams, hashSlots), 0)
				defer debug.SetMemoryLimit(debug.SetMemoryLimit(p.MemoryLimit))
				defer debug.SetGCPercent(debug.SetGCPercent(p.GCPercent))
			}
			h := password.NewHasher(password.DefaultParams, hashSlots)
			ctx := context.Background()
			m := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}}
			runtime.GC()
			metrics.Read(m)
			cycles, gcCPU := m[0].Value.Uint64(), m[1].Value.Float64()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			metrics.Read(m)
			b.ReportMetric(float64(m[0].Value.Uint64()-cycles)/float64(b.N), "gc-cycles/op")
			b.ReportMetric((m[1].Value.Float64()-gcCPU)*1e3/float64(b.N), "gc-cpu-ms/op")
		})
	}
	runtime.KeepAlive(live)
}
