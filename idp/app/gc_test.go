package app

import (
	"testing"

	"github.com/councilforms/idp/idp/config"
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
	}{
		{"auto", config.MemoryLimitAuto, env(), GCPolicy{MemoryLimit: 254 << 20, GCPercent: 400}},
		{"a size", 1 << 30, env(), GCPolicy{MemoryLimit: 1 << 30, GCPercent: 400}},
		{"off", config.MemoryLimitOff, env(), GCPolicy{}},
		{"GOMEMLIMIT wins", config.MemoryLimitAuto, env("GOMEMLIMIT", "300MiB"), GCPolicy{GCPercent: 400}},
		{"GOGC wins", 1 << 30, env("GOGC", "100"), GCPolicy{MemoryLimit: 1 << 30}},
		{"both the operator's", config.MemoryLimitAuto, env("GOGC", "off", "GOMEMLIMIT", "1GiB"), GCPolicy{}},
	} {
		if got := gcPolicy(tt.limit, tt.env, queue); got != tt.want {
			t.Errorf("%s: gcPolicy = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
