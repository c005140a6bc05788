package sendguard

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/idp/limits"
	"github.com/councilforms/idp/store"
)

// Without its counts the ceiling refuses: nothing is sent uncounted.
func TestCeilingFailsClosed(t *testing.T) {
	for name, counters := range map[string]store.Counters{
		"hit":   brokenCounters{hit: errors.New("database down")},
		"count": brokenCounters{count: errors.New("database down")},
	} {
		g, err := New(Config{Counters: counters, Ceiling: limits.DefaultCeiling(), Numbers: phone.Rules{}})
		if err != nil {
			t.Fatal(err)
		}
		for _, verified := range []bool{true, false} {
			if err := g.Admit(context.Background(), factors.ChannelSMS, "+447400123456", verified); err == nil {
				t.Errorf("%s fails, verified %v: the text was let through", name, verified)
			}
		}
	}
}

// brokenCounters is a database that cannot count.
type brokenCounters struct {
	store.Counters
	hit, count error
}

func (b brokenCounters) Hit(context.Context, string, time.Duration, time.Time) (int, error) {
	return 1, b.hit
}

func (b brokenCounters) Count(context.Context, string, time.Duration, time.Time) (int, error) {
	return 0, b.count
}
