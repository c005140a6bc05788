package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Timeouts applied by Run to an http.Server that leaves them zero. The read header
// timeout is what stops slow-loris clients from holding connections open.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 2 * time.Minute
	MaxHeaderBytes    = 64 << 10
	// ShutdownTimeout bounds how long in-flight requests may run after a stop signal.
	ShutdownTimeout = 20 * time.Second
)

// Drain is the first part of a graceful stop, between the stop signal and the moment
// the server stops accepting connections. While it lasts, /readyz answers 503 (so load
// balancers take the process out of rotation: a Kubernetes Service removes a
// terminating pod's endpoint at the same time as it sends SIGTERM, and the removal
// takes a few seconds to reach every proxy), every request is still served, and each
// response carries Connection: close, so that kept-alive connections move to other
// processes one request at a time. Idle connections are not closed when the drain
// begins: a client may be sending a request on one at that very moment (the request
// would be lost, and a proxy may not resend a POST); they are closed when it ends,
// by which time no load balancer sends here.
type Drain struct {
	// Period is how long the server keeps serving after the stop signal; zero stops
	// accepting at once (and /readyz still says 503 while in-flight requests finish).
	Period time.Duration
	begun  atomic.Bool
}

// NewDrain returns a drain of the given period, not begun.
func NewDrain(period time.Duration) *Drain { return &Drain{Period: period} }

// Begin starts the drain: from now on Draining is true. Serve calls it on the stop
// signal.
func (d *Drain) Begin() { d.begun.Store(true) }

// Draining reports whether a stop has begun. A nil Drain never drains.
func (d *Drain) Draining() bool { return d != nil && d.begun.Load() }

// closeConnections asks the client to close its connection after each response
// while the server drains (HTTP/1; HTTP/2 has no Connection header).
func (d *Drain) closeConnections(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.Draining() && r.ProtoMajor == 1 {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// RunOption adjusts Run and Serve.
type RunOption func(*runOptions)

type runOptions struct{ drain *Drain }

// WithDrain makes the stop begin with d (see Drain); the same d is given to Readyz.
func WithDrain(d *Drain) RunOption { return func(o *runOptions) { o.drain = d } }

// Run listens on srv.Addr and serves until ctx is cancelled (SIGTERM or SIGINT in the
// binary). Then, with WithDrain, it drains for the drain's period; it stops accepting
// connections, closes idle ones and waits up to ShutdownTimeout for in-flight
// requests. It returns nil after a clean shutdown.
func Run(ctx context.Context, srv *http.Server, log *slog.Logger, opts ...RunOption) error {
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", srv.Addr, err)
	}
	return Serve(ctx, srv, ln, log, opts...)
}

// Serve is Run on a listener the caller opened.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, log *slog.Logger, opts ...RunOption) error {
	var o runOptions
	for _, opt := range opts {
		opt(&o)
	}
	setTimeouts(srv)
	if srv.ErrorLog == nil {
		srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	if o.drain != nil {
		h := srv.Handler
		if h == nil {
			h = http.DefaultServeMux
		}
		srv.Handler = o.drain.closeConnections(h)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	if o.drain != nil {
		o.drain.Begin()
		if o.drain.Period > 0 {
			log.Info("draining: /readyz says 503, requests are still served", "period", o.drain.Period.String())
			t := time.NewTimer(o.drain.Period)
			select {
			case err := <-errc:
				t.Stop()
				return fmt.Errorf("serve: %w", err)
			case <-t.C:
			}
		}
	}
	log.Info("shutting down", "grace", ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func setTimeouts(srv *http.Server) {
	if srv.ReadHeaderTimeout == 0 {
		srv.ReadHeaderTimeout = ReadHeaderTimeout
	}
	if srv.ReadTimeout == 0 {
		srv.ReadTimeout = ReadTimeout
	}
	if srv.WriteTimeout == 0 {
		srv.WriteTimeout = WriteTimeout
	}
	if srv.IdleTimeout == 0 {
		srv.IdleTimeout = IdleTimeout
	}
	if srv.MaxHeaderBytes == 0 {
		srv.MaxHeaderBytes = MaxHeaderBytes
	}
}
