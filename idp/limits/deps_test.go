package limits_test

import (
	"go/build"
	"strings"
	"testing"
)

// The package is pure: the standard library only, and no I/O packages of it.
func TestImports(t *testing.T) {
	pkg, err := build.Default.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		first, _, _ := strings.Cut(imp, "/")
		switch {
		case strings.Contains(first, "."):
			t.Errorf("limits imports %s: only the standard library is allowed", imp)
		case imp == "net/http", strings.HasPrefix(imp, "net/http/"), imp == "database/sql", imp == "os", imp == "net":
			t.Errorf("limits imports %s: it does no I/O", imp)
		}
	}
}
