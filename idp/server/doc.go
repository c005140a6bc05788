// Package server owns the HTTP base every page and endpoint of the idp sits on: the
// middleware chain (request id, request log, metrics, security headers, cross-origin
// protection, panic recovery), the health, readiness and metrics endpoints, and Run,
// which serves with timeouts and stops gracefully: a Drain first (/readyz says 503,
// requests are still served, responses close their connections), then no new
// connections and up to ShutdownTimeout for the requests in flight.
//
// It knows nothing of the OIDC protocol, journeys or the store backends: readiness
// checks see only a Ping method.
//
// Order of the chain, outermost first, and why:
//
//	request id     -> every later log line can carry it
//	request log    -> sees the final status, including a recovered panic's 500
//	metrics        -> likewise; reads the matched route pattern after the mux ran
//	security headers
//	cross-origin protection (CSRF) -> refuses cross-site unsafe requests before any handler
//	panic recovery -> innermost, so everything above sees the 500
//	mux
package server
