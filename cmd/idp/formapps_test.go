package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/councilforms/idp/idp/app"
	"github.com/councilforms/idp/idp/provider"
)

// Issue 18 (finding 9): clients list shows the clients file's and the
// built-in form apps with the database's, marked read-only; an id the file
// defines cannot be added to the database (the file would win at run time
// and the secret printed would fail); a client can be disabled and enabled.
func TestClientsListSourcesAndDisable(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"IDP_DATABASE_URL": "sqlite:" + filepath.Join(dir, "idp.db")}
	if err := os.WriteFile(filepath.Join(dir, app.KeyFileName), []byte(base64.StdEncoding.EncodeToString(make([]byte, 32))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "clients.yaml")
	if err := os.WriteFile(file, []byte("clients:\n  - id: blue-badge\n    name: Apply for a Blue Badge\n    secret: ${BLUE_BADGE_SECRET}\n"+
		"    redirect_uris: [https://forms.example.gov.uk/blue-badge/callback]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars["IDP_CLIENTS_FILE"] = file
	if code, _, errs := runCmd(t, vars, "clients", "add", "--id", "referral", "--name", "Make a social care referral",
		"--redirect-uri", "https://forms.example.gov.uk/referral/callback"); code != 0 {
		t.Fatalf("add: %d %q", code, errs)
	}
	code, out, errs := runCmd(t, vars, "clients", "add", "--id", "blue-badge", "--name", "Shadow",
		"--redirect-uri", "https://forms.example.gov.uk/x")
	if code != 1 || strings.Contains(out, "client secret") || !strings.Contains(errs, `client "blue-badge" is defined in the clients file`) {
		t.Fatalf("add of an id the file defines: %d %q %q", code, out, errs)
	}
	code, _, errs = runCmd(t, vars, "clients", "add", "--id", provider.DemoClientID, "--name", "Shadow",
		"--redirect-uri", "https://forms.example.gov.uk/x")
	if code != 1 || !strings.Contains(errs, "built in") {
		t.Fatalf("add of the built-in demo client's id: %d %q", code, errs)
	}

	code, out, errs = runCmd(t, vars, "clients", "list")
	rows := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			rows[f[0]] = l
		}
	}
	if code != 0 || len(rows) != 5 || // the header and four form apps
		!strings.Contains(rows["blue-badge"], "file (read-only)") ||
		!strings.Contains(rows[provider.DemoClientID], "built-in (read-only)") ||
		!strings.Contains(rows["idp-admin-console"], "built-in (read-only)") ||
		!strings.Contains(rows["referral"], "database") || strings.Contains(rows["referral"], "read-only") ||
		!strings.Contains(rows["referral"], "enabled") {
		t.Fatalf("clients list: %d %q\n%s", code, errs, out)
	}

	if code, out, errs := runCmd(t, vars, "clients", "disable", "referral", "--operator", "sam"); code != 0 || !strings.Contains(out, "client referral disabled") {
		t.Fatalf("disable: %d %q %q", code, out, errs)
	}
	if code, out, _ := runCmd(t, vars, "clients", "disable", "referral"); code != 0 || !strings.Contains(out, "already disabled") {
		t.Errorf("disable twice: %d %q", code, out)
	}
	if _, out, _ := runCmd(t, vars, "clients", "list"); !strings.Contains(out, "disabled since") {
		t.Errorf("list after disable:\n%s", out)
	}
	if _, out, _ := runCmd(t, vars, "clients", "show", "referral"); !strings.Contains(out, "disabled:") {
		t.Errorf("show after disable:\n%s", out)
	}
	if code, out, _ := runCmd(t, vars, "clients", "show", "blue-badge"); code != 0 || !strings.Contains(out, "defined in:") || !strings.Contains(out, "file (read-only here)") {
		t.Errorf("show of a file client: %d\n%s", code, out)
	}
	if code, _, errs := runCmd(t, vars, "clients", "disable", "blue-badge"); code != 1 || !strings.Contains(errs, "clients file") {
		t.Errorf("disable of a file client: %d %q", code, errs)
	}
	if code, out, errs := runCmd(t, vars, "clients", "enable", "referral"); code != 0 || !strings.Contains(out, "client referral enabled") {
		t.Fatalf("enable: %d %q %q", code, out, errs)
	}
	if code, _, errs := runCmd(t, vars, "clients", "disable", "nobody"); code != 1 || !strings.Contains(errs, `no client with id "nobody"`) {
		t.Errorf("disable of an unknown client: %d %q", code, errs)
	}
	for _, bad := range [][]string{{"clients", "disable"}, {"clients", "enable", "a", "b"}} {
		if code, _, errs := runCmd(t, vars, bad...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d %q, want a usage error", bad, code, errs)
		}
	}
	code, out, _ = runCmd(t, vars, "audit", "list", "--client", "referral")
	if code != 0 || !strings.Contains(out, "client.disabled") || !strings.Contains(out, "client.enabled") || !strings.Contains(out, "cli:sam") {
		t.Errorf("audit of disable and enable:\n%s", out)
	}
}
