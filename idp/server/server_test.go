package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakePinger fails while err is set.
type fakePinger struct {
	mu  sync.Mutex
	err error
}

func (p *fakePinger) set(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

func (p *fakePinger) Ping(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// slowPinger blocks until its context ends.
type slowPinger struct{}

func (slowPinger) Ping(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

type testServer struct {
	*httptest.Server
	logs    *bytes.Buffer
	metrics *Metrics
	db      *fakePinger
	redis   *fakePinger
}

func newTestServer(t *testing.T, hsts bool) *testServer {
	t.Helper()
	ts := &testServer{logs: &bytes.Buffer{}, metrics: NewMetrics(), db: &fakePinger{}, redis: &fakePinger{}}
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: ts.logs}, nil))
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", Healthz())
	mux.Handle("GET /readyz", Readyz([]Check{{"database", ts.db}, {"redis", ts.redis}}, time.Second, nil))
	mux.Handle("GET /metrics", ts.metrics.Handler())
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "accepted") })
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "token") })
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.PathValue("id")) })
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	h := Wrap(mux, Options{Log: log, Metrics: ts.metrics, HSTS: hsts, CSRFBypass: []string{"POST /token"}})
	ts.Server = httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (ts *testServer) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func (ts *testServer) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL+path, nil)
	return ts.do(t, req)
}

func TestHealthz(t *testing.T) {
	ts := newTestServer(t, false)
	ts.db.set(errors.New("down")) // health is about the process only
	resp, body := ts.get(t, "/healthz")
	if resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("GET /healthz = %d %q, want 200 ok", resp.StatusCode, body)
	}
}

func TestReadyz(t *testing.T) {
	ts := newTestServer(t, false)
	resp, body := ts.get(t, "/readyz")
	if resp.StatusCode != 200 || body != "ready\n" {
		t.Fatalf("GET /readyz = %d %q, want 200 ready", resp.StatusCode, body)
	}

	ts.db.set(errors.New("dial tcp 127.0.0.1:5432: connect: connection refused"))
	resp, body = ts.get(t, "/readyz")
	want := "database: unreachable: dial tcp 127.0.0.1:5432: connect: connection refused\nredis: ok\n"
	if resp.StatusCode != 503 || body != want {
		t.Errorf("GET /readyz with the database down = %d %q, want 503 %q", resp.StatusCode, body, want)
	}

	ts.db.set(nil)
	ts.redis.set(errors.New("EOF"))
	resp, body = ts.get(t, "/readyz")
	if want := "database: ok\nredis: unreachable: EOF\n"; resp.StatusCode != 503 || body != want {
		t.Errorf("GET /readyz with redis down = %d %q, want 503 %q", resp.StatusCode, body, want)
	}

	ts.redis.set(nil)
	if resp, body = ts.get(t, "/readyz"); resp.StatusCode != 200 || body != "ready\n" {
		t.Errorf("GET /readyz after recovery = %d %q, want 200 ready", resp.StatusCode, body)
	}
}

func TestReadyzTimesOut(t *testing.T) {
	h := Readyz([]Check{{"database", slowPinger{}}}, 50*time.Millisecond, nil)
	rec := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 || !strings.HasPrefix(rec.Body.String(), "database: unreachable: context deadline exceeded") {
		t.Errorf("got %d %q", rec.Code, rec.Body.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("readyz took %s despite a 50ms timeout", d)
	}
}

func TestSecurityHeaders(t *testing.T) {
	for _, hsts := range []bool{false, true} {
		ts := newTestServer(t, hsts)
		resp, _ := ts.get(t, "/healthz")
		want := map[string]string{
			"Content-Security-Policy": ContentSecurityPolicy,
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"X-Frame-Options":         "DENY",
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("hsts=%v: %s = %q, want %q", hsts, k, got, v)
			}
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, directive := range []string{"frame-ancestors 'none'", "script-src 'self';", "form-action 'self'"} {
			if !strings.Contains(csp, directive) {
				t.Errorf("CSP %q lacks %q", csp, directive)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP allows inline code: %q", csp)
		}
		got := resp.Header.Get("Strict-Transport-Security")
		if hsts && got != "max-age=63072000" || !hsts && got != "" {
			t.Errorf("hsts=%v: Strict-Transport-Security = %q", hsts, got)
		}
	}
}

func TestRequestIDAndLog(t *testing.T) {
	ts := newTestServer(t, false)
	req, _ := http.NewRequest("GET", ts.URL+"/users/42?code=SECRETCODE&state=xyz", nil)
	req.Header.Set("X-Request-Id", "spoofed")
	resp1, body := ts.do(t, req)
	resp2, _ := ts.get(t, "/healthz")
	id1, id2 := resp1.Header.Get("X-Request-Id"), resp2.Header.Get("X-Request-Id")
	if body != "42" {
		t.Errorf("body = %q", body)
	}
	if !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(id1) || id1 == id2 {
		t.Errorf("request ids %q and %q: want two different random ids", id1, id2)
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, "request_id="+id1) || !strings.Contains(logs, "path=/users/42 status=200") {
		t.Errorf("request log lacks the id or path/status:\n%s", logs)
	}
	if strings.Contains(logs, "SECRETCODE") || strings.Contains(logs, "spoofed") {
		t.Errorf("request log holds the query string or a client-chosen id:\n%s", logs)
	}
}

func TestPanicRecovery(t *testing.T) {
	ts := newTestServer(t, false)
	resp, body := ts.get(t, "/panic")
	if resp.StatusCode != 500 || !strings.Contains(body, "Sorry, there is a problem with the service") {
		t.Errorf("GET /panic = %d %q", resp.StatusCode, body)
	}
	if strings.Contains(body, "boom") {
		t.Errorf("panic value shown to the user: %q", body)
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Error("security headers missing on the error page")
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, "panic serving request") || !strings.Contains(logs, "panic=boom") || !strings.Contains(logs, "status=500") {
		t.Errorf("panic not logged with its 500:\n%s", logs)
	}
	// The server still serves.
	if resp, _ := ts.get(t, "/healthz"); resp.StatusCode != 200 {
		t.Errorf("after a panic GET /healthz = %d", resp.StatusCode)
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	ts := newTestServer(t, false)
	post := func(path string, hdr map[string]string) (int, string) {
		req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader("a=b"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, body := ts.do(t, req)
		return resp.StatusCode, body
	}
	if code, body := post("/form", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}); code != 403 {
		t.Errorf("cross-site POST = %d %q, want 403", code, body)
	}
	host := strings.TrimPrefix(ts.URL, "http://")
	if code, _ := post("/form", map[string]string{"Origin": "http://evil.example"}); code != 403 {
		t.Errorf("POST with a foreign Origin and no Sec-Fetch-Site = %d, want 403", code)
	}
	if code, body := post("/form", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://" + host}); code != 200 || body != "accepted" {
		t.Errorf("same-origin POST = %d %q, want 200", code, body)
	}
	if code, _ := post("/form", nil); code != 200 {
		t.Errorf("non-browser POST = %d, want 200", code)
	}
	if code, body := post("/token", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://spa.example"}); code != 200 || body != "token" {
		t.Errorf("cross-site POST to a bypassed pattern = %d %q, want 200", code, body)
	}
}

func TestMetrics(t *testing.T) {
	ts := newTestServer(t, false)
	ts.get(t, "/healthz")
	ts.get(t, "/users/1")
	ts.get(t, "/users/2")
	ts.get(t, "/no-such-page")
	ts.get(t, "/panic")
	// Refused by cross-origin protection before the mux runs: still its route.
	req, _ := http.NewRequest("POST", ts.URL+"/form", strings.NewReader("a=b"))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, _ := ts.do(t, req); resp.StatusCode != 403 {
		t.Fatalf("cross-site POST /form = %d, want 403", resp.StatusCode)
	}
	resp, body := ts.get(t, "/metrics")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	build := Build()
	for _, want := range []string{
		`idp_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`idp_http_requests_total{method="GET",route="/users/{id}",status="200"} 2`,
		`idp_http_requests_total{method="GET",route="other",status="404"} 1`,
		`idp_http_requests_total{method="GET",route="/panic",status="500"} 1`,
		`idp_http_requests_total{method="POST",route="/form",status="403"} 1`,
		`idp_http_request_duration_seconds_count{method="GET",route="/users/{id}"} 2`,
		`idp_build_info{goversion="` + runtime.Version() + `",revision="` + build.Revision + `",version="` + build.Version + `"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, "/users/1") || strings.Contains(body, "no-such-page") {
		t.Error("metrics label raw paths")
	}
}

// closeSignalling is a listener that says when it has been closed.
type closeSignalling struct {
	net.Listener
	once   sync.Once
	closed chan struct{}
}

func (l *closeSignalling) Close() error {
	err := l.Listener.Close()
	l.once.Do(func() { close(l.closed) })
	return err
}

func TestRouteLabel(t *testing.T) {
	for pattern, want := range map[string]string{
		"GET /healthz":         "/healthz",
		"POST /login/{action}": "/login/{action}",
		"/authorize":           "/authorize",
		"/authorize/continue":  "/authorize/continue",
		"GET /assets/":         "/assets/",
		"GET /{$}":             "/{$}",
		"/":                    OtherRoute,
		"GET /":                OtherRoute,
		"":                     OtherRoute,
	} {
		if got := RouteLabel(pattern); got != want {
			t.Errorf("RouteLabel(%q) = %q, want %q", pattern, got, want)
		}
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &closeSignalling{Listener: inner, closed: make(chan struct{})}
	started, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "done")
	})
	srv := &http.Server{Handler: mux}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, srv, ln, slog.New(slog.DiscardHandler)) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-started
	cancel() // as SIGTERM would
	// Shutdown closes the listener first, while the request is still in flight.
	select {
	case <-ln.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the listener was not closed after shutdown began")
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("still accepting connections after shutdown began")
	}
	close(release)
	if body := <-got; body != "done" {
		t.Errorf("in-flight request got %q, want done", body)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v, want nil after a graceful shutdown", err)
	}
	if srv.ReadHeaderTimeout != ReadHeaderTimeout || srv.IdleTimeout != IdleTimeout {
		t.Errorf("timeouts not set: %+v", srv)
	}
}

func TestRunReportsListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = Run(context.Background(), &http.Server{Addr: ln.Addr().String()}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Errorf("Run on a taken port = %v", err)
	}
}

// On the stop signal with a drain: /readyz says 503 at once, new and kept-alive
// connections are still served (each response with Connection: close) for the
// period, then the server stops accepting, lets the in-flight request finish and
// returns nil.
func TestServeDrainsBeforeShuttingDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	drain := NewDrain(time.Hour) // ended by the test through ctx below, never by the clock
	started, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("GET /readyz", Readyz(nil, time.Second, drain))
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "page") })
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "done")
	})
	srv := &http.Server{Handler: mux}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, srv, ln, slog.New(slog.DiscardHandler), WithDrain(drain)) }()

	kept := &http.Client{Transport: &http.Transport{}}
	get := func(c *http.Client, path string) (*http.Response, string) {
		t.Helper()
		res, err := c.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	if res, body := get(kept, "/readyz"); res.StatusCode != 200 || body != "ready\n" || res.Close {
		t.Fatalf("before the signal: %d %q close=%v", res.StatusCode, body, res.Close)
	}
	// kept now holds an idle keep-alive connection.

	slow := make(chan string, 1)
	go func() {
		res, err := http.Get(base + "/slow")
		if err != nil {
			slow <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		slow <- string(b)
	}()
	<-started

	cancel() // the signal: Serve begins the drain and waits (an hour here)
	var reused bool
	for !drain.Draining() {
		time.Sleep(time.Millisecond)
	}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(),
		&httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}), "GET", base+"/page", nil)
	res, err := kept.Do(req)
	if err != nil {
		t.Fatalf("a request on the kept-alive connection during the drain: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "page" || !reused || !res.Close {
		t.Errorf("during the drain, kept-alive connection: %d %q reused=%v Connection: close=%v; want 200 page, reused, close",
			res.StatusCode, b, reused, res.Close)
	}
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if res, body := get(fresh, "/readyz"); res.StatusCode != 503 || body != "shutting down\n" {
		t.Errorf("/readyz during the drain = %d %q, want 503 shutting down", res.StatusCode, body)
	}
	if res, body := get(fresh, "/page"); res.StatusCode != 200 || body != "page" {
		t.Errorf("a new connection during the drain = %d %q, want 200 page", res.StatusCode, body)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned during the drain: %v", err)
	default:
	}
	close(release)
	if body := <-slow; body != "done" {
		t.Errorf("the request in flight at the signal got %q, want done", body)
	}
	srv.Close() // rather than wait the hour out
	<-served
}

// The drain ends after its period: the server stops accepting and Serve returns nil.
func TestServeDrainEndsAfterPeriod(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	drain := NewDrain(10 * time.Millisecond)
	srv := &http.Server{Handler: Readyz(nil, time.Second, drain)}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, srv, ln, slog.New(slog.DiscardHandler), WithDrain(drain)) }()
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve still running 30 s after a 10 ms drain")
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("still accepting connections after the drain and shutdown")
	}
	if !drain.Draining() {
		t.Error("Draining false after the stop")
	}
}
