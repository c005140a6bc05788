package vonage

import (
	"sync"
	"time"
)

// Limits on unsigned SMS delivery receipts. A text gets a few receipts (accepted,
// buffered, delivered) from a handful of Vonage addresses; even a busy day's
// daily ceiling of texts averages well under one receipt a second, so these leave
// room for bursts while a forger gets a few rows into the audit log, not a flood.
const (
	receiptsPerSourceRate  = 1.0  // per second, from one address
	receiptsPerSourceBurst = 10.0 // at once, from one address
	receiptsGlobalRate     = 10.0 // per second, from everyone
	receiptsGlobalBurst    = 100.0
	// receiptSources bounds the per-address buckets kept; past it, the buckets
	// that are full again (idle addresses) are forgotten.
	receiptSources    = 4096
	receiptWarnPeriod = time.Minute
)

// bucket is a token bucket: tokens refill at rate per second up to burst.
type bucket struct {
	tokens float64
	last   time.Time
}

func (b *bucket) refill(now time.Time, rate, burst float64) {
	if b.last.IsZero() {
		b.tokens = burst
	} else if d := now.Sub(b.last).Seconds(); d > 0 {
		b.tokens = min(burst, b.tokens+d*rate)
	}
	b.last = now
}

// receiptLimiter admits a receipt when both its source's bucket and the global one
// hold a token. It is per process: with N processes the overall rate is N times
// as high, and the daily cap of the wiring still applies.
type receiptLimiter struct {
	mu       sync.Mutex
	now      func() time.Time
	global   bucket
	sources  map[string]*bucket
	lastWarn time.Time
}

func newReceiptLimiter(now func() time.Time) *receiptLimiter {
	return &receiptLimiter{now: now, sources: map[string]*bucket{}}
}

func (l *receiptLimiter) allow(source string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.sources[source]
	if !ok {
		if len(l.sources) >= receiptSources {
			l.forgetIdle(now)
		}
		b = &bucket{}
		l.sources[source] = b
	}
	b.refill(now, receiptsPerSourceRate, receiptsPerSourceBurst)
	l.global.refill(now, receiptsGlobalRate, receiptsGlobalBurst)
	if b.tokens < 1 || l.global.tokens < 1 {
		return false
	}
	b.tokens--
	l.global.tokens--
	return true
}

// forgetIdle drops the buckets that have refilled completely: forgetting them
// changes nothing. If every address is busy, all are forgotten (the global
// bucket still holds).
func (l *receiptLimiter) forgetIdle(now time.Time) {
	for k, b := range l.sources {
		b.refill(now, receiptsPerSourceRate, receiptsPerSourceBurst)
		if b.tokens >= receiptsPerSourceBurst {
			delete(l.sources, k)
		}
	}
	if len(l.sources) >= receiptSources {
		clear(l.sources)
	}
}

// warnNow reports whether a refusal should be logged: once per receiptWarnPeriod,
// so that a flood fills neither the audit log nor the log.
func (l *receiptLimiter) warnNow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.lastWarn) < receiptWarnPeriod {
		return false
	}
	l.lastWarn = now
	return true
}
