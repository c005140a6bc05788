package provider

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
)

func TestValidateClient(t *testing.T) {
	ok := func() *store.Client {
		return &store.Client{ID: "referral-form", Name: "Referral", RedirectURIs: []string{"https://forms.example.gov.uk/cb"}}
	}
	good := map[string]func(*store.Client){
		"https":             func(*store.Client) {},
		"localhost http":    func(c *store.Client) { c.RedirectURIs = []string{"http://localhost:8081/cb"} },
		"127.0.0.1 http":    func(c *store.Client) { c.RedirectURIs = []string{"http://127.0.0.1:9000/cb"} },
		"ipv6 loopback":     func(c *store.Client) { c.RedirectURIs = []string{"http://[::1]:9000/cb"} },
		"query kept":        func(c *store.Client) { c.RedirectURIs = []string{"https://forms.example.gov.uk/cb?form=referral"} },
		"scopes":            func(c *store.Client) { c.Scopes = []string{"openid", "email"} },
		"post-logout https": func(c *store.Client) { c.PostLogoutRedirectURIs = []string{"https://forms.example.gov.uk/"} },
		"back-channel https": func(c *store.Client) {
			c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired = "https://forms.example.gov.uk/bcl", true
		},
		"back-channel loopback http": func(c *store.Client) { c.BackchannelLogoutURI = "http://127.0.0.1:8081/bcl" },
		"alg RS256":                  func(c *store.Client) { c.IDTokenSignedResponseAlg = "RS256" },
		"alg ES256":                  func(c *store.Client) { c.IDTokenSignedResponseAlg = "ES256" },
	}
	for name, mutate := range good {
		c := ok()
		mutate(c)
		if err := ValidateClient(c); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := map[string]func(*store.Client){
		"empty id":              func(c *store.Client) { c.ID = "" },
		"id with slash":         func(c *store.Client) { c.ID = "a/b" },
		"no name":               func(c *store.Client) { c.Name = "  " },
		"no redirect":           func(c *store.Client) { c.RedirectURIs = nil },
		"http remote":           func(c *store.Client) { c.RedirectURIs = []string{"http://forms.example.gov.uk/cb"} },
		"localhost lookalike":   func(c *store.Client) { c.RedirectURIs = []string{"http://localhost.evil.example/cb"} },
		"relative":              func(c *store.Client) { c.RedirectURIs = []string{"/cb"} },
		"custom scheme":         func(c *store.Client) { c.RedirectURIs = []string{"myapp://cb"} },
		"fragment":              func(c *store.Client) { c.RedirectURIs = []string{"https://forms.example.gov.uk/cb#x"} },
		"wildcard":              func(c *store.Client) { c.RedirectURIs = []string{"https://forms.example.gov.uk/*"} },
		"user info":             func(c *store.Client) { c.RedirectURIs = []string{"https://a:b@forms.example.gov.uk/cb"} },
		"post-logout http":      func(c *store.Client) { c.PostLogoutRedirectURIs = []string{"http://forms.example.gov.uk/"} },
		"unknown scope":         func(c *store.Client) { c.Scopes = []string{"address"} },
		"back-channel http":     func(c *store.Client) { c.BackchannelLogoutURI = "http://forms.example.gov.uk/bcl" },
		"back-channel relative": func(c *store.Client) { c.BackchannelLogoutURI = "/bcl" },
		"back-channel fragment": func(c *store.Client) { c.BackchannelLogoutURI = "https://forms.example.gov.uk/bcl#x" },
		"alg none":              func(c *store.Client) { c.IDTokenSignedResponseAlg = "none" },
		"alg HS256":             func(c *store.Client) { c.IDTokenSignedResponseAlg = "HS256" },
		"alg lower case":        func(c *store.Client) { c.IDTokenSignedResponseAlg = "es256" },
	}
	for name, mutate := range bad {
		c := ok()
		mutate(c)
		if err := ValidateClient(c); !errors.Is(err, ErrInvalidClient) {
			t.Errorf("%s: got %v, want ErrInvalidClient", name, err)
		}
	}
}

func TestValidateClientMessages(t *testing.T) {
	c := &store.Client{ID: "referral-form", Name: "Referral", RedirectURIs: []string{"https://forms.example.gov.uk/cb"},
		IDTokenSignedResponseAlg: "PS256"}
	if err := ValidateClient(c); err == nil || !strings.Contains(err.Error(), `ID token signing algorithm "PS256" is not supported (use RS256 or ES256)`) {
		t.Errorf("alg: %v", err)
	}
	c.IDTokenSignedResponseAlg, c.BackchannelLogoutURI = "", "http://forms.example.gov.uk/bcl"
	if err := ValidateClient(c); err == nil || !strings.Contains(err.Error(), "back-channel logout URI") || !strings.Contains(err.Error(), "https") {
		t.Errorf("back-channel URI: %v", err)
	}
}

func TestUpdateClient(t *testing.T) {
	st := memorySQLite(t)
	ctx := context.Background()
	secrets := testClientSecrets(t)
	nc := NewClient{ID: "referral", Name: "Referral", RedirectURIs: []string{"https://forms.example.gov.uk/cb"},
		PostLogoutRedirectURIs: []string{"https://forms.example.gov.uk/"}, Scopes: []string{"openid", "email"}}
	if _, err := AddClient(ctx, st.db, secrets, nc, time.Now()); err != nil {
		t.Fatal(err)
	}
	before, _ := st.db.ClientByID(ctx, "referral")

	uri, alg, yes := "https://forms.example.gov.uk/bcl", "ES256", true
	got, err := UpdateClient(ctx, st.db, "referral", ClientChange{
		BackchannelLogoutURI: &uri, BackchannelLogoutSessionRequired: &yes, IDTokenSignedResponseAlg: &alg,
	})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := st.db.ClientByID(ctx, "referral")
	if stored.BackchannelLogoutURI != uri || !stored.BackchannelLogoutSessionRequired || stored.IDTokenSignedResponseAlg != "ES256" ||
		got.IDTokenSignedResponseAlg != "ES256" {
		t.Fatalf("after update: %+v", stored)
	}
	// What was not given stays, the secret above all.
	if stored.Name != before.Name || stored.SecretHash != before.SecretHash || !stored.CreatedAt.Equal(before.CreatedAt) ||
		strings.Join(stored.RedirectURIs, " ") != "https://forms.example.gov.uk/cb" || len(stored.Scopes) != 2 ||
		len(stored.PostLogoutRedirectURIs) != 1 {
		t.Fatalf("update changed what it was not given: %+v, was %+v", stored, before)
	}

	// A change that breaks the rules changes nothing.
	bad, http := "PS256", "http://forms.example.gov.uk/cb"
	for name, ch := range map[string]ClientChange{
		"alg":      {IDTokenSignedResponseAlg: &bad},
		"redirect": {RedirectURIs: &[]string{http}},
		"none":     {RedirectURIs: &[]string{}},
	} {
		if _, err := UpdateClient(ctx, st.db, "referral", ch); !errors.Is(err, ErrInvalidClient) {
			t.Errorf("%s: %v, want ErrInvalidClient", name, err)
		}
	}
	if after, _ := st.db.ClientByID(ctx, "referral"); after.IDTokenSignedResponseAlg != "ES256" || len(after.RedirectURIs) != 1 {
		t.Fatalf("a refused update changed the client: %+v", after)
	}
	if _, err := UpdateClient(ctx, st.db, "missing", ClientChange{IDTokenSignedResponseAlg: &alg}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
}

func TestAddClientDuplicateChangesNothing(t *testing.T) {
	st := memorySQLite(t)
	ctx := context.Background()
	nc := NewClient{ID: "referral", Name: "Referral", RedirectURIs: []string{"https://forms.example.gov.uk/cb"}}
	secrets := testClientSecrets(t)
	if _, err := AddClient(ctx, st.db, secrets, nc, time.Now()); err != nil {
		t.Fatal(err)
	}
	before, _ := st.db.ClientByID(ctx, "referral")
	nc.Name = "Changed"
	if _, err := AddClient(ctx, st.db, secrets, nc, time.Now()); !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate: %v", err)
	}
	after, _ := st.db.ClientByID(ctx, "referral")
	if after.Name != before.Name || after.SecretHash != before.SecretHash {
		t.Fatal("a refused duplicate changed the client")
	}
}

const clientsYAML = `
clients:
  - id: referral
    name: Make a social care referral
    secret: ${REFERRAL_SECRET}
    redirect_uris: [https://rp.example/referral/callback]
    post_logout_redirect_uris: [https://rp.example/referral/]
    backchannel_logout_uri: https://rp.example/referral/backchannel-logout
    backchannel_logout_session_required: true
    id_token_signed_response_alg: ES256
  - id: spa
    name: Public form
    public: true
    redirect_uris: [https://rp.example/spa/callback]
    scopes: [openid, email]
`

func testClientSecrets(t *testing.T) *ClientSecrets {
	t.Helper()
	s, err := NewClientSecrets(testKEK)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var testKEK = bytes.Repeat([]byte{7}, 32)

func TestClientsFile(t *testing.T) {
	secrets := testClientSecrets(t)
	env := map[string]string{"REFERRAL_SECRET": "a-long-secret-from-the-environment"}
	path := filepath.Join(t.TempDir(), "clients.yaml")
	if err := os.WriteFile(path, []byte(clientsYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	cs, err := LoadClientsFile(path, func(k string) string { return env[k] }, secrets)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].ID != "referral" || !strings.HasPrefix(cs[0].SecretHash, "hmac-sha256$") || strings.Contains(cs[0].SecretHash, env["REFERRAL_SECRET"]) ||
		!cs[1].Public || cs[1].SecretHash != "" || len(cs[1].Scopes) != 2 {
		t.Fatalf("clients = %+v", cs)
	}
	if cs[0].BackchannelLogoutURI != "https://rp.example/referral/backchannel-logout" || !cs[0].BackchannelLogoutSessionRequired ||
		cs[0].IDTokenSignedResponseAlg != "ES256" || cs[1].BackchannelLogoutURI != "" || cs[1].IDTokenSignedResponseAlg != "" {
		t.Fatalf("client metadata = %+v, %+v", cs[0], cs[1])
	}
	if ids, err := ClientsFileIDs(path); err != nil || strings.Join(ids, " ") != "referral spa" {
		t.Fatalf("ClientsFileIDs = %v, %v", ids, err)
	}
	// JSON works too.
	js := `{"clients":[{"id":"j","name":"J","secret":"literal-secret-1234567","redirect_uris":["https://rp.example/j"]}]}`
	if cs, err := parseClients([]byte(js), "clients.json", os.Getenv, secrets); err != nil || len(cs) != 1 {
		t.Fatalf("json: %v %v", cs, err)
	}
	bad := map[string]string{
		"unset variable": strings.ReplaceAll(clientsYAML, "${REFERRAL_SECRET}", "${NOT_SET}"),
		"unknown field":  clientsYAML + "    colour: red\n",
		"short secret":   strings.ReplaceAll(clientsYAML, "${REFERRAL_SECRET}", "short"),
		"public secret":  strings.ReplaceAll(clientsYAML, "    public: true\n", "    public: true\n    secret: abcdefghijklmnopqrs\n"),
		"duplicate id":   strings.ReplaceAll(clientsYAML, "id: spa", "id: referral"),
		"http redirect":  strings.ReplaceAll(clientsYAML, "https://rp.example/spa/callback", "http://rp.example/spa/callback"),
		"http back-channel": strings.ReplaceAll(clientsYAML, "https://rp.example/referral/backchannel-logout",
			"http://rp.example/referral/backchannel-logout"),
		"bad alg": strings.ReplaceAll(clientsYAML, "id_token_signed_response_alg: ES256", "id_token_signed_response_alg: HS256"),
	}
	for name, doc := range bad {
		if _, err := parseClients([]byte(doc), "clients.yaml", func(k string) string { return env[k] }, secrets); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), env["REFERRAL_SECRET"]) {
			t.Errorf("%s: error reveals the secret: %v", name, err)
		}
	}

	// A static client signs in like a registered one.
	e := newEnv(t, memorySQLite(t), func(c *Config) { c.KeyEncryptionKey, c.StaticClients = testKEK, cs })
	e.secrets["referral"] = env["REFERRAL_SECRET"]
	e.signInAs(e.newUser(), time.Time{})
	r := e.rp("referral")
	f := newFlow()
	if tok := r.mustExchange(r.signIn(e.browser(), f), f); tok.claims["aud"] == nil {
		t.Fatal("no aud")
	}
}

func TestDemoClientIsValid(t *testing.T) {
	c := DemoClient("http://localhost:8081/")
	if err := ValidateClient(c); err != nil || c.RedirectURIs[0] != "http://localhost:8081/callback" || !c.Public {
		t.Fatalf("demo client %+v: %v", c, err)
	}
}

// originOf is what a browser puts in Origin for pages under a redirect URI.
func TestOriginOf(t *testing.T) {
	for uri, want := range map[string]string{
		"https://forms.example.gov.uk/callback":     "https://forms.example.gov.uk",
		"https://Forms.Example.gov.uk:443/callback": "https://forms.example.gov.uk",
		"https://forms.example.gov.uk:8443/cb?x=1":  "https://forms.example.gov.uk:8443",
		"http://localhost:8081/callback":            "http://localhost:8081",
		"http://127.0.0.1:80/callback":              "http://127.0.0.1",
		"http://[::1]:8081/callback":                "http://[::1]:8081",
		"com.example.app:/callback":                 "",
		"/relative":                                 "",
		"::not a url":                               "",
	} {
		if got := originOf(uri); got != want {
			t.Errorf("originOf(%q) = %q, want %q", uri, got, want)
		}
	}
}
