package faults

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Load is steady traffic through the proxy: form apps reading discovery and keys and
// starting sign-ins (GET /authorize), and people signing up all the way to the form
// app's token request. Every request is counted; one that got no answer or a 5xx is
// a failure, kept with its time and cause.
type Load struct {
	c    *Cluster
	stop chan struct{}
	wg   sync.WaitGroup

	requests  atomic.Int64
	journeys  atomic.Int64 // sign-ups that reached the form app with tokens
	abandoned atomic.Int64 // sign-ups given up because their code was not in the dev inbox

	mu       sync.Mutex
	failures []string // failed requests
	broken   []string // journeys that ended on a page they should not have
}

// LoadReport is what a Load saw.
type LoadReport struct {
	Requests  int64
	Journeys  int64
	Abandoned int64
	Failures  []string
	Broken    []string
}

func (r LoadReport) String() string {
	s := fmt.Sprintf("%d requests, %d failed; %d sign-ups finished, %d broken, %d abandoned (code not in the dev inbox)",
		r.Requests, len(r.Failures), r.Journeys, len(r.Broken), r.Abandoned)
	for _, f := range r.Failures {
		s += "\n  failed: " + f
	}
	for _, b := range r.Broken {
		s += "\n  broken: " + b
	}
	return s
}

// StartLoad runs probes form apps' background requests in probes goroutines and
// sign-ups in people goroutines until Stop.
func (c *Cluster) StartLoad(probes, people int) *Load {
	l := &Load{c: c, stop: make(chan struct{})}
	for range probes {
		l.wg.Go(l.probe)
	}
	for range people {
		l.wg.Go(l.signUps)
	}
	return l
}

// Stop ends the load, waits for the requests in flight and reports.
func (l *Load) Stop() LoadReport {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return LoadReport{Requests: l.requests.Load(), Journeys: l.journeys.Load(), Abandoned: l.abandoned.Load(),
		Failures: append([]string(nil), l.failures...), Broken: append([]string(nil), l.broken...)}
}

// Requests counts the requests made so far.
func (l *Load) Requests() int64 { return l.requests.Load() }

func (l *Load) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

// observe is every request's outcome.
func (l *Load) observe(method, path string, status int, err error) {
	l.requests.Add(1)
	if err == nil && status < 500 {
		return
	}
	cause := fmt.Sprintf("status %d", status)
	if err != nil {
		cause = err.Error()
	}
	l.mu.Lock()
	l.failures = append(l.failures, fmt.Sprintf("%s %s %s: %s", time.Now().Format("15:04:05.000"), method, path, cause))
	l.mu.Unlock()
}

// probe is a form app's background traffic: discovery, keys, and a sign-in started
// (GET /authorize to the 'Sign In' page), over and over.
func (l *Load) probe() {
	for !l.stopped() {
		p := l.c.Person()
		p.OnResponse = l.observe
		p.Get("/.well-known/openid-configuration")
		p.Get("/keys")
		if err := p.StartSignIn(); err == nil {
			if err := p.Expect("Sign In"); err != nil {
				l.journeyBroken(err)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// signUps is one person after another signing up.
func (l *Load) signUps() {
	for !l.stopped() {
		p := l.c.Person()
		p.OnResponse = l.observe
		_, err := p.SignUp()
		switch {
		case err == nil:
			l.journeys.Add(1)
		case errors.Is(err, ErrCodeLost):
			l.abandoned.Add(1)
		case errors.Is(err, ErrUnexpectedPage):
			l.journeyBroken(err)
		case p.Failed.Load() == 0:
			// No request failed, yet the sign-up did (a token request refused, say).
			l.journeyBroken(err)
		}
		// Otherwise a request failed: observe has it, with its cause.
	}
}

func (l *Load) journeyBroken(err error) {
	l.mu.Lock()
	l.broken = append(l.broken, time.Now().Format("15:04:05.000")+" "+err.Error())
	l.mu.Unlock()
}
