// Package idp holds no code: this directory is the module's root. Its one test keeps
// the import rules of every package of the module (imports_test.go).
package idp

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/councilforms/idp"

// importRule is what one package's code (not its tests, which may reach further to
// drive real parts) may import.
type importRule struct {
	pkg string // path inside the module
	// project: the module's packages it may import directly. A pattern is a path,
	// or ends in "/..." to match that path and everything under it.
	project []string
	// external: the packages outside the standard library it may import directly
	// (patterns as above).
	external []string
	// never: packages it must not reach at all, directly or through others (its
	// Deps). A package it may not import directly but reaches through a neighbour
	// (app and web reach the OIDC library through idp/provider) is kept out by the
	// two lists above, not here.
	never []string
	// tests, when set, are what the package's tests may import besides project and
	// external; then its tests' imports are checked too. Most packages leave it nil:
	// their tests may drive real parts from anywhere.
	tests []string
	why   string
}

// Backends and their drivers, the protocol library, the page stack: what most
// packages must not reach. (database/sql is not among the drivers: the Prometheus
// collectors reach it, for their database statistics collector.)
var (
	storeBackends = []string{module + "/store/memory", module + "/store/postgres", module + "/store/redis", module + "/store/sqlite", module + "/store/storetest",
		"github.com/jackc/pgx/...", "github.com/redis/go-redis/...", "modernc.org/sqlite/..."}
	protocol   = []string{"github.com/zitadel/oidc/..."}
	pages      = []string{"net/http", "html/template", module + "/ui"}
	vonage     = []string{module + "/factors/vonage/..."}
	everything = []string{module + "/..."}
	prom       = "github.com/prometheus/client_golang/prometheus"
)

func join(lists ...[]string) []string { return slices.Concat(lists...) }

// importRules: one entry per package. The layers run cmd -> idp -> factors -> store,
// ui (TestImportRules checks the direction of every import besides); within a layer
// the entries say which neighbours a package may use.
var importRules = []importRule{
	// cmd: mains are wiring.
	{pkg: "cmd/idp", project: []string{"cmd/formapp/formapp", "idp/admin", "idp/support", "idp/app", "idp/config", "idp/cost", "idp/journey", "idp/migrate", "idp/provider", "factors", "factors/email", "factors/messages", "factors/phone", "store"},
		why: "the idp command runs the app and its admin commands; backends are the app's choice"},
	{pkg: "cmd/idp-bench", project: []string{"idp/app", "idp/config", "idp/limits", "idp/password", "idp/webtest/sim", "ui"},
		external: []string{"github.com/jackc/pgx/v5/...", "github.com/redis/go-redis/v9", "golang.org/x/oauth2/..."},
		why:      "the load driver starts the idp and measures it from outside, as a form app and a browser"},
	{pkg: "cmd/formapp", project: []string{"cmd/formapp/formapp"}, why: "main of the demo form app"},
	{pkg: "cmd/formapp/formapp", project: []string{"ui"}, external: []string{"github.com/coreos/go-oidc/v3/...", "golang.org/x/oauth2/..."},
		never: join([]string{module + "/idp/...", module + "/store/...", module + "/factors/..."}, protocol),
		// Its tests sign test ID tokens, drive a browser, and run the project's
		// provider with a stand-in for its login pages.
		tests: []string{"github.com/go-jose/go-jose/v4/...", "cmd/formapp/formapp/formapptest", "idp/webtest",
			"idp/provider", "idp/password", "store", "store/memory", "store/sqlite"},
		why: "the demo form app is a plain OpenID Connect client: standard libraries and the GOV.UK assets of ui"},
	{pkg: "cmd/formapp/formapp/formapptest", project: []string{"idp/webtest"}, external: []string{"github.com/chromedp/..."},
		why: "browser steps for the form app's tests"},
	{pkg: "deploy", why: "tests of the deployment files only"},

	// idp: the identity provider.
	{pkg: "idp/app", project: []string{"idp/...", "factors/...", "store/...", "ui", "ui/locale"}, external: []string{prom, "github.com/KimMachineGun/automemlimit/memlimit"},
		never: []string{module + "/idp/webtest", module + "/store/storetest", module + "/factors/vonage/vonagetest", module + "/factors/email/smtptest"},
		why:   "app is the wiring: it chooses backends and providers; the protocol library stays in idp/provider"},
	{pkg: "idp/config", project: []string{"idp/cost", "idp/limits", "factors/b2c", "factors/email", "factors/phone", "factors/vonage"},
		never: join(storeBackends, protocol, []string{module + "/ui"}),
		why:   "settings are read and checked once; the factors check their own settings' shapes"},
	{pkg: "idp/faults", why: "the fault suite is tests only; it runs the built binary"},
	{pkg: "idp/cost", project: []string{"store"}, never: join(storeBackends, protocol, []string{"net", "net/http", "database/sql"}),
		why: "the cost report is pure arithmetic over the daily counts, in integer millipence: no I/O, no clock"},
	{pkg: "idp/amr", never: []string{"net", "os", "database/sql"}, why: "what a sign-in proves: constants and the acr rule, pure"},
	{pkg: "idp/journey", project: []string{"factors", "factors/otp", "factors/phone", "idp/amr", "idp/limits"},
		never: join(storeBackends, protocol, pages, vonage, []string{module + "/store", module + "/idp/password", "database/sql", "net", "os/exec", "github.com/prometheus/..."}),
		why:   "the journey is a pure state machine: no I/O, no store (it asks its caller), no pages, no provider"},
	{pkg: "idp/migrate", project: []string{"factors/phone", "idp/journey", "store"},
		never: join(storeBackends, protocol, []string{"html/template", module + "/ui", module + "/idp/web", module + "/idp/provider"}),
		tests: []string{"idp/migrate/graphtest", "store/postgres", "store/sqlite", "store/storetest"},
		why:   "imports and exports accounts over store.Users: the B2C and export formats and the import rules; no backend, no pages"},
	{pkg: "idp/migrate/graphtest", project: []string{"idp/migrate"},
		why: "generated B2C tenants and a strict fake of Microsoft Graph for tests"},
	{pkg: "idp/limits", never: []string{"net/http", "net", "os", "database/sql"},
		why: "limits are pure rules: the standard library only, no I/O"},
	{pkg: "idp/admin", project: []string{"idp/support", "idp/provider", "idp/cost", "idp/journey", "idp/server", "factors", "factors/messages", "store", "ui"},
		external: []string{"github.com/coreos/go-oidc/v3/oidc", "golang.org/x/oauth2"},
		never:    join(storeBackends, vonage, []string{module + "/idp/web"}),
		why:      "the operators' console is an OIDC client of the idp (go-oidc, over the idp's handler in process) and acts through the store's interfaces and idp/support, as the CLI does (the provider only for its admin operations on form apps and signing keys, as idp clients and idp keys use them); never the login pages or a backend"},
	{pkg: "idp/support", project: []string{"idp/journey", "idp/provider", "factors", "factors/messages", "store", "ui/locale"},
		never: join(storeBackends, []string{module + "/ui", module + "/idp/web"}),
		why:   "what operators do to people's accounts and the audit export, shared by the CLI and the console: the store's interfaces, no pages (the language codes of ui/locale, for the person's notice)"},
	{pkg: "idp/password", external: []string{"golang.org/x/crypto/argon2", prom},
		never: join(storeBackends, []string{module + "/store"}, protocol),
		why:   "hashing and the password rule take and give strings; they never see the store"},
	{pkg: "idp/provider", project: []string{"idp/amr", "idp/limits", "idp/server", "store", "store/outbox"},
		external: []string{"github.com/zitadel/oidc/v3/pkg/...", "github.com/go-jose/go-jose/v4/...", "github.com/rs/cors", "go.yaml.in/yaml/v3", "golang.org/x/text/language", prom},
		never:    join(storeBackends, []string{module + "/ui", module + "/factors/...", module + "/idp/journey", module + "/idp/web"}),
		why:      "the provider adapts the OIDC library to the store: no pages, journeys, factors or backends"},
	{pkg: "idp/sendguard", project: []string{"factors", "factors/phone", "idp/limits", "store"}, external: []string{prom},
		never: join(storeBackends, protocol, vonage, []string{module + "/ui", module + "/idp/web"}),
		why:   "the last check before any text or call leaves: allowed numbers and the daily ceiling, over the store's counters"},
	{pkg: "idp/server", external: []string{prom + "/..."},
		never: join(storeBackends, protocol, everything),
		why:   "HTTP plumbing (listeners, middleware, health) knows no other package of the module"},
	{pkg: "idp/web", project: []string{"idp/journey", "idp/limits", "idp/password", "idp/provider", "idp/server", "factors", "factors/messages", "factors/phone", "store", "ui", "ui/locale"},
		external: []string{prom},
		never:    join(storeBackends, vonage),
		why:      "the login pages drive the journey over the store's interfaces; never a backend, a provider of messages or the OIDC library"},
	{pkg: "idp/webtest/sim", external: []string{"github.com/coreos/go-oidc/v3/oidc", "golang.org/x/net/html", "golang.org/x/oauth2"},
		never: everything,
		why:   "the simulated browser, dev-inbox client, relying party and clock of the tests and the load driver know no package of the module"},
	{pkg: "internal/testsummary", never: everything, why: "make test's one-line count of go test -json; it knows nothing of the idp"},
	{pkg: "idp/webtest", external: []string{"github.com/chromedp/..."},
		never: everything,
		why:   "the real browser for tests knows no package of the module"},

	// factors: how a person proves something, and how messages reach them.
	{pkg: "factors", never: everything, why: "the factors' shared vocabulary (channels, call results, errors)"},
	{pkg: "factors/b2c", external: []string{"github.com/go-jose/go-jose/v4/..."},
		never: join(storeBackends, protocol, []string{module + "/store", module + "/idp/...", module + "/ui"}),
		why:   "the check of a migrating password against Azure AD B2C's ROPC user flow: strings in, accepted or refused out"},
	{pkg: "factors/b2c/b2ctest", external: []string{"github.com/go-jose/go-jose/v4/..."}, never: everything,
		why: "a strict fake of B2C's ROPC user flow for tests"},
	{pkg: "factors/dev", project: []string{"factors", "factors/phone", "store"},
		never: join(storeBackends, protocol, []string{module + "/idp/...", module + "/ui"}),
		why:   "the dev inbox knows the store's interfaces only, and nothing of journeys or pages"},
	{pkg: "factors/email", project: []string{"factors", "store", "store/outbox"},
		external: []string{prom, "github.com/emersion/go-sasl"},
		never:    join(storeBackends, protocol, []string{module + "/ui", module + "/idp/..."}),
		why:      "email delivery works from the durable outbox over the store's interfaces"},
	{pkg: "factors/email/smtptest", external: []string{"github.com/emersion/go-smtp"}, never: everything,
		why: "an SMTP relay for tests"},
	{pkg: "factors/messages", project: []string{"factors", "ui/locale"}, never: join(storeBackends, []string{module + "/idp/...", module + "/store"}),
		why: "the words of every email, text and call script, from its catalogue (the mechanism the pages use)"},
	{pkg: "factors/otp", never: join(everything, []string{"net"}), why: "codes and their hashes are pure"},
	{pkg: "factors/phone", external: []string{"github.com/nyaruka/phonenumbers", "golang.org/x/text/language/..."},
		never: join(everything, []string{"net/http"}),
		why:   "the phone rules import no other package of the module, the store included"},
	{pkg: "factors/vonage", project: []string{"factors", "factors/phone"},
		external: []string{"github.com/go-jose/go-jose/v4/...", prom},
		never:    join(storeBackends, protocol, []string{module + "/store", module + "/idp/...", module + "/ui"}),
		why:      "the Vonage client and webhooks; only it knows Vonage's API"},
	{pkg: "factors/vonage/vonagetest", project: []string{"factors", "factors/vonage"}, external: []string{"github.com/go-jose/go-jose/v4/..."},
		why: "a strict fake of Vonage for tests"},

	// store: the contracts and their backends; ui: pages and assets.
	{pkg: "store", never: join(everything, []string{"net/http", "database/sql"}), why: "the store's interfaces and records, no backend"},
	{pkg: "store/memory", project: []string{"store"}, never: []string{"net", "database/sql"}, why: "the in-process backend"},
	{pkg: "store/postgres", project: []string{"store"}, external: []string{"github.com/jackc/pgx/v5/..."}, why: "the PostgreSQL backend"},
	{pkg: "store/redis", project: []string{"store"}, external: []string{"github.com/redis/go-redis/v9"}, why: "the Redis backend"},
	{pkg: "store/sqlite", project: []string{"store"}, external: []string{"modernc.org/sqlite/..."}, why: "the SQLite backend"},
	{pkg: "store/outbox", project: []string{"store"}, external: []string{prom},
		never: storeBackends,
		why:   "the outbox's delivery loop (claim, retry, give up) for every channel; the channel delivers"},
	{pkg: "store/storetest", project: []string{"store"}, external: []string{"github.com/jackc/pgx/v5/...", "github.com/redis/go-redis/v9", "modernc.org/sqlite"},
		why: "the contract suites every backend runs, and the test services"},
	{pkg: "ui", project: []string{"ui/locale"}, external: []string{"golang.org/x/..."},
		never: join(storeBackends, []string{module + "/store", module + "/idp/...", module + "/factors/...", module + "/cmd/..."}),
		why:   "templates and assets hold no business rules and reach no storage"},
	{pkg: "ui/locale", external: []string{"golang.org/x/text/language"}, never: everything,
		why: "the message catalogue mechanism (pages and messages share it) is pure"},
}

// layer orders the module's top folders: a package imports only packages of its own
// layer or lower ones (a higher number). store and ui are both at the bottom and
// never import each other (the table says so).
func layer(pkg string) int {
	top, _, _ := strings.Cut(pkg, "/")
	switch top {
	case "cmd", "deploy":
		return 0
	case "idp":
		return 1
	case "factors":
		return 2
	case "store", "ui":
		return 3
	}
	return -1
}

type listedPackage struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Deps         []string
	Standard     bool
	Error        *struct{ Err string }
}

// listPackages is `go list -deps` of the whole module: its packages and everything
// they reach.
func listPackages(t *testing.T) map[string]listedPackage {
	t.Helper()
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		goCmd = "go"
	}
	cmd := exec.Command(goCmd, "list", "-e", "-deps", "-json=ImportPath,Imports,TestImports,XTestImports,Deps,Standard,Error", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	pkgs := map[string]listedPackage{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Error != nil {
			t.Errorf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// matches reports whether path is pattern, or under it when pattern ends in "/...".
func matches(path, pattern string) bool {
	if p, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == p || strings.HasPrefix(path, p+"/")
	}
	return path == pattern
}

func matchesAny(path string, patterns []string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return matches(path, p) })
}

// TestImportRules: every package of the module imports only what its row of
// importRules allows and reaches nothing its row forbids, in the direction of the
// layers; a new package needs a row.
func TestImportRules(t *testing.T) {
	pkgs := listPackages(t)
	rules := map[string]importRule{}
	for _, r := range importRules {
		if _, dup := rules[r.pkg]; dup {
			t.Errorf("two rules for %s", r.pkg)
		}
		rules[r.pkg] = r
	}
	seen := map[string]bool{}
	for path, p := range pkgs {
		rel, ok := strings.CutPrefix(path, module+"/")
		if !ok || p.Standard {
			continue // the root (this test) or a dependency
		}
		seen[rel] = true
		r, ok := rules[rel]
		if !ok {
			t.Errorf("%s has no import rule: add one to importRules in imports_test.go", rel)
			continue
		}
		t.Run(rel, func(t *testing.T) {
			for _, imp := range p.Imports {
				if dep, ok := pkgs[imp]; ok && dep.Standard {
					if matchesAny(imp, r.never) {
						t.Errorf("%s imports %s: %s", rel, imp, r.why)
					}
					continue
				}
				if impRel, ok := strings.CutPrefix(imp, module+"/"); ok {
					if !matchesAny(impRel, r.project) {
						t.Errorf("%s imports %s, which its rule does not list: %s", rel, impRel, r.why)
					}
					if layer(impRel) < layer(rel) {
						t.Errorf("%s imports %s, a layer above it (cmd -> idp -> factors -> store, ui)", rel, impRel)
					}
					continue
				}
				if !matchesAny(imp, r.external) {
					t.Errorf("%s imports %s, which its rule does not list: %s", rel, imp, r.why)
				}
			}
			for _, dep := range p.Deps {
				if dep != path && matchesAny(dep, r.never) {
					t.Errorf("%s reaches %s: %s", rel, dep, r.why)
				}
			}
			if r.tests == nil {
				return
			}
			for _, imp := range slices.Concat(p.TestImports, p.XTestImports) {
				// A test-only import need not be among the listed packages; the
				// standard library's paths have no dot in their first element.
				if first, _, _ := strings.Cut(imp, "/"); !strings.Contains(first, ".") || imp == path {
					continue
				}
				impRel, inModule := strings.CutPrefix(imp, module+"/")
				if inModule && !matchesAny(impRel, r.project) && !matchesAny(impRel, r.tests) ||
					!inModule && !matchesAny(imp, r.external) && !matchesAny(imp, r.tests) {
					t.Errorf("%s's tests import %s, which its rule does not list: %s", rel, imp, r.why)
				}
			}
		})
	}
	for _, r := range importRules {
		if !seen[r.pkg] {
			t.Errorf("importRules has a rule for %s, which is not a package of the module", r.pkg)
		}
	}
}

// The checker itself: a path matches a pattern exactly, or anything under a "/..."
// pattern; never a longer name that merely starts the same way.
func TestImportRuleMatching(t *testing.T) {
	for _, tc := range []struct {
		path, pattern string
		want          bool
	}{
		{"store", "store", true},
		{"store/sqlite", "store", false},
		{"store/sqlite", "store/...", true},
		{"store", "store/...", true},
		{"storetest", "store/...", false},
		{"github.com/zitadel/oidc/v3/pkg/op", "github.com/zitadel/oidc/...", true},
		{"github.com/councilforms/idp/idp/web", module + "/...", true},
		{"net", "net", true},
		{"net/netip", "net", false},
	} {
		if got := matches(tc.path, tc.pattern); got != tc.want {
			t.Errorf("matches(%q, %q) = %v", tc.path, tc.pattern, got)
		}
	}
}
