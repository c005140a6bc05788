package ui

import (
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestServeForReview serves every sample page for a person (or a
// screenshot tool) to look at: UI_REVIEW_ADDR=127.0.0.1:8099 go test ./ui
// -run TestServeForReview -timeout 0. Pages are at /<page> and
// /<page>/errors, assets at /assets/. Skipped unless UI_REVIEW_ADDR is set.
func TestServeForReview(t *testing.T) {
	addr := os.Getenv("UI_REVIEW_ADDR")
	if addr == "" {
		t.Skip("UI_REVIEW_ADDR not set")
	}
	tmpl := newTemplates(t, true)
	mux := http.NewServeMux()
	mux.Handle("/assets/", Assets())
	for _, s := range samples() {
		mux.HandleFunc("/"+s.page, func(w http.ResponseWriter, r *http.Request) {
			tmpl.Render(w, http.StatusOK, s.page, s.model)
		})
		mux.HandleFunc("/"+s.page+"/errors", func(w http.ResponseWriter, r *http.Request) {
			tmpl.Render(w, http.StatusOK, s.page, s.withErrors)
		})
	}
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		for _, s := range samples() {
			b.WriteString(`<p><a href="/` + s.page + `">` + s.page + `</a> <a href="/` + s.page + `/errors">errors</a></p>`)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(b.String()))
	})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Logf("serving sample pages on http://%s/", addr)
	d := 10 * time.Minute
	if v, err := time.ParseDuration(os.Getenv("UI_REVIEW_FOR")); err == nil {
		d = v
	}
	time.Sleep(d)
	_ = srv.Close()
}
