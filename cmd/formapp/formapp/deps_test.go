package formapp

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The form app is a plain OpenID Connect client: it must not reach into the
// provider's packages (idp/..., store, factors). Its only project import is
// ui, for the GOV.UK Frontend assets.
func TestImportsOnlyStandardOIDC(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{
		"github.com/coreos/go-oidc/v3/",
		"golang.org/x/oauth2",
		"github.com/councilforms/idp/ui",
		"github.com/go-jose/go-jose/v4", // tests only: signing test ID tokens
	}
	for _, f := range files {
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !strings.Contains(strings.Split(path, "/")[0], ".") {
				continue // standard library
			}
			ok := false
			for _, a := range allowed {
				if path == strings.TrimSuffix(a, "/") || strings.HasPrefix(path, a) {
					ok = true
				}
			}
			if strings.HasPrefix(path, "github.com/go-jose/") && !strings.HasSuffix(f, "_test.go") {
				ok = false
			}
			if !ok {
				t.Errorf("%s imports %s; the form app may use only standard OpenID Connect libraries and ui", f, path)
			}
		}
	}
}
