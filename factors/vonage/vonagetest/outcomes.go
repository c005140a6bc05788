package vonagetest

import (
	"context"
	"sync"

	"github.com/councilforms/idp/factors"
)

// Outcomes is a factors.CallOutcomes for tests: it accepts one result for each
// call it expects, as the login pages' store does, and refuses any other with
// factors.ErrUnknownCall.
type Outcomes struct {
	mu      sync.Mutex
	pending map[string]bool
	results map[string]factors.CallResult
}

// NewOutcomes expects the calls with the given ids.
func NewOutcomes(expected ...string) *Outcomes {
	o := &Outcomes{pending: map[string]bool{}, results: map[string]factors.CallResult{}}
	o.Expect(expected...)
	return o
}

// Expect makes the calls with the given ids expected (again).
func (o *Outcomes) Expect(ids ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, id := range ids {
		o.pending[id] = true
	}
}

// RecordCallOutcome settles an expected call once.
func (o *Outcomes) RecordCallOutcome(_ context.Context, id string, r factors.CallResult) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.pending[id] {
		return factors.ErrUnknownCall
	}
	delete(o.pending, id)
	o.results[id] = r
	return nil
}

// Result is the outcome recorded for a call, "" when none was.
func (o *Outcomes) Result(id string) factors.CallResult {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.results[id]
}

// Results are every outcome recorded so far, by call id.
func (o *Outcomes) Results() map[string]factors.CallResult {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]factors.CallResult, len(o.results))
	for k, v := range o.results {
		out[k] = v
	}
	return out
}
