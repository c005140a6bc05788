package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testEnv(vars map[string]string) (*environment, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	return &environment{getenv: func(k string) string { return vars[k] }, stdout: &stdout, stderr: &stderr}, &stdout, &stderr
}

func TestBadConfigIsOneLineAndExit2(t *testing.T) {
	for _, args := range [][]string{nil, {"serve"}, {"migrate"}} {
		env, _, stderr := testEnv(map[string]string{"IDP_DATABASE_URL": "nonsense"})
		code := run(context.Background(), args, env)
		msg := stderr.String()
		if code != 2 {
			t.Errorf("run(%v) = %d, want 2", args, code)
		}
		if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "IDP_DATABASE_URL: must be postgres://") {
			t.Errorf("run(%v) stderr = %q, want one line naming IDP_DATABASE_URL", args, msg)
		}
	}
}

// `idp serve` in development mode with a public issuer stops before it listens, with
// exit status 2 and one line naming the setting: its dev inbox would show every code
// (security review finding 7).
func TestServeRefusesDevModeWithAPublicIssuer(t *testing.T) {
	addr := freeAddr(t)
	env, stdout, stderr := testEnv(map[string]string{
		"IDP_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "idp.db"),
		"IDP_ADDR":         addr,
		"IDP_ISSUER":       "https://login.example.gov.uk",
		"IDP_DEV":          "true",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, []string{"serve"}, env)
	msg := stderr.String()
	if code != 2 {
		t.Errorf("serve = %d, want 2; stderr %q", code, msg)
	}
	if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "idp serve: IDP_DEV: ") || !strings.Contains(msg, "IDP_ISSUER") {
		t.Errorf("stderr = %q, want one line naming IDP_DEV and IDP_ISSUER", msg)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing (no start-up URLs)", stdout)
	}
	if got := get("http://" + addr + "/dev/inbox.json"); !strings.Contains(got, "connection refused") {
		t.Errorf("GET /dev/inbox.json = %q, want nothing listening", got)
	}
}

// A metrics address in use stops the start with one line naming the setting,
// rather than serving without metrics.
func TestServeStopsWhenTheMetricsAddressIsTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := freeAddr(t)
	env, _, stderr := testEnv(map[string]string{
		"IDP_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "idp.db"),
		"IDP_ADDR":         addr,
		"IDP_ISSUER":       "http://" + addr,
		"IDP_METRICS_ADDR": taken.Addr().String(),
		"IDP_ADMIN_ADDR":   "off",
		"IDP_LOG_LEVEL":    "error",
		demoAddrVar:        "off",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if code := run(ctx, nil, env); code != 1 {
		t.Errorf("serve = %d, want 1", code)
	}
	if msg := stderr.String(); strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "idp serve: IDP_METRICS_ADDR: listen on ") {
		t.Errorf("stderr = %q, want one line naming IDP_METRICS_ADDR", msg)
	}
}

func TestUnknownCommand(t *testing.T) {
	env, _, stderr := testEnv(nil)
	if code := run(context.Background(), []string{"frobnicate"}, env); code != 2 || !strings.Contains(stderr.String(), `unknown command "frobnicate"`) {
		t.Errorf("got %d %q", code, stderr.String())
	}
}

func TestHelpListsCommandsAndSettings(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"serve", "--help"}} {
		env, stdout, _ := testEnv(nil)
		if code := run(context.Background(), args, env); code != 0 {
			t.Errorf("run(%v) = %d, want 0", args, code)
		}
		for _, want := range []string{"migrate", "version", "IDP_DATABASE_URL", "--redis-url"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("run(%v) help lacks %q", args, want)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	env, stdout, _ := testEnv(nil)
	if code := run(context.Background(), []string{"version"}, env); code != 0 || !strings.HasPrefix(stdout.String(), "idp ") {
		t.Errorf("got %d %q", code, stdout.String())
	}
}

func TestMigrateSQLite(t *testing.T) {
	db := filepath.Join(t.TempDir(), "data", "idp.db")
	env, stdout, stderr := testEnv(map[string]string{"IDP_DATABASE_URL": "sqlite:" + db})
	if code := run(context.Background(), []string{"migrate"}, env); code != 0 {
		t.Fatalf("migrate = %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "sqlite database migrated") {
		t.Errorf("stdout = %q", stdout.String())
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("database file: %v", err)
	}
}

// TestServeZeroConfig starts the server the way `go run ./cmd/idp` does (only the
// data directory and port differ), checks it answers, and stops it as SIGTERM would.
func TestServeZeroConfig(t *testing.T) {
	dir := t.TempDir()
	addr, metricsAddr, adminAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	env, stdout, stderr := testEnv(map[string]string{
		"IDP_DATABASE_URL": "sqlite:" + filepath.Join(dir, "data", "idp.db"),
		"IDP_ADDR":         addr,
		"IDP_ISSUER":       "http://" + addr,
		"IDP_METRICS_ADDR": metricsAddr,
		"IDP_ADMIN_ADDR":   adminAddr,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	start := time.Now()
	go func() { done <- run(ctx, nil, env) }()

	var status string
	for time.Since(start) < 10*time.Second {
		if status = get("http://" + addr + "/readyz"); status == "200 ready" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status != "200 ready" {
		cancel()
		<-done
		t.Fatalf("GET /readyz = %q after %s; stderr:\n%s", status, time.Since(start), stderr)
	}
	t.Logf("ready after %s", time.Since(start))
	if got := get("http://" + addr + "/healthz"); got != "200 ok" {
		t.Errorf("GET /healthz = %q", got)
	}
	// Metrics are on their own listener, never on the public one (finding 15).
	if got := get("http://" + addr + "/metrics"); !strings.HasPrefix(got, "404 ") {
		t.Errorf("GET /metrics on the public listener = %.80q, want 404", got)
	}
	if got := get("http://" + metricsAddr + "/metrics"); !strings.HasPrefix(got, "200 ") || !strings.Contains(got, `route="/healthz"`) {
		t.Errorf("GET /metrics on IDP_METRICS_ADDR = %.80q, want the metrics", got)
	}
	// The operators' console is on its own listener too.
	if got := get("http://" + adminAddr + "/healthz"); got != "200 ok" {
		t.Errorf("GET /healthz on IDP_ADMIN_ADDR = %q", got)
	}
	if got := get("http://" + addr + "/operators"); !strings.HasPrefix(got, "404 ") {
		t.Errorf("GET /operators on the public listener = %.80q, want 404", got)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d after shutdown: %s", code, stderr)
	}
	out := stdout.String()
	for _, want := range []string{"development mode", "http://" + addr + "/.well-known/openid-configuration", "/dev/inbox", "/healthz",
		"http://" + metricsAddr + "/metrics", "Console:    http://" + adminAddr, "idp admins grant EMAIL owner"} {
		if !strings.Contains(out, want) {
			t.Errorf("start-up output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "key-encryption-key")); err != nil {
		t.Errorf("key file: %v", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// get returns "<status code> <body without the final newline>", or the error.
func get(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSuffix(string(b), "\n"))
}
