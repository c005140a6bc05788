package app_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// IDP_PPROF serves Go's profiler on the metrics listener only: the public
// listener answers 404 for it, with or without the setting, and the command
// line (which may carry a database password) is never served.
func TestPprofOnlyOnTheMetricsListener(t *testing.T) {
	for _, on := range []bool{true, false} {
		extra := map[string]string{}
		if on {
			extra["IDP_PPROF"] = "true"
		}
		d := startIdP(t, embedded, extra)
		for _, path := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline"} {
			if status, _, body := fetch(t, "GET", d.issuer+path, nil, ""); status != http.StatusNotFound || strings.Contains(body, "goroutine") {
				t.Errorf("IDP_PPROF=%v: GET %s on the public listener: %d, want 404 without a profile", on, path, status)
			}
		}
		metrics := httptest.NewServer(d.app.MetricsHandler())
		t.Cleanup(metrics.Close)
		status, _, body := fetch(t, "GET", metrics.URL+"/debug/pprof/goroutine?debug=1", nil, "")
		if on && (status != http.StatusOK || !strings.Contains(body, "goroutine profile")) {
			t.Errorf("IDP_PPROF=true: GET /debug/pprof/goroutine on the metrics listener: %d, want the profile:\n%.200s", status, body)
		}
		if !on && status != http.StatusNotFound {
			t.Errorf("IDP_PPROF off: GET /debug/pprof/goroutine on the metrics listener: %d, want 404", status)
		}
		if status, _, body := fetch(t, "GET", metrics.URL+"/debug/pprof/cmdline", nil, ""); status != http.StatusNotFound || strings.Contains(body, "idp") {
			t.Errorf("IDP_PPROF=%v: GET /debug/pprof/cmdline on the metrics listener: %d %q, want 404", on, status, body)
		}
		if status, _, _ := fetch(t, "GET", metrics.URL+"/metrics", nil, ""); status != http.StatusOK {
			t.Errorf("IDP_PPROF=%v: GET /metrics on the metrics listener: %d", on, status)
		}
	}
}
