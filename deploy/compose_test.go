package deploy_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/councilforms/idp/cmd/formapp/formapp"
	"github.com/councilforms/idp/factors/dev"
	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/provider"
)

// compose is the part of the Compose file format the checks read.
type compose struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

type service struct {
	Image       string                    `yaml:"image"`
	Build       any                       `yaml:"build"`
	Command     []string                  `yaml:"command"`
	Environment map[string]string         `yaml:"environment"`
	Volumes     []string                  `yaml:"volumes"`
	Ports       []string                  `yaml:"ports"`
	DependsOn   map[string]map[string]any `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

func readCompose(t *testing.T) compose {
	t.Helper()
	b, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

// exampleEnv reads deploy/example.env (KEY=value lines), as docker compose
// reads .env.
func exampleEnv(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("example.env")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("example.env: line %q is not KEY=value", line)
		}
		env[k] = v
	}
	return env
}

var interpolation = regexp.MustCompile(`\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}`)

// interpolate substitutes ${VAR}, ${VAR:-default}, ${VAR-default} and
// ${VAR:?message} as docker compose does.
func interpolate(t *testing.T, s string, env map[string]string) string {
	t.Helper()
	return interpolation.ReplaceAllStringFunc(s, func(m string) string {
		g := interpolation.FindStringSubmatch(m)
		v, set := env[g[1]]
		switch g[2] {
		case ":-":
			if v == "" {
				return g[3]
			}
		case "-":
			if !set {
				return g[3]
			}
		case ":?", "?":
			if v == "" {
				t.Errorf("%s is required by docker-compose.yml (%s) but deploy/example.env does not set it", g[1], g[3])
			}
		}
		return v
	})
}

// serviceEnv is a service's environment as the container sees it, with
// files mounted from the repository mapped back to their paths here.
func serviceEnv(t *testing.T, s service, env map[string]string) func(string) string {
	t.Helper()
	mounts := map[string]string{}
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && strings.HasPrefix(parts[0], "./") {
			mounts[parts[1]] = filepath.Join("..", parts[0])
		}
	}
	out := map[string]string{}
	for k, v := range s.Environment {
		v = interpolate(t, v, env)
		if local, ok := mounts[v]; ok {
			v = local
		}
		out[k] = v
	}
	return func(k string) string { return out[k] }
}

func TestComposeServicesAndHealth(t *testing.T) {
	c := readCompose(t)
	var names []string
	for n := range c.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	if want := []string{"formapp", "idp", "mailpit", "postgres", "redis"}; !slices.Equal(names, want) {
		t.Fatalf("services = %v, want %v", names, want)
	}
	for name, s := range c.Services {
		if s.Healthcheck == nil || len(s.Healthcheck.Test) < 2 || (s.Healthcheck.Test[0] != "CMD" && s.Healthcheck.Test[0] != "CMD-SHELL") {
			t.Errorf("%s: no health check (want test: [CMD, ...] or [CMD-SHELL, ...])", name)
		}
		for dep, opts := range s.DependsOn {
			d, ok := c.Services[dep]
			if !ok {
				t.Errorf("%s depends on unknown service %s", name, dep)
				continue
			}
			if opts["condition"] != "service_healthy" {
				t.Errorf("%s depends on %s with condition %v, want service_healthy", name, dep, opts["condition"])
			}
			if d.Healthcheck == nil {
				t.Errorf("%s waits for %s to be healthy, but %s has no health check", name, dep, dep)
			}
		}
	}
	wantDeps := map[string][]string{"idp": {"mailpit", "postgres", "redis"}, "formapp": {"idp"}}
	for name, want := range wantDeps {
		var got []string
		for dep := range c.Services[name].DependsOn {
			got = append(got, dep)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s depends on %v, want %v", name, got, want)
		}
	}
	checks := map[string]string{
		"postgres": "pg_isready",
		"redis":    "redis-cli ping",
		"idp":      "/usr/local/bin/idp healthcheck",
		"formapp":  "/usr/local/bin/formapp healthcheck",
		"mailpit":  "/mailpit readyz",
	}
	for name, want := range checks {
		if got := strings.Join(c.Services[name].Healthcheck.Test[1:], " "); !strings.Contains(got, want) {
			t.Errorf("%s health check %q, want it to run %q", name, got, want)
		}
	}
	images := map[string]string{"postgres": "postgres:16", "redis": "redis:7", "mailpit": "axllent/mailpit"}
	for name, want := range images {
		if !strings.HasPrefix(c.Services[name].Image, want) {
			t.Errorf("%s image %q, want %s", name, c.Services[name].Image, want)
		}
	}
	// Published on the host's loopback only: the dev inbox and Mailpit show every
	// code, and the issuer is http://localhost anyway.
	ports := map[string]string{"idp": "127.0.0.1:8080:8080", "formapp": "127.0.0.1:8081:8081", "mailpit": "127.0.0.1:8025:8025"}
	for name, want := range ports {
		if !slices.Contains(c.Services[name].Ports, want) {
			t.Errorf("%s ports %v, want %s published", name, c.Services[name].Ports, want)
		}
	}
	for name, s := range c.Services {
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes %q on every interface of the host, want 127.0.0.1:...", name, p)
			}
		}
	}
	for _, name := range []string{"idp", "formapp"} {
		s := c.Services[name]
		if s.Build == nil || s.Image != c.Services["idp"].Image {
			t.Errorf("%s: want built from the Dockerfile as the one image %q", name, c.Services["idp"].Image)
		}
	}
	if got := c.Services["idp"].Command; !slices.Equal(got, []string{"/usr/local/bin/idp", "serve"}) {
		t.Errorf("idp command %v", got)
	}
	if got := c.Services["formapp"].Command; !slices.Equal(got, []string{"/usr/local/bin/formapp"}) {
		t.Errorf("formapp command %v", got)
	}
}

// The idp's environment in the compose file is one the idp accepts, and
// selects PostgreSQL, Redis and SMTP to Mailpit.
func TestComposeIdPConfiguration(t *testing.T) {
	c := readCompose(t)
	env := exampleEnv(t)
	idp := c.Services["idp"]
	getenv := serviceEnv(t, idp, env)
	cfg, err := config.Load(nil, getenv)
	if err != nil {
		t.Fatalf("the idp refuses the compose configuration: %v", err)
	}
	if cfg.DatabaseKind != config.DatabasePostgres || !strings.Contains(cfg.DatabaseURL, "@postgres:5432/") {
		t.Errorf("database %s %q, want the postgres service", cfg.DatabaseKind, cfg.DatabaseURL)
	}
	if cfg.RedisURL != "redis://redis:6379/0" {
		t.Errorf("redis %q, want the redis service", cfg.RedisURL)
	}
	if cfg.Issuer != "http://localhost:8080" || cfg.Addr != ":8080" {
		t.Errorf("issuer %q addr %q", cfg.Issuer, cfg.Addr)
	}
	if cfg.ClientsFile == "" {
		t.Error("no clients file: the form app would not be registered")
	}
	// Development mode is accepted (the issuer is localhost), and the dev inbox
	// answers a browser on the host, which Docker forwards from the bridge
	// network's gateway rather than from loopback.
	if !cfg.Dev {
		t.Error("the compose stack is not in development mode: texts and calls would need Vonage")
	}
	for _, gateway := range []string{"172.17.0.1", "172.18.0.1", "172.31.0.1", "192.168.16.1"} {
		if !dev.PeerAllowed(gateway+":50000", cfg.DevPeers) {
			t.Errorf("the dev inbox would refuse a browser on the host forwarded from %s (IDP_DEV_PEERS %v)", gateway, cfg.DevPeers)
		}
	}
	if getenv("IDP_SMTP_URL") != "smtp://mailpit:1025?tls=none" {
		t.Errorf("IDP_SMTP_URL = %q, want Mailpit's SMTP port", getenv("IDP_SMTP_URL"))
	}

	// Every IDP_ variable set must be one the idp knows (its settings table)
	// and one README.md's configuration table documents.
	known := map[string]bool{}
	for _, s := range config.Settings {
		known[s.Env] = true
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatalf("read the README's configuration table: %v", err)
	}
	for k := range idp.Environment {
		if !known[k] {
			t.Errorf("docker-compose.yml sets %s, which the idp does not read", k)
		} else if !strings.Contains(string(readme), "`"+k+"`") {
			t.Errorf("docker-compose.yml sets %s, which README.md's configuration table does not document", k)
		}
	}
}

// testClientSecrets hashes secrets as the idp does: the clients file is read
// by the idp's own loader, which hashes them as it goes.
func testClientSecrets(t *testing.T) *provider.ClientSecrets {
	t.Helper()
	s, err := provider.NewClientSecrets(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The form app's environment is one it accepts, and the client it presents
// is registered in the clients file with exactly its redirect URIs.
func TestComposeFormAppIsARegisteredClient(t *testing.T) {
	c := readCompose(t)
	env := exampleEnv(t)
	cfg, err := formapp.ConfigFromEnv(serviceEnv(t, c.Services["formapp"], env))
	if err != nil {
		t.Fatalf("the form app refuses the compose configuration: %v", err)
	}
	idpEnv := serviceEnv(t, c.Services["idp"], env)
	if cfg.Issuer != idpEnv("IDP_ISSUER") {
		t.Errorf("form app issuer %q, idp issuer %q", cfg.Issuer, idpEnv("IDP_ISSUER"))
	}
	if cfg.BackchannelURL != "http://idp:8080" {
		t.Errorf("form app back channel %q, want http://idp:8080 (localhost inside its container is itself)", cfg.BackchannelURL)
	}
	clients, err := provider.LoadClientsFile(idpEnv("IDP_CLIENTS_FILE"), idpEnv, testClientSecrets(t))
	if err != nil {
		t.Fatalf("the idp refuses the clients file: %v", err)
	}
	for _, cl := range clients {
		if cl.ID != cfg.ClientID {
			continue
		}
		if !slices.Contains(cl.RedirectURIs, cfg.RedirectURL) {
			t.Errorf("client %s redirect URIs %v lack the form app's %s", cl.ID, cl.RedirectURIs, cfg.RedirectURL)
		}
		if !slices.Contains(cl.PostLogoutRedirectURIs, cfg.PostLogoutRedirectURL) {
			t.Errorf("client %s post-logout URIs %v lack the form app's %s", cl.ID, cl.PostLogoutRedirectURIs, cfg.PostLogoutRedirectURL)
		}
		if cl.Public != (cfg.ClientSecret == "") {
			t.Errorf("client %s public=%v but the form app has secret=%v", cl.ID, cl.Public, cfg.ClientSecret != "")
		}
		for _, s := range []string{"openid", "profile", "email", "phone"} {
			if len(cl.Scopes) > 0 && !slices.Contains(cl.Scopes, s) {
				t.Errorf("client %s may not ask for %s, which the form app needs", cl.ID, s)
			}
		}
		return
	}
	t.Errorf("clients file does not register the form app's client %q", cfg.ClientID)
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	d := string(b)
	for _, want := range []string{
		"FROM golang:1.26 AS build",
		"CGO_ENABLED=0",
		"-trimpath",
		"-o /out/idp ./cmd/idp",
		"-o /out/formapp ./cmd/formapp",
		"FROM gcr.io/distroless/static-debian12:nonroot",
		"COPY --from=build /out/idp /out/formapp /usr/local/bin/",
		"USER nonroot",
		"EXPOSE 8080 8081",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	// The final stage must not run as root.
	final := d[strings.LastIndex(d, "\nFROM "):]
	if !strings.Contains(final, "USER nonroot") || strings.Contains(final, "USER root") {
		t.Error("the final image does not run as nonroot")
	}
}

// Operators' finding 12: .dockerignore dropped .git, so the go command could not
// stamp the version into the image's binary and `idp version` (and idp_build_info)
// said "(devel)". The build context keeps .git and every file git tracks (a tracked
// file left out would stamp the build "+dirty"), and nothing turns VCS stamping off.
func TestDockerContextKeepsTheVersion(t *testing.T) {
	b, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			if strings.HasPrefix(line, "!") {
				t.Fatalf(".dockerignore: exception %q: this check does not understand exceptions", line)
			}
			patterns = append(patterns, strings.TrimPrefix(line, "/"))
		}
	}
	ignored := func(path string) string {
		for _, p := range patterns {
			for dir := path; dir != "."; dir = filepath.Dir(dir) {
				if dockerignoreMatch(p, dir) {
					return p
				}
			}
		}
		return ""
	}
	for _, path := range []string{".git", ".git/HEAD", "go.mod", "cmd/idp/main.go"} {
		if p := ignored(path); p != "" {
			t.Errorf(".dockerignore leaves out %s (pattern %q): the build cannot stamp the version", path, p)
		}
	}
	d, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(d), "buildvcs=false") || !strings.Contains(string(d), "go build -buildvcs=true ") {
		t.Error("the Dockerfile does not build with -buildvcs=true: a GOFLAGS=-buildvcs=false would make `idp version` say (devel)")
	}

	out, err := exec.Command("git", "-C", "..", "ls-files").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v): the tracked files cannot be listed", err)
	}
	for _, path := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if p := ignored(path); p != "" {
			t.Errorf(".dockerignore pattern %q leaves out tracked %s: the image's version would be +dirty", p, path)
		}
	}
}

// dockerignoreMatch reports whether a .dockerignore pattern matches path (relative
// to the context, slash-separated): * and ? within a path element, ** across any
// number of them, as Docker's pattern matcher does.
func dockerignoreMatch(pattern, path string) bool {
	var re strings.Builder
	re.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case strings.HasPrefix(pattern[i:], "**/"):
			re.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(pattern[i:], "**"):
			re.WriteString(".*")
			i++
		case c == '*':
			re.WriteString("[^/]*")
		case c == '?':
			re.WriteString("[^/]")
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String()).MatchString(path)
}
