package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/provider"
)

// serving is `idp serve` running in process until stop.
type serving struct {
	t              *testing.T
	issuer         string
	stdout, stderr *bytes.Buffer
	cancel         context.CancelFunc
	done           chan int
}

// serveEmbedded starts serve in embedded mode with the demo form app on demoAddr and
// waits until the idp is ready.
func serveEmbedded(t *testing.T, demoAddr string) *serving {
	t.Helper()
	addr := freeAddr(t)
	env, stdout, stderr := testEnv(map[string]string{
		"IDP_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "data", "idp.db"),
		"IDP_ADDR":         addr,
		"IDP_ISSUER":       "http://" + addr,
		"IDP_METRICS_ADDR": "off", // tests run side by side: the default port would clash
		"IDP_ADMIN_ADDR":   "off",
		demoAddrVar:        demoAddr,
	})
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{t: t, issuer: "http://" + addr, stdout: stdout, stderr: stderr, cancel: cancel, done: make(chan int, 1)}
	go func() { s.done <- run(ctx, nil, env) }()
	t.Cleanup(func() { s.stop() })
	start := time.Now()
	for time.Since(start) < 10*time.Second {
		if get(s.issuer+"/readyz") == "200 ready" {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.stop()
	t.Fatalf("the idp was not ready after %s; stderr:\n%s", time.Since(start), stderr)
	return nil
}

// stop ends serve as SIGTERM would; its output may be read afterwards.
func (s *serving) stop() {
	if s.done == nil {
		return
	}
	s.cancel()
	if code := <-s.done; code != 0 {
		s.t.Errorf("serve exited %d: %s", code, s.stderr)
	}
	s.done = nil
}

func TestServeEmbeddedRunsTheDemoFormApp(t *testing.T) {
	demoAddr := freeAddr(t)
	demo := "http://" + demoAddr
	s := serveEmbedded(t, demoAddr)

	if got := get(demo + "/healthz"); got != "200 ok" {
		t.Fatalf("demo form app GET /healthz = %q", got)
	}
	if got := get(demo + "/"); !strings.HasPrefix(got, "200 ") || !strings.Contains(got, "About the person you are referring") {
		t.Errorf("demo form app GET / = %.300q, want page one of the referral", got)
	}
	// 'Login or Register' sends the browser to this idp as the demo client.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.PostForm(demo+"/login", url.Values{"next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), s.issuer+"/") ||
		loc.Query().Get("client_id") != provider.DemoClientID || loc.Query().Get("redirect_uri") != demo+"/callback" {
		t.Errorf("demo form app 'Login or Register' = %d to %q, want the idp's authorization endpoint for %s", res.StatusCode, loc, provider.DemoClientID)
	}
	// The idp knows the demo client at this address: the browser reaches 'Sign In'.
	jar, _ := cookiejar.New(nil)
	res, err = (&http.Client{Jar: jar}).Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), "<h1 class=\"govuk-heading-l\">Sign In</h1>") {
		t.Errorf("the idp's answer to the demo form app: %d %.400s", res.StatusCode, page)
	}

	s.stop()
	if out := s.stdout.String(); !strings.Contains(out, "Demo form:  "+demo) || !strings.Contains(out, "Discovery:") {
		t.Errorf("start-up output does not list the demo form app among the URLs:\n%s", out)
	}
	if get(demo+"/healthz") == "200 ok" {
		t.Error("the demo form app still answers after serve stopped")
	}
}

func TestServeEmbeddedCarriesOnWithoutTheDemoFormApp(t *testing.T) {
	t.Run("port taken", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		s := serveEmbedded(t, ln.Addr().String())
		s.stop()
		var lines []string
		for _, l := range strings.Split(s.stderr.String(), "\n") {
			if strings.Contains(l, "demo form app") {
				lines = append(lines, l)
			}
		}
		want := "idp: demo form app not started: " + ln.Addr().String() + " is in use"
		if len(lines) != 1 || !strings.HasPrefix(lines[0], want) {
			t.Errorf("stderr about the demo = %q, want one line starting %q", lines, want)
		}
		if strings.Contains(s.stdout.String(), "Demo form:") {
			t.Errorf("start-up output lists a demo that is not running:\n%s", s.stdout)
		}
	})
	t.Run("off", func(t *testing.T) {
		s := serveEmbedded(t, "off")
		s.stop()
		if strings.Contains(s.stdout.String(), "Demo form:") || strings.Contains(s.stderr.String(), "demo form app") {
			t.Errorf("%s=off still mentions the demo:\n%s\n%s", demoAddrVar, s.stdout, s.stderr)
		}
	})
}

// Only embedded mode has the demo client registered, so only it runs the demo.
func TestDemoFormAppOnlyInEmbeddedMode(t *testing.T) {
	cfg := &config.Config{DatabaseKind: config.DatabasePostgres, Issuer: "http://localhost:8080"}
	env, _, stderr := testEnv(map[string]string{demoAddrVar: freeAddr(t)})
	if ln, _ := listenDemo(cfg, env); ln != nil {
		ln.Close()
		t.Fatal("the demo form app would start with PostgreSQL")
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr = %q", stderr)
	}
}

func TestDemoURL(t *testing.T) {
	for _, tc := range []struct{ configured, listening, want string }{
		{"localhost:8081", "127.0.0.1:8081", "http://localhost:8081"},
		{":8081", "[::]:8081", "http://localhost:8081"},
		{"0.0.0.0:0", "0.0.0.0:40001", "http://localhost:40001"},
		{"127.0.0.1:0", "127.0.0.1:40002", "http://127.0.0.1:40002"},
	} {
		addr, err := net.ResolveTCPAddr("tcp", tc.listening)
		if err != nil {
			t.Fatal(err)
		}
		if got := demoURL(tc.configured, addr); got != tc.want {
			t.Errorf("demoURL(%q, %s) = %q, want %q", tc.configured, tc.listening, got, tc.want)
		}
	}
}
