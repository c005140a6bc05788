package main

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/councilforms/idp/idp/app"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/sqlite"
)

// Issue 18: keys rotate --emergency withdraws the current key at once, says
// what that means for form apps, and is audited with the operator.
func TestKeysRotateEmergency(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "idp.db")
	vars := map[string]string{"IDP_DATABASE_URL": "sqlite:" + db}
	if err := os.WriteFile(filepath.Join(dir, app.KeyFileName), []byte(base64.StdEncoding.EncodeToString(make([]byte, 32))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCmd(t, vars, "keys", "rotate"); code != 0 {
		t.Fatalf("first rotate: %d %q", code, errs)
	}
	code, out, _ := runCmd(t, vars, "keys", "list")
	rsActive := ""
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[1] == "RS256" && f[2] == "active" {
			rsActive = f[0]
		}
	}
	if code != 0 || rsActive == "" {
		t.Fatalf("keys list: %d %q", code, out)
	}

	code, out, errs := runCmd(t, vars, "keys", "rotate", "--emergency", "--alg", "RS256", "--operator", "sam")
	if code != 0 || !strings.Contains(out, "RS256 signing key "+rsActive+" is withdrawn") || !strings.Contains(out, "signs from now") ||
		!strings.Contains(out, "must fetch JWKS again") || strings.Contains(out, "ES256") {
		t.Fatalf("rotate --emergency: %d %q\n%s", code, errs, out)
	}
	code, out, _ = runCmd(t, vars, "keys", "list")
	states := map[string]string{}
	active := 0
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[1] == "RS256" {
			states[f[0]] = f[2]
			if f[2] == "active" {
				active++
			}
		}
	}
	if code != 0 || states[rsActive] != "expired" || active != 1 {
		t.Fatalf("keys list after the emergency: %d %v\n%s", code, states, out)
	}

	s, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	es, err := s.QueryAudit(context.Background(), store.AuditFilter{Kind: "key.rotated_emergency"})
	if err != nil || len(es) != 1 || es[0].Operator != "cli:sam" || !strings.Contains(es[0].Detail, rsActive) {
		t.Fatalf("audit of the emergency rotation: %+v %v", es, err)
	}
	for _, bad := range [][]string{{"keys", "rotate", "--emergency", "--alg", "HS256"}, {"keys", "rotate", "--emergency=maybe"}, {"keys", "rotate", "--emergency", "now"}} {
		if code, _, errs := runCmd(t, vars, bad...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d %q, want a usage error", bad, code, errs)
		}
	}
}
