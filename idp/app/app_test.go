package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/factors/email/smtptest"
	"github.com/councilforms/idp/factors/vonage/vonagetest"
	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/store/storetest"
)

const testKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

func load(t *testing.T, vars map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Load(nil, func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func open(t *testing.T, cfg *config.Config) (*App, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a, &logs
}

// get returns "<status> <body without its final newline>".
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSuffix(string(b), "\n"))
}

// eventually polls url until it answers want, for up to 15 seconds.
func eventually(t *testing.T, url, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		if got = get(t, url); got == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s = %q, want %q", url, got, want)
}

func TestEmbeddedMode(t *testing.T) {
	dir := t.TempDir()
	cfg := load(t, map[string]string{"IDP_DATABASE_URL": "sqlite:" + filepath.Join(dir, "data", "idp.db")})
	a, logs := open(t, cfg)
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	if got := get(t, srv.URL+"/healthz"); got != "200 ok" {
		t.Errorf("GET /healthz = %q", got)
	}
	if got := get(t, srv.URL+"/readyz"); got != "200 ready" {
		t.Errorf("GET /readyz = %q", got)
	}
	metrics := httptest.NewServer(a.MetricsHandler())
	defer metrics.Close()
	if got := get(t, metrics.URL+"/metrics"); !strings.HasPrefix(got, "200 ") ||
		!strings.Contains(got, `idp_http_requests_total{method="GET",route="/readyz",status="200"} 1`) {
		t.Errorf("GET /metrics on the metrics listener = %.100q, lacks the readyz request", got)
	}
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("headers: CSP %q, HSTS %q (want CSP, no HSTS on http)",
			resp.Header.Get("Content-Security-Policy"), resp.Header.Get("Strict-Transport-Security"))
	}

	// The key-encryption key was generated, kept private, and is reused next time.
	keyFile := filepath.Join(dir, "data", KeyFileName)
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("key file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	if len(a.KeyEncryptionKey) != 32 {
		t.Errorf("key is %d bytes", len(a.KeyEncryptionKey))
	}
	if !strings.Contains(logs.String(), "generated a key-encryption key") {
		t.Errorf("no warning about the generated key:\n%s", logs)
	}
	a.Close()
	b, _ := open(t, cfg)
	if !bytes.Equal(a.KeyEncryptionKey, b.KeyEncryptionKey) {
		t.Error("second start made a new key instead of reading the key file")
	}

	var out bytes.Buffer
	b.PrintURLs(&out)
	for _, want := range []string{"development mode", "http://localhost:8080/.well-known/openid-configuration", "http://localhost:8080/dev/inbox", "http://localhost:8080/readyz"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("PrintURLs lacks %q:\n%s", want, out.String())
		}
	}
}

func TestConfiguredKeyWins(t *testing.T) {
	dir := t.TempDir()
	cfg := load(t, map[string]string{
		"IDP_DATABASE_URL":       "sqlite:" + filepath.Join(dir, "idp.db"),
		"IDP_KEY_ENCRYPTION_KEY": testKey,
	})
	a, _ := open(t, cfg)
	want, _ := base64.StdEncoding.DecodeString(testKey)
	if !bytes.Equal(a.KeyEncryptionKey, want) {
		t.Error("configured key not used")
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFileName)); !os.IsNotExist(err) {
		t.Errorf("key file written although a key is configured (stat: %v)", err)
	}
}

func TestDamagedKeyFileStopsStart(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, KeyFileName), []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := load(t, map[string]string{"IDP_DATABASE_URL": "sqlite:" + filepath.Join(dir, "idp.db")})
	_, err := Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), KeyFileName) {
		t.Errorf("Open with a damaged key file = %v, want an error naming the file", err)
	}
}

func TestMigrateCommand(t *testing.T) {
	cfg := load(t, map[string]string{"IDP_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "idp.db")})
	for i := range 2 { // the second run finds nothing to do
		if err := Migrate(context.Background(), cfg, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
	}
}

// TestPostgresAndRedis runs the idp on the test PostgreSQL and Redis.
func TestPostgresAndRedis(t *testing.T) {
	pgURL := storetest.PostgresURL(t)
	redisURL, prefix := storetest.Redis(t)
	vars := map[string]string{
		"IDP_DATABASE_URL":       pgURL,
		"IDP_REDIS_URL":          redisURL,
		"IDP_REDIS_PREFIX":       prefix,
		"IDP_KEY_ENCRYPTION_KEY": testKey,
		"IDP_ISSUER":             "https://login.example.gov.uk",
	}
	if def, err := config.LoadAdmin(nil, func(k string) string { return vars[k] }); err != nil || def.Dev {
		t.Errorf("dev mode on by default with PostgreSQL and Redis configured (err %v)", err)
	}
	// An https issuer is production mode: delivery through an SMTP relay and a fake
	// Vonage (development mode is refused with an issuer that is not this machine).
	cfg := dlvProduction(t, vonagetest.New(t), smtptest.Start(t).Addr, vars["IDP_ISSUER"], vars)
	a, _ := open(t, cfg)
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	if got := get(t, srv.URL+"/readyz"); got != "200 ready" {
		t.Errorf("GET /readyz = %q", got)
	}
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=63072000" {
		t.Errorf("HSTS = %q with an https issuer", got)
	}
	// Starting a second time (a second replica, or a restart) migrates nothing new.
	if err := Migrate(context.Background(), cfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Errorf("Migrate again: %v", err)
	}
}

// TestReadyzFollowsDatabase cuts the connection to PostgreSQL (through a proxy the
// test controls) and restores it: /readyz goes 503 naming the database, then 200.
func TestReadyzFollowsDatabase(t *testing.T) {
	pgURL := storetest.PostgresURL(t)
	p := startProxy(t, hostPort(t, pgURL))
	cfg := load(t, map[string]string{
		"IDP_DATABASE_URL":       replaceHost(t, pgURL, p.addr),
		"IDP_KEY_ENCRYPTION_KEY": testKey,
		"IDP_DEV":                "true",
	})
	a, _ := open(t, cfg)
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	eventually(t, srv.URL+"/readyz", "200 ready")
	p.stop()
	got := get(t, srv.URL+"/readyz")
	if !strings.HasPrefix(got, "503 database: unreachable: ") || !strings.HasSuffix(got, "\njourney store (in-process): ok") {
		t.Errorf("GET /readyz with the database down = %q", got)
	}
	p.restart(t)
	eventually(t, srv.URL+"/readyz", "200 ready")
}

// TestReadyzFollowsRedis stops and restarts a real redis-server.
func TestReadyzFollowsRedis(t *testing.T) {
	r := storetest.StartRedis(t)
	cfg := load(t, map[string]string{
		"IDP_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "idp.db"),
		"IDP_REDIS_URL":    r.URL(),
		"IDP_DEV":          "true",
	})
	a, _ := open(t, cfg)
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	eventually(t, srv.URL+"/readyz", "200 ready")
	r.Stop()
	got := get(t, srv.URL+"/readyz")
	if !strings.HasPrefix(got, "503 database: ok\nredis: unreachable: ") {
		t.Errorf("GET /readyz with Redis stopped = %q", got)
	}
	r.Start()
	eventually(t, srv.URL+"/readyz", "200 ready")
}

// The operators' console's client id is its own: a clients file naming it
// stops the start with a line naming the setting.
func TestClientsFileCannotTakeTheConsolesID(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "clients.yaml")
	if err := os.WriteFile(file, []byte("clients:\n  - id: idp-admin-console\n    name: Not the console\n    public: true\n    redirect_uris: [http://localhost:9999/callback]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := load(t, map[string]string{"IDP_DATABASE_URL": "sqlite:" + filepath.Join(dir, "idp.db"), "IDP_KEY_ENCRYPTION_KEY": testKey, "IDP_CLIENTS_FILE": file})
	_, err := Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "IDP_CLIENTS_FILE") || !strings.Contains(err.Error(), "idp-admin-console") {
		t.Fatalf("Open with the console's id in the clients file: %v", err)
	}
}
