package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSecurityTableNamesRealTests reads the OWASP ASVS table in SECURITY.md and checks
// that every test it cites ("`idp/app: TestName`", or several names after one package)
// is a test function in that package directory, so the table cannot name a test that
// was renamed, moved or never written. It also keeps the table's shape: one row per
// requirement of V6, V7 or V10, a known status, and a test for every "yes" or
// "partly" outside the documentation sections (V6.1, V7.1).
func TestSecurityTableNamesRealTests(t *testing.T) {
	raw, err := os.ReadFile("../SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := asvsRows(string(raw))
	if err != nil {
		t.Error(err) // and check the rows that could be read
	}
	if len(rows) < 10 {
		t.Fatalf("the ASVS table has %d rows; the parser no longer finds it", len(rows))
	}
	cited, missing := 0, 0
	for _, r := range rows {
		for _, ref := range r.tests {
			cited++
			if err := testExists("..", ref.pkg, ref.name); err != nil {
				missing++
				t.Errorf("SECURITY.md, ASVS %s cites `%s: %s`: %v", r.id, ref.pkg, ref.name, err)
			}
		}
	}
	if cited == 0 {
		t.Fatal("the ASVS table cites no tests")
	}
	t.Logf("%d rows, %d test citations, %d missing", len(rows), cited, missing)
}

type asvsRow struct {
	id, status string
	tests      []testRef
}

type testRef struct{ pkg, name string }

var (
	asvsID      = regexp.MustCompile(`^(6|7|10)\.\d+\.\d+$`)
	backtickRe  = regexp.MustCompile("`([^`]*)`")
	testRefRe   = regexp.MustCompile(`^([a-z0-9_][a-z0-9_./-]*): (Test\w+(?:, Test\w+)*)$`)
	asvsHeading = "## OWASP ASVS 5.0"
)

// asvsRows parses the table of the section asvsHeading. Columns are found by their
// headings (ASVS, Status, Tests), so others may be added or moved.
func asvsRows(doc string) ([]asvsRow, error) {
	start := strings.Index(doc, "\n"+asvsHeading+"\n")
	if start < 0 {
		return nil, fmt.Errorf("SECURITY.md has no %q section", asvsHeading)
	}
	section := doc[start+len(asvsHeading)+2:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var table []string
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "|") {
			table = append(table, line)
		} else if len(table) > 0 {
			break // the first table only
		}
	}
	if len(table) < 3 {
		return nil, fmt.Errorf("the %q section has no table", asvsHeading)
	}
	cells := func(line string) []string {
		parts := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts
	}
	head := cells(table[0])
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, h := range []string{"ASVS", "Status", "Tests"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("the ASVS table has no %q column (columns: %q)", h, head)
		}
	}
	seen := map[string]bool{}
	var rows []asvsRow
	var errs []string
	for _, line := range table[2:] {
		c := cells(line)
		if len(c) != len(head) {
			errs = append(errs, fmt.Sprintf("row %q has %d cells, the heading %d (a | inside a cell?)", line, len(c), len(head)))
			continue
		}
		r := asvsRow{id: c[col["ASVS"]], status: c[col["Status"]]}
		switch {
		case !asvsID.MatchString(r.id):
			errs = append(errs, fmt.Sprintf("%q is not a requirement of V6, V7 or V10", r.id))
		case seen[r.id]:
			errs = append(errs, fmt.Sprintf("requirement %s has two rows", r.id))
		}
		seen[r.id] = true
		if r.status != "yes" && r.status != "partly" && r.status != "not yet" {
			errs = append(errs, fmt.Sprintf("%s: status %q is not yes, partly or not yet", r.id, r.status))
		}
		for _, m := range backtickRe.FindAllStringSubmatch(c[col["Tests"]], -1) {
			ref := testRefRe.FindStringSubmatch(m[1])
			if ref == nil {
				errs = append(errs, fmt.Sprintf("%s: `%s` is not `package/dir: TestName[, TestName...]`", r.id, m[1]))
				continue
			}
			for _, name := range strings.Split(ref[2], ", ") {
				r.tests = append(r.tests, testRef{pkg: ref[1], name: name})
			}
		}
		documentation := strings.HasPrefix(r.id, "6.1.") || strings.HasPrefix(r.id, "7.1.")
		if len(r.tests) == 0 && r.status != "not yet" && !documentation {
			errs = append(errs, fmt.Sprintf("%s is %q but names no test: cite one or mark it not yet", r.id, r.status))
		}
		rows = append(rows, r)
	}
	if len(errs) > 0 {
		return rows, fmt.Errorf("the ASVS table:\n%s", strings.Join(errs, "\n"))
	}
	return rows, nil
}

// testExists reports whether a _test.go file of the package directory pkg (relative to
// the module root root) declares func name(.
func testExists(root, pkg, name string) error {
	dir := filepath.Join(root, filepath.FromSlash(pkg))
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("no package directory %s", pkg)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return err
	}
	decl := regexp.MustCompile(`(?m)^func ` + regexp.QuoteMeta(name) + `\(`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if decl.Match(b) {
			return nil
		}
	}
	return fmt.Errorf("no func %s( in %s/*_test.go", name, pkg)
}
