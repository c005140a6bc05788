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
	"github.com/councilforms/idp/store"
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
	// By default the old secret keeps working for a day, and show says so.
	if !strings.Contains(out, "the old one keeps working until") {
		t.Errorf("rotate-secret does not say how long the old secret works: %q", out)
	}
	if code, out, _ := runCmd(t, vars, "clients", "show", "referral"); code != 0 || !strings.Contains(out, "previous secret:") {
		t.Errorf("show after rotate-secret: %d %q", code, out)
	}
	for _, bad := range [][]string{{"referral", "--overlap", "soon"}, {"referral", "--overlap", "-1h"}, {"referral", "--overlap", "9999h"}, {"--overlap", "1h"}, {"referral", "extra"}} {
		if code, _, errs := runCmd(t, vars, append([]string{"clients", "rotate-secret"}, bad...)...); code != 2 || errs == "" {
			t.Errorf("rotate-secret %v: exit %d %q, want a usage error", bad, code, errs)
		}
	}
	if h := storedHash("referral"); h != secrets.Hash(m[1]) {
		t.Fatalf("a refused rotate-secret changed the secret")
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

func TestClientsMetadataAndUpdate(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "idp.db")
	vars := map[string]string{"IDP_DATABASE_URL": "sqlite:" + db}
	key := make([]byte, 32)
	key[0] = 42
	if err := os.WriteFile(filepath.Join(dir, app.KeyFileName), []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stored := func(id string) *store.Client {
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
		return c
	}

	code, out, errs := runCmd(t, vars, "clients", "add", "--id", "referral", "--name", "Make a social care referral",
		"--redirect-uri", "https://forms.example.gov.uk/referral/callback",
		"--backchannel-logout-uri", "https://forms.example.gov.uk/referral/backchannel-logout",
		"--backchannel-logout-session-required", "--id-token-signed-response-alg", "ES256")
	if code != 0 || !strings.Contains(out, "client secret:") {
		t.Fatalf("add with metadata: %d %q %q", code, out, errs)
	}
	c := stored("referral")
	if c.BackchannelLogoutURI != "https://forms.example.gov.uk/referral/backchannel-logout" || !c.BackchannelLogoutSessionRequired ||
		c.IDTokenSignedResponseAlg != "ES256" {
		t.Fatalf("stored after add: %+v", c)
	}
	secretHash, created := c.SecretHash, c.CreatedAt
	code, out, _ = runCmd(t, vars, "clients", "show", "referral")
	for _, want := range []string{`back-channel logout URI:\s+https://forms.example.gov.uk/referral/backchannel-logout\n`,
		`back-channel logout session required:\s+yes\n`, `ID token signing algorithm:\s+ES256\n`} {
		if code != 0 || !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("show lacks %s: %d %q", want, code, out)
		}
	}

	// Bad flags on add: a usage error, nothing registered.
	for name, args := range map[string][]string{
		"http back-channel":     {"--backchannel-logout-uri", "http://forms.example.gov.uk/bcl"},
		"relative back-channel": {"--backchannel-logout-uri", "/bcl"},
		"fragment back-channel": {"--backchannel-logout-uri", "https://forms.example.gov.uk/bcl#x"},
		"alg":                   {"--id-token-signed-response-alg", "HS256"},
		"alg none":              {"--id-token-signed-response-alg", "none"},
	} {
		args = append([]string{"clients", "add", "--id", "x", "--name", "X", "--redirect-uri", "https://forms.example.gov.uk/cb"}, args...)
		code, out, errs := runCmd(t, vars, args...)
		if code != 2 || errs == "" || strings.Contains(out, "secret") {
			t.Errorf("add %s: exit %d stdout %q stderr %q, want a usage error", name, code, out, errs)
		}
	}
	if _, _, errs := runCmd(t, vars, "clients", "add", "--id", "x", "--name", "X", "--redirect-uri", "https://forms.example.gov.uk/cb",
		"--id-token-signed-response-alg", "PS256"); !strings.Contains(errs, "RS256 or ES256") {
		t.Errorf("bad alg message %q", errs)
	}
	if code, out, _ := runCmd(t, vars, "clients", "show", "x"); code == 0 {
		t.Fatalf("a refused add registered the client: %q", out)
	}

	// update changes only what is given, never the secret.
	code, out, errs = runCmd(t, vars, "clients", "update", "referral", "--name", "Referral (new)",
		"--id-token-signed-response-alg", "rs256", "--redirect-uri", "https://forms.example.gov.uk/new/callback",
		"--redirect-uri", "http://localhost:8081/callback")
	if code != 0 || !strings.Contains(out, "updated") || strings.Contains(out, "client secret") {
		t.Fatalf("update: %d %q %q", code, out, errs)
	}
	c = stored("referral")
	if c.Name != "Referral (new)" || c.IDTokenSignedResponseAlg != "RS256" ||
		strings.Join(c.RedirectURIs, " ") != "https://forms.example.gov.uk/new/callback http://localhost:8081/callback" ||
		c.BackchannelLogoutURI != "https://forms.example.gov.uk/referral/backchannel-logout" || !c.BackchannelLogoutSessionRequired ||
		c.SecretHash != secretHash || !c.CreatedAt.Equal(created) || c.Public {
		t.Fatalf("stored after update: %+v", c)
	}
	code, out, errs = runCmd(t, vars, "clients", "update", "referral", "--backchannel-logout-uri", "",
		"--backchannel-logout-session-required=false", "--id-token-signed-response-alg", "", "--scope", "openid,email",
		"--post-logout-redirect-uri", "https://forms.example.gov.uk/new/")
	if code != 0 {
		t.Fatalf("second update: %d %q %q", code, out, errs)
	}
	c = stored("referral")
	if c.BackchannelLogoutURI != "" || c.BackchannelLogoutSessionRequired || c.IDTokenSignedResponseAlg != "" ||
		strings.Join(c.Scopes, " ") != "openid email" || strings.Join(c.PostLogoutRedirectURIs, " ") != "https://forms.example.gov.uk/new/" ||
		c.Name != "Referral (new)" || c.SecretHash != secretHash {
		t.Fatalf("stored after second update: %+v", c)
	}
	if _, out, _ := runCmd(t, vars, "clients", "show", "referral"); !strings.Contains(out, "default (RS256)") ||
		!regexp.MustCompile(`back-channel logout URI:\s+none\n`).MatchString(out) ||
		!regexp.MustCompile(`back-channel logout session required:\s+no\n`).MatchString(out) {
		t.Errorf("show after clearing: %q", out)
	}

	// Bad updates: a clear error, nothing changed.
	before := stored("referral")
	for name, args := range map[string][]string{
		"no id":             {},
		"flag for id":       {"--name", "X"},
		"nothing to change": {"referral"},
		"unknown flag":      {"referral", "--colour", "red"},
		"public":            {"referral", "--public"},
		"secret":            {"referral", "--secret", "x"},
		"id flag":           {"referral", "--id", "other"},
		"alg":               {"referral", "--id-token-signed-response-alg", "HS256"},
		"http back-channel": {"referral", "--backchannel-logout-uri", "http://forms.example.gov.uk/bcl"},
		"http redirect":     {"referral", "--redirect-uri", "http://forms.example.gov.uk/cb"},
		"no redirect":       {"referral", "--redirect-uri", ""},
		"empty name":        {"referral", "--name", " "},
		"unknown scope":     {"referral", "--scope", "admin"},
		"extra argument":    {"referral", "--name", "X", "more"},
	} {
		code, out, errs := runCmd(t, vars, append([]string{"clients", "update"}, args...)...)
		if code != 2 || errs == "" || out != "" {
			t.Errorf("update %s: exit %d stdout %q stderr %q, want a usage error", name, code, out, errs)
		}
	}
	after := stored("referral")
	if after.Name != before.Name || after.IDTokenSignedResponseAlg != before.IDTokenSignedResponseAlg ||
		strings.Join(after.RedirectURIs, " ") != strings.Join(before.RedirectURIs, " ") || after.BackchannelLogoutURI != "" ||
		after.SecretHash != secretHash || strings.Join(after.Scopes, " ") != "openid email" {
		t.Fatalf("a refused update changed the client: %+v, was %+v", after, before)
	}
	if code, _, errs := runCmd(t, vars, "clients", "update", "missing", "--name", "X"); code != 1 || !strings.Contains(errs, `no client with id "missing"`) {
		t.Errorf("update of an unknown client: %d %q", code, errs)
	}

	// A client the clients file defines is changed in the file, not here.
	file := filepath.Join(dir, "clients.yaml")
	if err := os.WriteFile(file, []byte("clients:\n  - id: referral\n    name: From the file\n    secret: ${NOT_SET_HERE}\n"+
		"    redirect_uris: [https://forms.example.gov.uk/referral/callback]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	withFile := map[string]string{"IDP_DATABASE_URL": vars["IDP_DATABASE_URL"], "IDP_CLIENTS_FILE": file}
	code, out, errs = runCmd(t, withFile, "clients", "update", "referral", "--name", "Changed")
	if code != 1 || out != "" || !strings.Contains(errs, `client "referral" is defined in the clients file`) || !strings.Contains(errs, file) {
		t.Fatalf("update of a clients-file client: %d %q %q", code, out, errs)
	}
	if stored("referral").Name != before.Name {
		t.Fatal("a clients-file client was changed in the database")
	}
	if code, _, errs := runCmd(t, withFile, "clients", "add", "--id", "other", "--name", "Other", "--redirect-uri", "https://forms.example.gov.uk/o"); code != 0 {
		t.Fatalf("add with a clients file: %d %q", code, errs)
	}
	if code, _, errs := runCmd(t, withFile, "clients", "update", "other", "--name", "Other (new)"); code != 0 {
		t.Fatalf("update of a client the file does not define: %d %q", code, errs)
	}
}

func TestKeysRotateByAlgorithm(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "idp.db")
	vars := map[string]string{"IDP_DATABASE_URL": "sqlite:" + db}
	key := make([]byte, 32)
	if err := os.WriteFile(filepath.Join(dir, app.KeyFileName), []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, vars, "keys", "rotate")
	if code != 0 || !strings.Contains(out, "new RS256 signing key") || !strings.Contains(out, "new ES256 signing key") {
		t.Fatalf("rotate both: %d %q %q", code, out, errs)
	}
	code, out, errs = runCmd(t, vars, "keys", "rotate", "--alg", "ES256")
	if code != 0 || strings.Contains(out, "RS256") || strings.Count(out, "new ES256 signing key") != 1 {
		t.Fatalf("rotate ES256: %d %q %q", code, out, errs)
	}
	code, out, _ = runCmd(t, vars, "keys", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	count := func(alg, state string) int {
		n := 0
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) > 2 && f[1] == alg && f[2] == state {
				n++
			}
		}
		return n
	}
	if code != 0 || count("RS256", "active") != 1 || count("ES256", "active") != 1 || count("ES256", "pending") != 1 || count("RS256", "pending") != 0 {
		t.Fatalf("keys list: %d %q", code, out)
	}
	for _, args := range [][]string{{"keys", "rotate", "--alg", "HS256"}, {"keys", "rotate", "extra"}, {"keys", "list", "--alg", "RS256"}} {
		if code, _, errs := runCmd(t, vars, args...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d %q, want a usage error", args, code, errs)
		}
	}
}
