package vonage

import (
	"fmt"
	"testing"
	"time"
)

func TestReceiptLimiter(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	l := newReceiptLimiter(func() time.Time { return now })
	allowed := func(source string, n int) int {
		ok := 0
		for range n {
			if l.allow(source) {
				ok++
			}
		}
		return ok
	}
	if got := allowed("203.0.113.1", 50); got != int(receiptsPerSourceBurst) {
		t.Errorf("a burst from one address: %d admitted, want %v", got, receiptsPerSourceBurst)
	}
	if got := allowed("203.0.113.2", 1); got != 1 {
		t.Error("another address is not held back by the first one's flood")
	}
	now = now.Add(2 * time.Second)
	if got := allowed("203.0.113.1", 50); got != 2 {
		t.Errorf("after 2 s: %d admitted, want 2 (1 a second)", got)
	}
	// Many addresses at once meet the global bucket.
	now = now.Add(time.Hour)
	total := 0
	for i := range 500 {
		total += allowed(fmt.Sprintf("198.51.100.%d", i), 1)
	}
	if total != int(receiptsGlobalBurst) {
		t.Errorf("500 addresses at once: %d admitted, want the global burst %v", total, receiptsGlobalBurst)
	}
	// The buckets kept stay bounded.
	for i := range receiptSources + 100 {
		now = now.Add(time.Second)
		l.allow(fmt.Sprintf("source-%d", i))
	}
	if len(l.sources) > receiptSources {
		t.Errorf("%d buckets kept, want at most %d", len(l.sources), receiptSources)
	}
	if !l.warnNow() || l.warnNow() {
		t.Error("want one warning per period")
	}
}
