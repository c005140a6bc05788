package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/sqlite"
)

// Issue 18: an auditor filters the audit log and exports it, every page of it.
func TestAuditCommands(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "idp.db")
	vars := map[string]string{"IDP_DATABASE_URL": "sqlite:" + path}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u := seedHelpdeskUser(t, s, fakeHash) // one account.locked event of hers
	base := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for i := range 2500 {
		e := &store.AuditEvent{Time: base.Add(time.Duration(i) * time.Second), Kind: "login.failed", UserID: "someone-else", IP: "192.0.2.9"}
		if i%100 == 0 {
			e.Kind, e.UserID, e.Operator = "admin.unlock", u.ID, "cli:sam"
		}
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	code, out, errs := runCmd(t, vars, "audit", "list", "--user", strings.ToUpper(helpdeskEmail), "--kind", "admin.unlock", "--limit", "5")
	if code != 0 || strings.Count(out, "admin.unlock") != 5 || strings.Contains(out, "login.failed") || !strings.Contains(out, "cli:sam") {
		t.Fatalf("audit list: %d %q\n%s", code, errs, out)
	}
	code, out, errs = runCmd(t, vars, "audit", "export")
	if code != 0 || strings.Count(out, "\n") != 2501 {
		t.Fatalf("export of everything: %d %q, %d lines, want 2501 (pages of 1000)", code, errs, strings.Count(out, "\n"))
	}
	first := map[string]any{}
	if err := json.Unmarshal([]byte(out[:strings.Index(out, "\n")]), &first); err != nil || first["kind"] == nil || first["time"] == nil {
		t.Errorf("first JSON line: %v %v", first, err)
	}
	code, out, errs = runCmd(t, vars, "audit", "export", "--format", "csv", "--operator", "cli:sam", "--since", "2026-11-30T09:10:00Z")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) != 1+19 || rows[0][2] != "kind" || rows[1][6] != "cli:sam" {
		t.Fatalf("csv export: %d %q %v, %d rows", code, errs, err, len(rows))
	}
	for _, bad := range [][]string{{"audit"}, {"audit", "delete"}, {"audit", "list", "--since", "yesterday"}, {"audit", "export", "--format", "xml"},
		{"audit", "list", "--limit", "0"}, {"audit", "list", "extra"}, {"audit", "list", "--user", "a@b", "--sub", "x"}} {
		if code, _, errs := runCmd(t, vars, bad...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d %q, want a usage error", bad, code, errs)
		}
	}
	if code, _, errs := runCmd(t, vars, "audit", "list", "--user", "nobody@example.org"); code != 1 || !strings.Contains(errs, "no user") {
		t.Errorf("unknown user: %d %q", code, errs)
	}
}
