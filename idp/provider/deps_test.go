package provider

import (
	"go/build"
	"strings"
	"testing"
)

// The provider must stay a protocol adapter: no pages, no journeys, no
// factors, and no particular store backend.
func TestImports(t *testing.T) {
	pkg, err := build.Default.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{
		"github.com/councilforms/idp/idp/web", "github.com/councilforms/idp/idp/journey",
		"github.com/councilforms/idp/factors", "github.com/councilforms/idp/ui",
		"github.com/councilforms/idp/store/memory", "github.com/councilforms/idp/store/postgres",
		"github.com/councilforms/idp/store/redis", "github.com/councilforms/idp/store/sqlite",
		"github.com/councilforms/idp/store/storetest", "github.com/jackc/pgx", "github.com/redis/go-redis", "modernc.org/sqlite",
	}
	for _, imp := range pkg.Imports {
		for _, f := range forbidden {
			if imp == f || strings.HasPrefix(imp, f+"/") || (strings.HasSuffix(f, "/") && strings.HasPrefix(imp, f)) {
				t.Errorf("provider imports %s", imp)
			}
		}
	}
}
