package provider

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer collects log lines written while the server runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Security finding 13: bad input to /end_session is the request's fault: 400
// and a page, logged below ERROR.
func TestEndSessionBadInputIsNotAServerError(t *testing.T) {
	e := newEnv(t, backends[0].open(t), nil)
	logs := &lockedBuffer{}
	e.p.log = slog.New(slog.NewTextHandler(logs, nil))
	b := e.browser()
	for _, rq := range []struct{ name, method, query, body string }{
		{"10 MB body", http.MethodPost, "", "state=" + strings.Repeat("a", 10<<20)},
		{"bad escape", http.MethodGet, "?a=%zz", ""},
		{"unknown client", http.MethodGet, "?client_id=nobody", ""},
	} {
		req, err := http.NewRequest(rq.method, e.issuer+"/end_session"+rq.query, strings.NewReader(rq.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := b.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", rq.name, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %q, want 400 and a page", rq.name, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("bad end-session requests logged errors:\n%s", logs.String())
	}
}
