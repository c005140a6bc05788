package server

import (
	"net/http"
	netpprof "net/http/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the idp's Prometheus registry. It is private (not the global default
// registry) so that tests can build several servers in one process and other packages
// register their own collectors explicitly through Registry.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics creates a registry with the HTTP request metrics, idp_build_info and the
// Go runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idp_http_requests_total",
			Help: "HTTP requests by route (the path pattern that matched, e.g. /oauth/token or /login/{action}; other for any unknown path), method and status code.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "idp_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
	}
	build := Build()
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "idp_build_info",
		Help:        "Always 1; its labels are the version, commit and Go toolchain of the running binary (as `idp version` prints them).",
		ConstLabels: prometheus.Labels{"version": build.Version, "revision": build.Revision, "goversion": build.GoVersion},
	})
	info.Set(1)
	m.registry.MustRegister(m.requests, m.duration, info,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where other packages register their collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// ListenerHandler is what the metrics listener (IDP_METRICS_ADDR) serves:
// GET /metrics, and with pprof (IDP_PPROF) Go's profiler under /debug/pprof/
// (the index, the runtime's profiles, a CPU profile, an execution trace,
// symbols). The command line is not served: it may carry a database URL with
// its password. Nothing here is ever on the public listener, whose mux is
// another.
func (m *Metrics) ListenerHandler(pprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	if pprof {
		mux.HandleFunc("GET /debug/pprof/", netpprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", netpprof.Profile)
		mux.HandleFunc("GET /debug/pprof/trace", netpprof.Trace)
		mux.HandleFunc("GET /debug/pprof/symbol", netpprof.Symbol)
		mux.HandleFunc("POST /debug/pprof/symbol", netpprof.Symbol)
		mux.Handle("GET /debug/pprof/cmdline", http.NotFoundHandler())
	}
	return mux
}

// instrument records every request. The route label is the path of the ServeMux
// pattern that matched ("/healthz" for "GET /healthz", "/login/{action}"), never the
// raw path, so that label values stay few; the method has a label of its own. The
// pattern is read from r after the mux ran: handlers between here and the mux must
// pass r on unchanged (not a WithContext copy). A request answered before the mux
// (a refused cross-origin post) is labelled with the pattern mux would have chosen.
func (m *Metrics) instrument(next http.Handler, mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := newRecorder(w)
		next.ServeHTTP(rec, r)
		pattern := r.Pattern
		if pattern == "" && mux != nil {
			_, pattern = mux.Handler(r)
		}
		route := RouteLabel(pattern)
		method := methodLabel(r.Method)
		m.requests.WithLabelValues(route, method, strconv.Itoa(rec.status)).Inc()
		m.duration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
	})
}

// OtherRoute is the route label of a request no specific pattern matched: an unknown
// path, answered 404 by the catch-all "/" pattern or by no pattern at all.
const OtherRoute = "other"

// RouteLabel is the route label of a ServeMux pattern: its path without the method.
// The catch-all "/" says nothing about the endpoint, so it is OtherRoute, as is "".
func RouteLabel(pattern string) string {
	path := pattern
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		path = strings.TrimLeft(pattern[i+1:], " ")
	}
	if path == "" || path == "/" {
		return OtherRoute
	}
	return path
}

// methodLabel bounds the method label to the standard methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}
