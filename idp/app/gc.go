package app

import (
	"math"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/password"
)

// The garbage collector's pace. Every password check or new password allocates
// its argon2id memory (19 MiB, pointer-free) and drops it when the hash ends, so
// under the runtime's defaults (GOGC=100, no memory limit) the heap reaches its
// goal, twice the live heap, every one or two hashes, and each collection marks
// the whole live heap again. With a memory limit that leaves room for a queueful
// of hashes and a GC percent of gcPercent, a collection comes about once per
// queueful; the limit keeps the peak where the operator can plan for it.

// gcPercent is the GC percent the server sets with its memory limit: the heap
// may grow to five times what is live before a collection, unless the limit
// comes first. At idle (live heap about 16 MiB) it bounds what the heap keeps.
const gcPercent = 400

// memoryBase is the auto memory limit's room for everything but password
// hashes: page templates, pools, requests in flight (16-20 MiB live at idle).
const memoryBase = 64 << 20

// hashSlots is the password hasher's bound on hashes at once (0: one per core).
const hashSlots = 0

// GCPolicy is what SetGCPolicy set: a memory limit in bytes and a GC percent,
// zero for one left as the runtime had it.
type GCPolicy struct {
	MemoryLimit int64
	GCPercent   int
}

// SetGCPolicy gives the Go runtime cfg's memory limit (IDP_MEMORY_LIMIT; auto at
// most nine tenths of the container's memory limit, from its cgroup) and the GC
// percent that goes with it, unless the operator set GOMEMLIMIT or GOGC
// (getenv), which win. Call it once, after Open: start-up (templates parsed,
// migrations) collects at the runtime's default pace.
func SetGCPolicy(cfg *config.Config, getenv func(string) string) GCPolicy {
	var container int64
	if n, err := memlimit.FromCgroup(); err == nil && n > 0 && n <= math.MaxInt64 {
		container = int64(n)
	}
	p := gcPolicy(cfg.MemoryLimit, getenv, password.QueueMemory(password.DefaultParams, hashSlots), container)
	if p.MemoryLimit > 0 {
		debug.SetMemoryLimit(p.MemoryLimit)
	}
	if p.GCPercent > 0 {
		debug.SetGCPercent(p.GCPercent)
	}
	return p
}

// gcPolicy is the policy for the configured limit, the password hash queue's
// memory and the container's memory limit (0: none).
func gcPolicy(limit int64, getenv func(string) string, queueMemory, container int64) GCPolicy {
	if limit == config.MemoryLimitOff {
		return GCPolicy{}
	}
	if limit == config.MemoryLimitAuto {
		limit = memoryBase + queueMemory
		// The cores a container sees are the machine's (one hash slot each),
		// its memory may be far less: auto stays under a tenth below it.
		if container > 0 {
			limit = min(limit, container/10*9)
		}
	}
	var p GCPolicy
	if getenv("GOMEMLIMIT") == "" {
		p.MemoryLimit = limit
	}
	if getenv("GOGC") == "" {
		p.GCPercent = gcPercent
	}
	return p
}
