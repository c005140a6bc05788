package main

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/councilforms/idp/idp/app"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/store/sqlite"
)

func runCmd(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	env, stdout, stderr := testEnv(vars)
	code := run(context.Background(), args, env)
	return code, stdout.String(), stderr.String()
}

func TestClientsCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "idp.db")
	vars := map[string]string{"IDP_DATABASE_URL": "sqlite:" + db}
	addReferral := []string{"clients", "add", "--id", "referral", "--name", "Make a social care referral",
		"--redirect-uri", "https://forms.example.gov.uk/referral/callback", "--redirect-uri", "http://localhost:8081/callback",
		"--post-logout-redirect-uri", "https://forms.example.gov.uk/referral/"}

	// Secrets are hashed with the servers' key-encryption key: before the
	// server has made its key file there is none, and nothing is changed.
	code, out, errs := runCmd(t, vars, addReferral...)
	if code != 1 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "key-encryption key") ||
		!strings.Contains(errs, "start the server once") || out != "" {
		t.Fatalf("add without a key: exit %d stdout %q stderr %q, want one line about the key", code, out, errs)
	}
	if _, err := os.Stat(db); err == nil {
		t.Fatal("add without a key touched the database")
	}
	if code, _, errs := runCmd(t, vars, "clients", "list"); code != 0 {
		t.Fatalf("list needs no key: %d %q", code, errs)
	}
	key := make([]byte, 32)
	key[0] = 42
	if err := os.WriteFile(filepath.Join(dir, app.KeyFileName), []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets, err := provider.NewClientSecrets(key)
	if err != nil {
		t.Fatal(err)
	}

	code, out, errs = runCmd(t, vars, addReferral...)
	if code != 0 {
		t.Fatalf("add: %d %q", code, errs)
	}
	m := regexp.MustCompile(`client secret: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("add printed no secret: %q", out)
	}
	secret := m[1]
	if raw, err := base64.RawURLEncoding.DecodeString(secret); err != nil || len(raw) != 32 {
		t.Errorf("secret %q is not 32 random bytes", secret)
	}

	// The secret is stored only as its HMAC under the key file's key.
	storedHash := func(id string) string {
		t.Helper()
		s, err := sqlite.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		c, err := s.ClientByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return c.SecretHash
	}
	if h := storedHash("referral"); strings.Contains(h, secret) || h != secrets.Hash(secret) || !strings.HasPrefix(h, "hmac-sha256$") {
		t.Fatalf("secret hash %q is not the HMAC of the printed secret under the key file's key", h)
	}

	if code, out, _ := runCmd(t, vars, "clients", "add", "--id", "spa", "--name", "Public form", "--public",
		"--redirect-uri", "https://forms.example.gov.uk/spa/callback", "--scope", "openid", "--scope", "email"); code != 0 || strings.Contains(out, "secret") {
		t.Fatalf("add public: %d %q", code, out)
	}

	bad := map[string][]string{
		"duplicate id":    {"--id", "referral", "--name", "Again", "--redirect-uri", "https://forms.example.gov.uk/x"},
		"http non-local":  {"--id", "x1", "--name", "X", "--redirect-uri", "http://forms.example.gov.uk/cb"},
		"relative":        {"--id", "x2", "--name", "X", "--redirect-uri", "/callback"},
		"fragment":        {"--id", "x3", "--name", "X", "--redirect-uri", "https://forms.example.gov.uk/cb#top"},
		"wildcard":        {"--id", "x4", "--name", "X", "--redirect-uri", "https://*.example.gov.uk/cb"},
		"unknown flag":    {"--id", "x5", "--name", "X", "--redirect-uri", "https://forms.example.gov.uk/cb", "--colour", "red"},
		"bad id":          {"--id", "no spaces", "--name", "X", "--redirect-uri", "https://forms.example.gov.uk/cb"},
		"no redirect":     {"--id", "x6", "--name", "X"},
		"bad post-logout": {"--id", "x7", "--name", "X", "--redirect-uri", "https://forms.example.gov.uk/cb", "--post-logout-redirect-uri", "http://evil.example/"},
		"unknown scope":   {"--id", "x8", "--name", "X", "--redirect-uri", "https://forms.example.gov.uk/cb", "--scope", "admin"},
	}
	for name, args := range bad {
		code, out, errs := runCmd(t, vars, append([]string{"clients", "add"}, args...)...)
		if code == 0 || errs == "" || strings.Contains(out, "secret") {
			t.Errorf("%s: exit %d stdout %q stderr %q, want a clear error", name, code, out, errs)
		}
	}
	if _, _, errs := runCmd(t, vars, "clients", "add", "--id", "referral", "--name", "Again", "--redirect-uri", "https://forms.example.gov.uk/x"); !strings.Contains(errs, "already exists") {
		t.Errorf("duplicate id message %q", errs)
	}

	code, out, _ = runCmd(t, vars, "clients", "list")
	if code != 0 || !strings.Contains(out, "referral") || !strings.Contains(out, "spa") || strings.Contains(out, "x1") {
		t.Fatalf("list: %d %q", code, out)
	}
	code, out, _ = runCmd(t, vars, "clients", "show", "referral")
	if code != 0 || !strings.Contains(out, "confidential") || !strings.Contains(out, "http://localhost:8081/callback") || strings.Contains(out, "argon2") {
		t.Fatalf("show: %d %q", code, out)
	}

	code, out, _ = runCmd(t, vars, "clients", "rotate-secret", "referral")
	m = regexp.MustCompile(`client secret: (\S+)`).FindStringSubmatch(out)
	if code != 0 || m == nil || m[1] == secret {
		t.Fatalf("rotate-secret: %d %q", code, out)
	}
	if h := storedHash("referral"); h != secrets.Hash(m[1]) {
		t.Fatalf("rotated secret hash %q is not the HMAC of the new secret", h)
	}

	// IDP_KEY_ENCRYPTION_KEY, when set, is the key (as for the server).
	other := make([]byte, 32)
	other[0] = 7
	withKey := map[string]string{"IDP_DATABASE_URL": vars["IDP_DATABASE_URL"], "IDP_KEY_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(other)}
	code, out, errs = runCmd(t, withKey, "clients", "rotate-secret", "referral")
	m = regexp.MustCompile(`client secret: (\S+)`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("rotate-secret with IDP_KEY_ENCRYPTION_KEY: %d %q %q", code, out, errs)
	}
	otherSecrets, _ := provider.NewClientSecrets(other)
	if h := storedHash("referral"); h != otherSecrets.Hash(m[1]) {
		t.Fatalf("secret hash %q is not under IDP_KEY_ENCRYPTION_KEY", h)
	}
	if code, _, errs := runCmd(t, vars, "clients", "rotate-secret", "spa"); code == 0 || !strings.Contains(errs, "public") {
		t.Errorf("rotate-secret of a public client: %d %q", code, errs)
	}

	if code, _, _ := runCmd(t, vars, "clients", "remove", "spa"); code != 0 {
		t.Fatal("remove failed")
	}
	if code, _, errs := runCmd(t, vars, "clients", "remove", "spa"); code != 1 || !strings.Contains(errs, `no client with id "spa"`) {
		t.Errorf("remove twice: %d %q", code, errs)
	}
	if code, _, _ := runCmd(t, vars, "clients", "frobnicate"); code != 2 {
		t.Errorf("unknown subcommand exit %d, want 2", code)
	}
}

func TestKeysCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "idp.db")
	vars := map[string]string{"IDP_DATABASE_URL": "sqlite:" + db}
	if code, _, errs := runCmd(t, vars, "keys", "list"); code != 1 || !strings.Contains(errs, "start the server once") {
		t.Fatalf("keys list without a key file: %d %q", code, errs)
	}
	key := make([]byte, 32)
	if err := os.WriteFile(filepath.Join(dir, app.KeyFileName), []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCmd(t, vars, "keys", "list"); code != 0 || !strings.Contains(out, "no signing keys") {
		t.Fatalf("keys list on an empty database: %d %q %q", code, out, errs)
	}
	code, out, errs := runCmd(t, vars, "keys", "rotate")
	if code != 0 || !strings.Contains(out, "signing key") {
		t.Fatalf("rotate: %d %q %q", code, out, errs)
	}
	code, out, _ = runCmd(t, vars, "keys", "list")
	if code != 0 || !strings.Contains(out, "active") || !strings.Contains(out, "RS256") {
		t.Fatalf("keys list after the first rotate: %d %q", code, out)
	}
	// A second rotation publishes a key that signs only later.
	if code, _, errs := runCmd(t, vars, "keys", "rotate"); code != 0 {
		t.Fatalf("second rotate: %d %q", code, errs)
	}
	code, out, _ = runCmd(t, vars, "keys", "list")
	if code != 0 || !strings.Contains(out, "pending") || !strings.Contains(out, "active") {
		t.Fatalf("keys list after the second rotate: %d %q", code, out)
	}
	if code, _, _ := runCmd(t, vars, "keys", "delete"); code != 2 {
		t.Errorf("keys delete exit %d, want 2", code)
	}
}
