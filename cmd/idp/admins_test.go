package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/sqlite"
)

// Issue 18: the first owner of the operators' console is made with the CLI;
// grants and revokes are audited with the operator, and bad usage exits 2.
func TestAdminsCommands(t *testing.T) {
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
	u := seedHelpdeskUser(t, s, fakeHash)
	if code, out, errs := runCmd(t, vars, "admins", "list"); code != 0 || !strings.Contains(out, "no operators") || !strings.Contains(out, "idp admins grant EMAIL owner") {
		t.Fatalf("list with none: %d %q %q", code, out, errs)
	}
	// Another owner, so that the helpdesk user's role owner can be revoked.
	kim := &store.User{ID: "user-kim", Email: "kim@example.org", EmailVerified: true, Status: store.UserActive, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := s.CreateUser(ctx, kim); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GrantRole(ctx, &store.AdminRole{UserID: kim.ID, Role: "owner", GrantedBy: "cli:test", GrantedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	code, out, errs := runCmd(t, vars, "admins", "grant", strings.ToLower(helpdeskEmail), "owner", "--operator", "root")
	if code != 0 || !strings.Contains(out, helpdeskEmail+" now holds the role owner") {
		t.Fatalf("grant: %d %q %q", code, out, errs)
	}
	if code, out, _ := runCmd(t, vars, "admins", "grant", helpdeskEmail, "owner"); code != 0 || !strings.Contains(out, "already holds the role owner; nothing changed") {
		t.Errorf("second grant: %d %q", code, out)
	}
	if code, out, _ := runCmd(t, vars, "admins", "grant", helpdeskEmail, "support", "--operator=root", "--reason", "joined the helpdesk"); code != 0 {
		t.Errorf("grant support: %d %q", code, out)
	}
	code, out, _ = runCmd(t, vars, "admins", "list")
	if code != 0 || !strings.Contains(out, "EMAIL") || strings.Count(out, helpdeskEmail) != 2 || !strings.Contains(out, "cli:root") {
		t.Errorf("list: %d\n%s", code, out)
	}
	code, out, _ = runCmd(t, vars, "admins", "revoke", helpdeskEmail, "owner", "--operator", "root")
	if code != 0 || !strings.Contains(out, "no longer holds the role owner") {
		t.Errorf("revoke: %d %q", code, out)
	}
	if code, out, _ := runCmd(t, vars, "admins", "revoke", helpdeskEmail, "owner"); code != 0 || !strings.Contains(out, "does not hold the role owner; nothing changed") {
		t.Errorf("second revoke: %d %q", code, out)
	}
	if code, out, errs := runCmd(t, vars, "admins", "revoke", kim.Email, "owner", "--operator", "root"); code == 0 || !strings.Contains(errs, "kim@example.org is the last owner: grant the role owner to someone else first") {
		t.Errorf("revoking the last owner: %d %q %q", code, out, errs)
	}

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	roles, err := s.RolesOf(ctx, u.ID)
	if err != nil || len(roles) != 1 || roles[0] != "support" {
		t.Errorf("roles held: %v %v", roles, err)
	}
	es, err := s.QueryAudit(ctx, store.AuditFilter{UserID: u.ID, Operator: "cli:root"})
	if err != nil || len(es) != 3 || es[0].Kind != "admin.role_revoked" || es[2].Kind != "admin.role_granted" || es[1].Reason != "joined the helpdesk" {
		t.Errorf("audit events by cli:root: %+v %v", es, err)
	}

	for _, bad := range [][]string{{"admins"}, {"admins", "promote"}, {"admins", "grant", helpdeskEmail}, {"admins", "grant", helpdeskEmail, "superuser"},
		{"admins", "revoke", "--x", "owner"}, {"admins", "list", "extra"}, {"admins", "grant", helpdeskEmail, "owner", "--operator"}, {"admins", "grant", helpdeskEmail, "owner", "--reason="}} {
		if code, _, errs := runCmd(t, vars, bad...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d %q, want 2 and a message", bad, code, errs)
		}
	}
	if code, _, errs := runCmd(t, vars, "admins", "grant", "nobody@example.org", "owner"); code != 1 || !strings.Contains(errs, "no user with email") {
		t.Errorf("grant to no account: %d %q", code, errs)
	}
}
