package formapp

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
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
	}
	// Tests may also sign test ID tokens and drive a browser.
	testOnly := []string{
		"github.com/go-jose/go-jose/v4",
		"github.com/councilforms/idp/cmd/formapp/formapp/formapptest",
		"github.com/councilforms/idp/idp/webtest",
		// The integration test runs the project's provider, with a stand-in
		// for its login pages.
		"github.com/councilforms/idp/idp/provider",
		"github.com/councilforms/idp/idp/password",
		"github.com/councilforms/idp/store",
		"github.com/councilforms/idp/store/memory",
		"github.com/councilforms/idp/store/sqlite",
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
			if strings.HasSuffix(f, "_test.go") && slices.Contains(testOnly, path) {
				ok = true
			}
			if !ok {
				t.Errorf("%s imports %s; the form app may use only standard OpenID Connect libraries and ui", f, path)
			}
		}
	}
}
