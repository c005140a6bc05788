package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Pinger is anything whose reachability /readyz reports: the durable and the
// ephemeral store.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Check is one dependency /readyz pings.
type Check struct {
	Name   string // as shown in the /readyz body, e.g. "database"
	Pinger Pinger
}

// Healthz answers 200 "ok" while the process is up; it checks nothing else, so an
// orchestrator restarts the process only when the process itself is stuck.
func Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintln(w, "ok")
	})
}

// Readyz pings every check in parallel, each bounded by timeout, and answers 200
// "ready" when all succeed, or 503 with one line per check ("redis: ok",
// "database: unreachable: <reason>") when any fails, so that a load balancer stops
// sending traffic while a dependency is down. Once drain has begun (the process is
// stopping) it answers 503 "shutting down" at once, without pinging; drain may be nil.
func Readyz(checks []Check, timeout time.Duration, drain *Drain) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if drain.Draining() {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "shutting down")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		errs := make([]error, len(checks))
		var wg sync.WaitGroup
		for i, c := range checks {
			wg.Go(func() { errs[i] = c.Pinger.Ping(ctx) })
		}
		wg.Wait()

		var body strings.Builder
		failed := false
		for i, c := range checks {
			if errs[i] != nil {
				failed = true
				fmt.Fprintf(&body, "%s: unreachable: %s\n", c.Name, shortReason(errs[i]))
			} else {
				fmt.Fprintf(&body, "%s: ok\n", c.Name)
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if failed {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, body.String())
			return
		}
		fmt.Fprintln(w, "ready")
	})
}

// shortReason keeps an error to one bounded line.
func shortReason(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
