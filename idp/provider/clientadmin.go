package provider

// Registering form apps: the admin commands' add, update and secret rotation,
// the clients file, and the demo form app's client.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/councilforms/idp/store"
)

// NewClient is an admin's request to register a client.
type NewClient struct {
	ID                     string
	Name                   string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Scopes                 []string
	Public                 bool
	// BackchannelLogoutURI, BackchannelLogoutSessionRequired and
	// IDTokenSignedResponseAlg are as in store.Client.
	BackchannelLogoutURI             string
	BackchannelLogoutSessionRequired bool
	IDTokenSignedResponseAlg         string
}

// Client is the registration a NewClient asks for, without secret or time.
func (nc NewClient) Client() *store.Client {
	return &store.Client{
		ID: nc.ID, Name: strings.TrimSpace(nc.Name), Public: nc.Public, RedirectURIs: nc.RedirectURIs,
		PostLogoutRedirectURIs: nc.PostLogoutRedirectURIs, Scopes: nc.Scopes,
		BackchannelLogoutURI:             nc.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: nc.BackchannelLogoutSessionRequired,
		IDTokenSignedResponseAlg:         nc.IDTokenSignedResponseAlg,
	}
}

// AddClient validates and registers a client. For a confidential client it
// returns the generated secret (256 random bits), which is shown once and
// stored only as its HMAC-SHA-256 hash. A taken id gives an error matching
// store.ErrConflict and changes nothing.
func AddClient(ctx context.Context, db store.Clients, secrets *ClientSecrets, nc NewClient, now time.Time) (secret string, err error) {
	c := nc.Client()
	c.CreatedAt = now
	if err := ValidateClient(c); err != nil {
		return "", err
	}
	if !c.Public {
		secret = randomToken(32)
		c.SecretHash = secrets.Hash(secret)
	}
	if err := db.CreateClient(ctx, c); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return "", fmt.Errorf("a client with id %q already exists: %w", c.ID, store.ErrConflict)
		}
		return "", fmt.Errorf("provider: register client %s: %w", c.ID, err)
	}
	return secret, nil
}

// ClientChange is an admin's change to a registered client: nil fields stay
// as they are. A slice field given as empty clears the list.
type ClientChange struct {
	Name                             *string
	RedirectURIs                     *[]string
	PostLogoutRedirectURIs           *[]string
	Scopes                           *[]string
	BackchannelLogoutURI             *string
	BackchannelLogoutSessionRequired *bool
	IDTokenSignedResponseAlg         *string
}

// Apply returns a copy of c with the change made.
func (ch ClientChange) Apply(c *store.Client) *store.Client {
	n := *c
	if ch.Name != nil {
		n.Name = strings.TrimSpace(*ch.Name)
	}
	if ch.RedirectURIs != nil {
		n.RedirectURIs = *ch.RedirectURIs
	}
	if ch.PostLogoutRedirectURIs != nil {
		n.PostLogoutRedirectURIs = *ch.PostLogoutRedirectURIs
	}
	if ch.Scopes != nil {
		n.Scopes = *ch.Scopes
	}
	if ch.BackchannelLogoutURI != nil {
		n.BackchannelLogoutURI = *ch.BackchannelLogoutURI
	}
	if ch.BackchannelLogoutSessionRequired != nil {
		n.BackchannelLogoutSessionRequired = *ch.BackchannelLogoutSessionRequired
	}
	if ch.IDTokenSignedResponseAlg != nil {
		n.IDTokenSignedResponseAlg = *ch.IDTokenSignedResponseAlg
	}
	return &n
}

// UpdateClient changes a registered client's metadata, never its secret:
// the result must pass ValidateClient, else nothing is changed. It returns
// the client as stored; an unknown id gives an error matching
// store.ErrNotFound.
func UpdateClient(ctx context.Context, db store.Clients, id string, ch ClientChange) (*store.Client, error) {
	c, err := db.ClientByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("client %q: %w", id, err)
	}
	n := ch.Apply(c)
	if err := ValidateClient(n); err != nil {
		return nil, err
	}
	if err := db.UpdateClient(ctx, n); err != nil {
		return nil, fmt.Errorf("provider: update client %s: %w", id, err)
	}
	return n, nil
}

// RotateClientSecret gives a confidential client a new secret, returned once.
// The old secret keeps working until keepOldUntil, so the form app can switch
// without an outage; with a zero time it stops at once (a leaked secret).
func RotateClientSecret(ctx context.Context, db store.Clients, secrets *ClientSecrets, id string, keepOldUntil time.Time) (string, error) {
	c, err := db.ClientByID(ctx, id)
	if err != nil {
		return "", fmt.Errorf("client %q: %w", id, err)
	}
	if c.Public {
		return "", fmt.Errorf("%w: client %q is public and has no secret", ErrInvalidClient, id)
	}
	secret := randomToken(32)
	if err := db.SetClientSecret(ctx, id, secrets.Hash(secret), keepOldUntil); err != nil {
		return "", fmt.Errorf("provider: set secret of client %s: %w", id, err)
	}
	return secret, nil
}

// clientFileEntry is one client in the static clients file.
type clientFileEntry struct {
	ID                     string   `yaml:"id"`
	Name                   string   `yaml:"name"`
	Secret                 string   `yaml:"secret"`
	Public                 bool     `yaml:"public"`
	RedirectURIs           []string `yaml:"redirect_uris"`
	PostLogoutRedirectURIs []string `yaml:"post_logout_redirect_uris"`
	Scopes                 []string `yaml:"scopes"`
	// Client metadata names (OpenID Connect Dynamic Client Registration 1.0,
	// Back-Channel Logout 1.0).
	BackchannelLogoutURI             string `yaml:"backchannel_logout_uri"`
	BackchannelLogoutSessionRequired bool   `yaml:"backchannel_logout_session_required"`
	IDTokenSignedResponseAlg         string `yaml:"id_token_signed_response_alg"`
}

var envReference = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// minStaticSecretLen keeps guessable secrets out of the clients file.
const minStaticSecretLen = 16

// LoadClientsFile reads static clients from a YAML or JSON file:
//
//	clients:
//	  - id: referral-form
//	    name: Make a social care referral
//	    secret: ${REFERRAL_FORM_SECRET}
//	    redirect_uris: [https://forms.example.gov.uk/referral/callback]
//	    post_logout_redirect_uris: [https://forms.example.gov.uk/referral/]
//	    backchannel_logout_uri: https://forms.example.gov.uk/referral/backchannel-logout
//	    backchannel_logout_session_required: true
//	    id_token_signed_response_alg: ES256
//
// A secret written as ${NAME} is read from the environment through getenv.
// Secrets are hashed (HMAC-SHA-256) on load and kept only in memory; the
// file's contents are never logged.
func LoadClientsFile(path string, getenv func(string) string, secrets *ClientSecrets) ([]*store.Client, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("clients file: %w", err)
	}
	return parseClients(raw, path, getenv, secrets)
}

func parseClients(raw []byte, path string, getenv func(string) string, secrets *ClientSecrets) ([]*store.Client, error) {
	var doc struct {
		Clients []clientFileEntry `yaml:"clients"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("clients file %s: %w", path, err)
	}
	seen := map[string]bool{}
	var out []*store.Client
	for i, e := range doc.Clients {
		c := NewClient{
			ID: e.ID, Name: e.Name, Public: e.Public, RedirectURIs: e.RedirectURIs,
			PostLogoutRedirectURIs: e.PostLogoutRedirectURIs, Scopes: e.Scopes,
			BackchannelLogoutURI:             e.BackchannelLogoutURI,
			BackchannelLogoutSessionRequired: e.BackchannelLogoutSessionRequired,
			IDTokenSignedResponseAlg:         e.IDTokenSignedResponseAlg,
		}.Client()
		if err := ValidateClient(c); err != nil {
			return nil, fmt.Errorf("clients file %s: client %d: %w", path, i+1, err)
		}
		if seen[c.ID] {
			return nil, fmt.Errorf("clients file %s: client id %q appears twice", path, c.ID)
		}
		seen[c.ID] = true
		secret := e.Secret
		if m := envReference.FindStringSubmatch(secret); m != nil {
			secret = getenv(m[1])
			if secret == "" {
				return nil, fmt.Errorf("clients file %s: client %q: environment variable %s is not set", path, c.ID, m[1])
			}
		}
		switch {
		case c.Public && secret != "":
			return nil, fmt.Errorf("clients file %s: client %q is public and must not have a secret", path, c.ID)
		case !c.Public && len(secret) < minStaticSecretLen:
			return nil, fmt.Errorf("clients file %s: client %q needs a secret of at least %d characters (or public: true)", path, c.ID, minStaticSecretLen)
		}
		if secret != "" {
			c.SecretHash = secrets.Hash(secret)
		}
		out = append(out, c)
	}
	return out, nil
}

// ClientsFileIDs returns the ids of the clients a clients file defines,
// without checking or reading their secrets (an admin command refuses to
// change a client the file defines: the file would take precedence).
func ClientsFileIDs(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("clients file: %w", err)
	}
	var doc struct {
		Clients []clientFileEntry `yaml:"clients"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("clients file %s: %w", path, err)
	}
	ids := make([]string, len(doc.Clients))
	for i, e := range doc.Clients {
		ids[i] = e.ID
	}
	return ids, nil
}

// DemoClientID is the client embedded mode registers for the demo form app
// (cmd/formapp), whose defaults match it.
const DemoClientID = "demo-formapp"

// DemoClient is the demo form app as a public client (no secret, PKCE) at
// baseURL, e.g. http://localhost:8081. Embedded mode adds it to the static
// clients; production registers real clients instead.
func DemoClient(baseURL string) *store.Client {
	base := strings.TrimSuffix(baseURL, "/")
	return &store.Client{
		ID: DemoClientID, Name: "Make a social care referral (demo)", Public: true,
		RedirectURIs:           []string{base + "/callback"},
		PostLogoutRedirectURIs: []string{base + "/signed-out"},
		Scopes:                 []string{"openid", "profile", "email", "phone"},
		// The demo form app ends its session when told (back-channel logout).
		BackchannelLogoutURI: base + "/backchannel-logout", BackchannelLogoutSessionRequired: true,
	}
}

// ClientSource is where a form app's registration comes from.
type ClientSource string

const (
	// SourceDatabase: registered with `idp clients add` or the console;
	// changed there.
	SourceDatabase ClientSource = "database"
	// SourceFile: defined in IDP_CLIENTS_FILE; read-only here, changed in the file.
	SourceFile ClientSource = "file"
	// SourceBuiltIn: defined by the service itself (the demo form app in
	// embedded mode, the operators' console); read-only.
	SourceBuiltIn ClientSource = "built-in"
)

// FormApp is one registered form app and where it comes from.
type FormApp struct {
	Client *store.Client
	Source ClientSource
	// Hidden: a database registration with the id of a file or built-in one,
	// which takes precedence, so this one is never used.
	Hidden bool
}

// ReadOnly reports whether the form app can only be changed where it is
// defined (the clients file, or the service itself).
func (f FormApp) ReadOnly() bool { return f.Source != SourceDatabase }

// ListFormApps is every form app, ordered by id, the registrations of the
// database with those of the clients file (file) and the built-in ones
// (builtIn): one list, each marked with its source. Static registrations
// come first for an id they share with a database one, which is listed as
// Hidden.
func ListFormApps(ctx context.Context, db store.Clients, file, builtIn []*store.Client) ([]FormApp, error) {
	cs, err := db.ListClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("provider: list clients: %w", err)
	}
	var out []FormApp
	static := map[string]bool{}
	for _, c := range builtIn {
		out = append(out, FormApp{Client: c, Source: SourceBuiltIn})
		static[c.ID] = true
	}
	for _, c := range file {
		if !static[c.ID] {
			out = append(out, FormApp{Client: c, Source: SourceFile})
			static[c.ID] = true
		}
	}
	for _, c := range cs {
		out = append(out, FormApp{Client: c, Source: SourceDatabase, Hidden: static[c.ID]})
	}
	slices.SortStableFunc(out, func(a, b FormApp) int { return strings.Compare(a.Client.ID, b.Client.ID) })
	return out, nil
}

// ErrDefinedElsewhere matches the error of a change to a client id the
// clients file or the service itself defines (a *DefinedElsewhereError):
// those take precedence over the database, so a registration there would
// never be used.
var ErrDefinedElsewhere = errors.New("client defined outside the database")

// DefinedElsewhereError names the client id and where it is defined.
type DefinedElsewhereError struct {
	ID     string
	Source ClientSource // SourceFile or SourceBuiltIn
}

func (e *DefinedElsewhereError) Error() string {
	if e.Source == SourceBuiltIn {
		return fmt.Sprintf("client %q is built in to the service and cannot be changed here", e.ID)
	}
	return fmt.Sprintf("client %q is defined in the clients file (IDP_CLIENTS_FILE), which takes precedence over the database: change it there", e.ID)
}

func (e *DefinedElsewhereError) Is(target error) bool { return target == ErrDefinedElsewhere }

// CheckDatabaseClientID refuses (a *DefinedElsewhereError) an id that one of
// the static registrations (the clients file's, the built-in ones) uses, for
// an admin adding or changing a database client.
func CheckDatabaseClientID(id string, file, builtIn []*store.Client) error {
	for _, c := range builtIn {
		if c.ID == id {
			return &DefinedElsewhereError{ID: id, Source: SourceBuiltIn}
		}
	}
	for _, c := range file {
		if c.ID == id {
			return &DefinedElsewhereError{ID: id, Source: SourceFile}
		}
	}
	return nil
}

// ReadClientsFile reads the clients of a clients file as they are to be
// listed: checked as LoadClientsFile checks them, but without their secrets
// (which may name environment variables of the servers only).
func ReadClientsFile(path string) ([]*store.Client, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("clients file: %w", err)
	}
	var doc struct {
		Clients []clientFileEntry `yaml:"clients"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("clients file %s: %w", path, err)
	}
	out := make([]*store.Client, 0, len(doc.Clients))
	for _, e := range doc.Clients {
		out = append(out, NewClient{
			ID: e.ID, Name: e.Name, Public: e.Public, RedirectURIs: e.RedirectURIs,
			PostLogoutRedirectURIs: e.PostLogoutRedirectURIs, Scopes: e.Scopes,
			BackchannelLogoutURI:             e.BackchannelLogoutURI,
			BackchannelLogoutSessionRequired: e.BackchannelLogoutSessionRequired,
			IDTokenSignedResponseAlg:         e.IDTokenSignedResponseAlg,
		}.Client())
	}
	return out, nil
}

// SetClientDisabled disables a database client at now (it is then refused at
// authorization and at the token endpoint, invalid_client, until enabled),
// or enables it again. It reports whether anything changed (disabling a
// disabled client keeps its time); an unknown id gives an error matching
// store.ErrNotFound.
func SetClientDisabled(ctx context.Context, db store.Clients, id string, disabled bool, now time.Time) (bool, error) {
	c, err := db.ClientByID(ctx, id)
	if err != nil {
		return false, fmt.Errorf("client %q: %w", id, err)
	}
	if disabled == !c.DisabledAt.IsZero() {
		return false, nil
	}
	c.DisabledAt = time.Time{}
	if disabled {
		c.DisabledAt = now.UTC()
	}
	if err := db.UpdateClient(ctx, c); err != nil {
		return false, fmt.Errorf("provider: update client %s: %w", id, err)
	}
	return true, nil
}
