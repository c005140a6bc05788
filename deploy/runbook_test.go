package deploy_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Issue 18 item 6: the runbook covers what an operator must be able to do, and
// names the commands and settings the idp has (a renamed command or setting fails
// here), and the programs the restore test runs.
func TestRunbookCoversOperations(t *testing.T) {
	b, err := os.ReadFile("RUNBOOK.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var headings []string
	for _, line := range strings.Split(doc, "\n") {
		if h, ok := strings.CutPrefix(line, "#"); ok {
			headings = append(headings, strings.TrimSpace(strings.TrimLeft(h, "#")))
		}
	}
	for _, want := range []string{
		"Backup and restore", "PostgreSQL", "Point-in-time recovery", "SQLite (embedded mode)",
		"Upgrade and rollback", "Key rotation", "SMS ceiling hit", "Vonage down", "Redis lost",
	} {
		if !slices.Contains(headings, want) {
			t.Errorf("RUNBOOK.md has no section %q", want)
		}
	}
	for _, want := range []string{
		"pg_dump --format=custom", "pg_restore", "createdb", "IDP_KEY_ENCRYPTION_KEY", "key-encryption-key",
		"idp migrate", "idp keys rotate", "--alg ES256", "idp version", "idp_build_info",
		"IDP_SEND_DAILY_CEILING", "idp_send_share_count", "idp_send_ceiling_refused_total",
		"IDP_TRUSTED_PROXIES", "TestRestoredBackupSignsExistingPersonIn",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("RUNBOOK.md does not mention %q", want)
		}
	}
	// The restore test it cites exists and runs the programs it tells operators to.
	test, err := os.ReadFile("../idp/faults/restore_test.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"func TestRestoredBackupSignsExistingPersonIn(", `"pg_dump", "--format=custom"`, `"pg_restore"`} {
		if !strings.Contains(string(test), want) {
			t.Errorf("idp/faults/restore_test.go lacks %s: the runbook's restore is not what is tested", want)
		}
	}
	// Every IDP_ setting it names is one the idp documents in its configuration table.
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("IDP_[A-Z0-9_]+").FindAllString(doc, -1) {
		if !strings.Contains(string(readme), "`"+m+"`") {
			t.Errorf("RUNBOOK.md names %s, which the README's configuration does not", m)
		}
	}
}
