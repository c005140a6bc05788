package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// hydraModule and hydraVersion are Ory Hydra, the durable peer: an OAuth 2.0
// and OpenID Connect provider that stores everything it issues in SQL (here
// a PostgreSQL database of its own) and leaves sign-in and consent to an app
// of the operator's, which the driver plays.
const (
	hydraModule  = "github.com/ory/hydra/v2"
	hydraVersion = "v2.3.0"
	// Its go.mod replaces its API client with a directory of the repository
	// that the module zip leaves out; the released client is used instead.
	hydraClientModule  = "github.com/ory/hydra-client-go/v2"
	hydraClientVersion = "v2.2.1"
)

// hydraSubject is the account the bench's login app signs everyone in as.
const hydraSubject = "idp-bench-person"

var hydraPeer = peer{
	name:      "hydra",
	clientID:  benchClientID,
	authzName: "authorize (login and consent app)",
	note: "durable like the idp: codes, access and refresh tokens, sessions and consents in its own PostgreSQL database (no Redis); " +
		"the bench's login and consent app accepts each challenge at once through Hydra's admin API (it runs in the driver, so its CPU is the driver's), " +
		"and an authorize with a session passes through it twice (five redirects), so that row is not comparable; " +
		"ID tokens signed with a key of the idp's algorithm the bench imports (RSA-2048 for RS256: Hydra would make an RSA-4096 one), opaque access tokens; refresh tokens rotate, reuse revokes the chain",
	title: func() string { return "Ory Hydra " + hydraVersion + " (PostgreSQL)" },
	start: startHydra,
	login: hydraLogin,
}

// startHydra builds Hydra (when -peer is "install" and -hydra-bin names no
// binary), gives it a fresh PostgreSQL database (dropped afterwards), migrates
// it, starts the login and consent app and Hydra on free ports, imports a
// signing key and registers the bench's client.
func startHydra(ctx context.Context, o options, dir string, out io.Writer) (*target, error) {
	if o.server.postgresAdmin == "" {
		return nil, errors.New("it needs PostgreSQL: run with -postgres (as .ci/bench does)")
	}
	bin := o.hydraBin
	if bin == "" {
		var err error
		if bin, err = buildHydra(ctx, dir, out); err != nil {
			return nil, err
		}
	}
	dbURL, drop, err := createDatabase(ctx, o.server.postgresAdmin)
	if err != nil {
		return nil, err
	}
	cleanups := []func() error{drop}
	fail := func(err error) (*target, error) {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		return nil, err
	}
	migrate := exec.CommandContext(ctx, bin, "migrate", "sql", "up", "-e", "--yes")
	migrate.Env = append(os.Environ(), "DSN="+dbURL)
	if b, err := migrate.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("hydra migrate sql up: %v\n%s", err, b))
	}

	var ports [2]int
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return fail(err)
		}
	}
	public, admin := ports[0], ports[1]
	adminURL := fmt.Sprintf("http://127.0.0.1:%d", admin)
	app, err := startHydraLoginApp(adminURL)
	if err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, app.close)

	issuer := fmt.Sprintf("http://localhost:%d", public)
	secret := rand.Text() + rand.Text()
	config := fmt.Sprintf(`# Written by idp-bench; removed with this directory.
serve:
  public: {host: 127.0.0.1, port: %d}
  admin: {host: 127.0.0.1, port: %d}
  cookies: {same_site_mode: Lax}
urls:
  self: {issuer: %q}
  login: %q
  consent: %q
secrets:
  system: [%q]
oidc:
  subject_identifiers: {supported_types: [public]}
oauth2:
  pkce: {enforced_for_public_clients: true}
strategies: {access_token: opaque}
ttl: {access_token: 15m, id_token: 15m, refresh_token: 720h, auth_code: 60s}
log: {level: error}
`, public, admin, issuer, app.url+"/login", app.url+"/consent", secret)
	cfgPath := filepath.Join(dir, "hydra.yaml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		return fail(err)
	}
	// --dev: the issuer is plain http on localhost, as the idp's is. Its
	// connection pool is raised from its default (twice the cores, 4 here):
	// a token request holds a transaction while it asks for another
	// connection, so 16 workers starve a pool of 4 into timeouts.
	serveDSN, err := url.Parse(dbURL)
	if err != nil {
		return fail(err)
	}
	q := serveDSN.Query()
	q.Set("max_conns", "64")
	q.Set("max_idle_conns", "32")
	serveDSN.RawQuery = q.Encode()
	cmd := exec.Command(bin, "serve", "all", "--dev", "-c", cfgPath)
	cmd.Env = append(os.Environ(), "DSN="+serveDSN.String())
	t, err := startPeerProcess(ctx, cmd, issuer, "PostgreSQL (its own database, created for the run and dropped afterwards)")
	if err != nil {
		return fail(err)
	}
	stopHydra := t.stop
	cleanups = append(cleanups, stopHydra)
	t.stop = func() error {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		return nil
	}
	adminTransport := newTransport(2, nil)
	cleanups = append(cleanups, func() error { adminTransport.CloseIdleConnections(); return nil })
	adminClient := &http.Client{Timeout: 30 * time.Second, Transport: adminTransport}
	if err := hydraImportKey(ctx, adminClient, adminURL, o.server.signingAlg); err != nil {
		t.stop()
		return nil, err
	}
	client := map[string]any{
		"client_id":                  benchClientID,
		"client_name":                "idp-bench load driver",
		"token_endpoint_auth_method": "none",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"scope":                      strings.Join(scopes, " "),
		"redirect_uris":              []string{o.redirectURI},
	}
	if err := hydraAdmin(ctx, adminClient, http.MethodPost, adminURL+"/admin/clients", client, nil); err != nil {
		t.stop()
		return nil, fmt.Errorf("register the bench client: %w", err)
	}
	// Hydra makes the key set of JWT access tokens (RSA-4096, seconds of
	// CPU) at the first JWKS request; made here, it is not measured.
	if _, err := get(ctx, adminClient, issuer+"/.well-known/jwks.json", "application/json"); err != nil {
		t.stop()
		return nil, fmt.Errorf("first JWKS: %w", err)
	}
	return t, nil
}

// hydraImportKey replaces the key set Hydra signs ID tokens with by one key
// of the idp's algorithm (alg, "" for RS256) of the idp's size, so that the
// signature costs the same on both sides.
func hydraImportKey(ctx context.Context, c *http.Client, adminURL, alg string) error {
	if alg == "" {
		alg = "RS256"
	}
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	jwk := map[string]string{"kid": "idp-bench-" + strings.ToLower(alg), "alg": alg, "use": "sig"}
	switch alg {
	case "RS256":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return err
		}
		k.Precompute()
		jwk["kty"], jwk["n"], jwk["e"], jwk["d"] = "RSA", b64(k.N.Bytes()), b64(big.NewInt(int64(k.E)).Bytes()), b64(k.D.Bytes())
		jwk["p"], jwk["q"] = b64(k.Primes[0].Bytes()), b64(k.Primes[1].Bytes())
		jwk["dp"], jwk["dq"], jwk["qi"] = b64(k.Precomputed.Dp.Bytes()), b64(k.Precomputed.Dq.Bytes()), b64(k.Precomputed.Qinv.Bytes())
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		raw, err := k.Bytes() // 32 bytes of d
		if err != nil {
			return err
		}
		pub, err := k.PublicKey.Bytes() // 0x04 || x || y
		if err != nil {
			return err
		}
		jwk["kty"], jwk["crv"], jwk["x"], jwk["y"], jwk["d"] = "EC", "P-256", b64(pub[1:33]), b64(pub[33:]), b64(raw)
	default:
		return fmt.Errorf("no %s key for the peer", alg)
	}
	set := map[string]any{"keys": []any{jwk}}
	if err := hydraAdmin(ctx, c, http.MethodPut, adminURL+"/admin/keys/hydra.openid.id-token", set, nil); err != nil {
		return fmt.Errorf("import the ID token signing key: %w", err)
	}
	return nil
}

// buildHydra builds Hydra from the module proxy into dir, as its go.mod
// does not allow go install: download the module, copy it (the module
// cache is read-only), drop the replace of its API client and require the
// released one, go build. It takes minutes and about 60 MB.
func buildHydra(ctx context.Context, dir string, out io.Writer) (string, error) {
	fmt.Fprintf(out, "building %s@%s from the module proxy (not kept; a few minutes)\n", hydraModule, hydraVersion)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	run := func(wd string, args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = wd
		b, err := cmd.Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
			}
			return nil, fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
		}
		return b, nil
	}
	b, err := run(dir, "mod", "download", "-json", hydraModule+"@"+hydraVersion)
	if err != nil {
		return "", err
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(b, &mod); err != nil || mod.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %s%v", hydraModule, hydraVersion, mod.Error, err)
	}
	src := filepath.Join(dir, "hydra-src")
	if err := copyTree(mod.Dir, src); err != nil {
		return "", fmt.Errorf("copy %s: %w", mod.Dir, err)
	}
	if _, err := run(src, "mod", "edit", "-dropreplace", hydraClientModule); err != nil {
		return "", err
	}
	if _, err := run(src, "get", hydraClientModule+"@"+hydraClientVersion); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "hydra")
	if _, err := run(src, "build", "-o", bin, "."); err != nil {
		return "", err
	}
	return bin, nil
}

// copyTree copies the regular files and directories under from to to,
// writable by their owner.
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}

// hydraAdmin calls Hydra's admin API with body as JSON and decodes the JSON
// answer into result (when not nil).
func hydraAdmin(ctx context.Context, c *http.Client, method, u string, body, result any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: status %d: %s", method, u, res.StatusCode, oneLine(string(b)))
	}
	if result != nil {
		return json.Unmarshal(b, result)
	}
	return nil
}

// hydraLoginApp is the bench's login and consent app for Hydra: it signs
// everyone in as hydraSubject and grants every scope asked for, remembered,
// with the claims of the bench person in the ID token and at userinfo.
type hydraLoginApp struct {
	url   string
	admin string
	srv   *http.Server
	http  *http.Client
}

func startHydraLoginApp(adminURL string) (*hydraLoginApp, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a := &hydraLoginApp{
		url: "http://" + ln.Addr().String(), admin: adminURL,
		http: &http.Client{Timeout: 30 * time.Second, Transport: newTransport(64, nil)},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /consent", a.consent)
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go a.srv.Serve(ln)
	return a, nil
}

func (a *hydraLoginApp) close() error {
	a.http.CloseIdleConnections()
	return a.srv.Close()
}

// login accepts the login challenge: one admin call.
func (a *hydraLoginApp) login(w http.ResponseWriter, r *http.Request) {
	ch := r.URL.Query().Get("login_challenge")
	var res struct {
		RedirectTo string `json:"redirect_to"`
	}
	body := map[string]any{"subject": hydraSubject, "remember": true, "remember_for": 0}
	if err := hydraAdmin(r.Context(), a.http, http.MethodPut, a.admin+"/admin/oauth2/auth/requests/login/accept?login_challenge="+url.QueryEscape(ch), body, &res); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, res.RedirectTo, http.StatusFound)
}

// consent reads the consent request and grants what it asks for: two admin
// calls, as a consent app that shows nothing makes.
func (a *hydraLoginApp) consent(w http.ResponseWriter, r *http.Request) {
	q := "?consent_challenge=" + url.QueryEscape(r.URL.Query().Get("consent_challenge"))
	var req struct {
		RequestedScope    []string `json:"requested_scope"`
		RequestedAudience []string `json:"requested_access_token_audience"`
	}
	if err := hydraAdmin(r.Context(), a.http, http.MethodGet, a.admin+"/admin/oauth2/auth/requests/consent"+q, nil, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	claims := map[string]any{
		"name": "Bench Person", "given_name": "Bench", "family_name": "Person",
		"email": "bench-person@example.org", "email_verified": true,
		"phone_number": "+447700900999", "phone_number_verified": true,
	}
	body := map[string]any{
		"grant_scope": req.RequestedScope, "grant_access_token_audience": req.RequestedAudience,
		"remember": true, "remember_for": 0,
		"session": map[string]any{"id_token": claims},
	}
	var res struct {
		RedirectTo string `json:"redirect_to"`
	}
	if err := hydraAdmin(r.Context(), a.http, http.MethodPut, a.admin+"/admin/oauth2/auth/requests/consent/accept"+q, body, &res); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, res.RedirectTo, http.StatusFound)
}

// hydraLogin is called when /authorize at Hydra did not end at the redirect
// URI: the login and consent app accepts without a page, so anything shown is
// an error.
func hydraLogin(ctx context.Context, t *target, b *browser) error {
	return fmt.Errorf("the login and consent app did not lead back to the relying party: page %s", b.Page.Describe())
}
