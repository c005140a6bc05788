package sim

import (
	"sync"
	"time"
)

// Clock is the wall clock moved on by a test, to expire codes, locks and
// sessions without waiting: pass its Now where a component takes a clock.
// The zero Clock reads the wall clock.
type Clock struct {
	mu  sync.Mutex
	off time.Duration
}

// Now is the wall clock plus every Advance so far.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}
