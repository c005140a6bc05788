package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// allowDrop is the comment a migration carries when it removes something the
// previous version no longer reads: the second step of a two-step change, a release
// after the first (RUNBOOK.md, Upgrade and rollback).
const allowDrop = "-- compatible: the previous version no longer reads this"

// incompatible are schema changes after which the previous version, still running
// during a rolling upgrade or after a rollback, fails on the new schema.
var incompatible = []struct {
	re   *regexp.Regexp
	why  string
	drop bool // allowed with allowDrop
}{
	{regexp.MustCompile(`(?is)^\s*DROP\s+(TABLE|VIEW|TYPE|SCHEMA|FUNCTION|SEQUENCE)\b`), "drops what the previous version may read", true},
	{regexp.MustCompile(`(?is)\bDROP\s+COLUMN\b`), "drops a column the previous version may read", true},
	{regexp.MustCompile(`(?is)\bRENAME\b`), "renames what the previous version reads by its old name", false},
	{regexp.MustCompile(`(?is)\bALTER\s+COLUMN\s+\S+\s+(SET\s+DATA\s+)?TYPE\b`), "changes a column's type under the previous version", false},
	{regexp.MustCompile(`(?is)\bALTER\s+COLUMN\s+\S+\s+SET\s+NOT\s+NULL\b`), "makes a column the previous version does not write required", false},
	{regexp.MustCompile(`(?is)^\s*TRUNCATE\b`), "empties a table", false},
}

var addColumn = regexp.MustCompile(`(?is)\bADD\s+(COLUMN\s+)?(\S+)\s+[^,]*`)

// Issue 18 item 6 (operators' finding 12: nothing on upgrade, rollback or schema
// compatibility): migrations only add, so two adjacent versions run on one schema
// during a rolling upgrade, and a rollback needs no restore. Each backend's
// migrations are numbered 0001 on without gaps; none drops, renames or retypes what
// the previous version reads, or adds a required column without a default (which
// the previous version's inserts would leave out).
func TestMigrationsOnlyAdd(t *testing.T) {
	comment := regexp.MustCompile(`--[^\n]*`)
	for _, backend := range []string{"postgres", "sqlite"} {
		files, err := filepath.Glob(filepath.Join("..", "store", backend, "migrations", "*.sql"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no migrations found: %v", backend, err)
		}
		for i, f := range files { // Glob sorts them
			name := filepath.Base(f)
			if want := fmt.Sprintf("%04d_", i+1); !strings.HasPrefix(name, want) {
				t.Errorf("%s: migration %s, want %s... (numbered from 0001 without gaps)", backend, name, want)
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			dropAllowed := strings.Contains(string(b), allowDrop)
			for _, stmt := range strings.Split(comment.ReplaceAllString(string(b), ""), ";") {
				stmt = strings.TrimSpace(stmt)
				if stmt == "" {
					continue
				}
				for _, rule := range incompatible {
					if rule.re.MatchString(stmt) && !(rule.drop && dropAllowed) {
						t.Errorf("%s/%s: %q %s", backend, name, firstLine(stmt), rule.why)
					}
				}
				if !regexp.MustCompile(`(?is)^\s*ALTER\s+TABLE\b`).MatchString(stmt) {
					continue
				}
				for _, m := range addColumn.FindAllString(stmt, -1) {
					up := strings.ToUpper(m)
					if strings.Contains(up, "NOT NULL") && !strings.Contains(up, "DEFAULT") {
						t.Errorf("%s/%s: %q adds a required column without a default: the previous version's inserts fail", backend, name, firstLine(m))
					}
				}
			}
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func TestMigrationRulesCatchIncompatibleChanges(t *testing.T) {
	for stmt, want := range map[string]bool{
		"DROP TABLE users":                                          true,
		"ALTER TABLE users DROP COLUMN phone":                       true,
		"ALTER TABLE users RENAME COLUMN phone TO mobile":           true,
		"ALTER TABLE users RENAME TO people":                        true,
		"ALTER TABLE users ALTER COLUMN phone TYPE bigint":          true,
		"ALTER TABLE users ALTER COLUMN phone SET NOT NULL":         true,
		"TRUNCATE audit":                                            true,
		"ALTER TABLE clients ADD COLUMN x text NOT NULL DEFAULT ''": false,
		"CREATE TABLE t (a text NOT NULL)":                          false,
		"CREATE INDEX users_email ON users (email)":                 false,
	} {
		got := false
		for _, rule := range incompatible {
			got = got || rule.re.MatchString(stmt)
		}
		if got != want {
			t.Errorf("%q: incompatible = %v, want %v", stmt, got, want)
		}
	}
	m := addColumn.FindString("ALTER TABLE clients ADD COLUMN x text NOT NULL")
	if up := strings.ToUpper(m); !strings.Contains(up, "NOT NULL") || strings.Contains(up, "DEFAULT") {
		t.Errorf("a required column without a default is not caught: %q", m)
	}
}
