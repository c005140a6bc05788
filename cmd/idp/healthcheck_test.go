package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	var (
		mu     sync.Mutex
		status = http.StatusOK
		paths  []string
	)
	seen := func() []string {
		mu.Lock()
		defer mu.Unlock()
		p := paths
		paths = nil
		return p
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		paths = append(paths, r.URL.Path)
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))

	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
	}{
		{"--url", nil, []string{"--url", srv.URL}},
		{"--url ending in /healthz", nil, []string{"--url=" + srv.URL + "/healthz"}},
		{"IDP_ADDR", map[string]string{"IDP_ADDR": "127.0.0.1:" + port}, nil},
		{"IDP_ADDR on every interface", map[string]string{"IDP_ADDR": ":" + port}, nil},
		{"IDP_ADDR 0.0.0.0", map[string]string{"IDP_ADDR": "0.0.0.0:" + port}, nil},
		{"--url wins over IDP_ADDR", map[string]string{"IDP_ADDR": "127.0.0.1:1"}, []string{"--url", srv.URL}},
		// Only IDP_ADDR is read: a bad setting elsewhere does not fail a running server.
		{"other settings ignored", map[string]string{"IDP_ADDR": ":" + port, "IDP_DATABASE_URL": "nonsense"}, nil},
	} {
		code, out, errs := runCmd(t, tc.vars, append([]string{"healthcheck"}, tc.args...)...)
		if code != 0 || strings.TrimSpace(out) != "ok" || errs != "" {
			t.Errorf("%s: exit %d stdout %q stderr %q, want 0 and ok", tc.name, code, out, errs)
		}
		if p := seen(); len(p) != 1 || p[0] != "/healthz" {
			t.Errorf("%s: server saw %v, want one GET /healthz", tc.name, p)
		}
	}

	mu.Lock()
	status = http.StatusServiceUnavailable
	mu.Unlock()
	code, out, errs := runCmd(t, nil, "healthcheck", "--url", srv.URL)
	if code != 1 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "503 Service Unavailable") {
		t.Errorf("503: exit %d stdout %q stderr %q, want 1 and one line naming the status", code, out, errs)
	}
}

func TestHealthcheckFailures(t *testing.T) {
	redirect := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
	defer redirect.Close()
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	for _, tc := range []struct {
		name    string
		vars    map[string]string
		args    []string
		code    int
		contain string
	}{
		{"redirect", nil, []string{"--url", redirect.URL}, 1, "302 Found"},
		{"nothing listening", map[string]string{"IDP_ADDR": closed}, nil, 1, "GET http://" + closed + "/healthz: "},
		{"bad IDP_ADDR", map[string]string{"IDP_ADDR": "8080"}, nil, 2, "IDP_ADDR: must be host:port"},
		{"bad --url", nil, []string{"--url", "localhost:8080"}, 2, "--url"},
		{"stray argument", nil, []string{"now"}, 2, `unexpected argument "now"`},
		{"unknown flag", nil, []string{"--timeout=1s"}, 2, "timeout"},
	} {
		code, out, errs := runCmd(t, tc.vars, append([]string{"healthcheck"}, tc.args...)...)
		if code != tc.code || out != "" || !strings.Contains(errs, tc.contain) || !strings.HasSuffix(errs, "\n") {
			t.Errorf("%s: exit %d stdout %q stderr %q, want %d and %q", tc.name, code, out, errs, tc.code, tc.contain)
		}
		if tc.code == 1 && strings.Count(errs, "\n") != 1 {
			t.Errorf("%s: stderr is not one line: %q", tc.name, errs)
		}
	}
}
