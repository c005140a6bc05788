package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/councilforms/idp/idp/admin"
	"github.com/councilforms/idp/idp/app"
	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/store"
)

// clients manages registered relying parties in the database named by
// IDP_DATABASE_URL: idp clients add|list|show|update|remove|rotate-secret|disable|enable.
// list shows the clients file's and the built-in form apps too, read-only.
func clients(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 {
		return usageError{errors.New("usage: idp clients add|list|show ID|update ID|remove ID|rotate-secret ID [--overlap DURATION]|disable ID|enable ID")}
	}
	sub, args := args[0], args[1:]
	run, ok := map[string]func(context.Context, *clientAdmin, []string) error{
		"add": clientsAdd, "list": clientsList, "show": clientsShow, "update": clientsUpdate, "remove": clientsRemove,
		"rotate-secret": clientsRotateSecret, "disable": clientsDisable, "enable": clientsEnable,
	}[sub]
	if !ok {
		return usageError{fmt.Errorf("unknown subcommand %q (add, list, show, update, remove, rotate-secret, disable, enable)", sub)}
	}
	// Check the arguments before touching the database, so bad usage changes nothing.
	switch sub {
	case "add":
		if _, err := parseClientFlags(env, args); err != nil {
			return err
		}
	case "update":
		if _, _, err := parseClientUpdate(env, args); err != nil {
			return err
		}
	case "rotate-secret":
		if _, _, err := parseRotateSecret(env, args); err != nil {
			return err
		}
	default:
		if err := wantArgs(sub, args); err != nil {
			return err
		}
	}
	cfg, err := loadAdminConfig(env, nil)
	if err != nil {
		return err
	}
	file, builtIn, err := staticClients(cfg)
	if err != nil {
		return err
	}
	// The file's and the built-in clients take precedence over the
	// database's: a change here would be stored and never seen.
	id := ""
	switch sub {
	case "add":
		nc, _ := parseClientFlags(env, args)
		id = nc.ID
	case "list":
	default:
		id = args[0]
		if sub == "rotate-secret" {
			id, _, _ = parseRotateSecret(env, args)
		}
	}
	if id != "" && sub != "show" {
		if err := provider.CheckDatabaseClientID(id, file, builtIn); err != nil {
			var de *provider.DefinedElsewhereError
			if errors.As(err, &de) && de.Source == provider.SourceFile {
				return fmt.Errorf("%w (%s)", err, cfg.ClientsFile)
			}
			return err
		}
	}
	ca := &clientAdmin{env: env, defaultAlg: cfg.SigningAlg, file: file, builtIn: builtIn}
	if sub == "add" || sub == "rotate-secret" {
		// A new secret is stored as its HMAC under the key-encryption key,
		// which must be the servers' own; without it nothing is changed.
		if ca.secrets, err = adminClientSecrets(cfg); err != nil {
			return err
		}
	}
	if ca.db, err = openAdminDatabase(ctx, cfg); err != nil {
		return err
	}
	defer ca.db.Close()
	return run(ctx, ca, args)
}

// clientAdmin is what a clients subcommand works with; secrets is set only
// for the subcommands that make a secret.
type clientAdmin struct {
	env     *environment
	db      store.Durable
	secrets *provider.ClientSecrets
	// defaultAlg signs the ID tokens of clients that chose no algorithm.
	defaultAlg string
	// file and builtIn are the clients of IDP_CLIENTS_FILE (without secrets)
	// and those the service defines itself, which only list shows.
	file, builtIn []*store.Client
}

// staticClients are the form apps the servers of cfg have besides the
// database's: those of the clients file (read without their secrets) and the
// built-in ones: the operators' console (IDP_ADMIN_URL) and the demo form
// app of embedded mode.
func staticClients(cfg *config.Config) (file, builtIn []*store.Client, err error) {
	if cfg.ClientsFile != "" {
		if file, err = provider.ReadClientsFile(cfg.ClientsFile); err != nil {
			return nil, nil, err
		}
	}
	if cfg.AdminURL != "" {
		builtIn = append(builtIn, admin.Client(cfg.AdminURL, ""))
	}
	if cfg.Embedded() {
		builtIn = append(builtIn, provider.DemoClient(app.DemoFormAppURL))
	}
	return file, builtIn, nil
}

// adminClientSecrets hashes client secrets as the servers do, with the
// key-encryption key of the configuration or the embedded key file.
func adminClientSecrets(cfg *config.Config) (*provider.ClientSecrets, error) {
	kek, err := adminKeyEncryptionKey(cfg)
	if err != nil {
		var u usageError
		if errors.As(err, &u) {
			return nil, usageError{fmt.Errorf("client secrets are hashed with the key-encryption key: %w", u.err)}
		}
		return nil, fmt.Errorf("client secrets are hashed with the key-encryption key: %w", err)
	}
	return provider.NewClientSecrets(kek)
}

func wantArgs(sub string, args []string) error {
	want := 1
	if sub == "list" {
		want = 0
	}
	if len(args) != want {
		if want == 0 {
			return usageError{fmt.Errorf("%s takes no arguments", sub)}
		}
		return usageError{fmt.Errorf("usage: idp clients %s ID", sub)}
	}
	return nil
}

// adminDatabase reads the settings of a command that sends nothing and opens its
// database (the caller closes it).
func adminDatabase(ctx context.Context, env *environment) (store.Durable, error) {
	cfg, err := loadAdminConfig(env, nil)
	if err != nil {
		return nil, err
	}
	return openAdminDatabase(ctx, cfg)
}

// openAdminDatabase opens the database for an admin command. The embedded
// SQLite database is migrated here too, so the commands work before the first
// `idp serve`; PostgreSQL is migrated only by `idp migrate`.
func openAdminDatabase(ctx context.Context, cfg *config.Config) (store.Durable, error) {
	db, err := app.OpenDurable(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.DatabaseKind == config.DatabaseSQLite {
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("migrate %s database: %w", cfg.DatabaseKind, err)
		}
	}
	return db, nil
}

// stringList is a flag that may be given several times.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// clientFlags are the settings add and update share.
type clientFlags struct {
	name                          string
	redirects, postLogout, scopes stringList
	backchannelURI                string
	backchannelSession            bool
	alg                           string
}

func (f *clientFlags) bind(fs *flag.FlagSet, lists string) {
	fs.StringVar(&f.name, "name", "", "name shown to people signing in")
	fs.Var(&f.redirects, "redirect-uri", "redirect URI (repeatable; https, or http only for localhost)"+lists)
	fs.Var(&f.postLogout, "post-logout-redirect-uri", "where to return after sign-out (repeatable)"+lists)
	fs.Var(&f.scopes, "scope", "scope the client may ask for (repeatable; default: all)"+lists)
	fs.StringVar(&f.backchannelURI, "backchannel-logout-uri", "",
		"where the form app receives logout tokens (Back-Channel Logout; https, or http only for localhost)")
	fs.BoolVar(&f.backchannelSession, "backchannel-logout-session-required", false,
		"the form app needs the sid claim in logout tokens")
	fs.StringVar(&f.alg, "id-token-signed-response-alg", "",
		"algorithm of the client's ID tokens: RS256 or ES256 (default: the service's IDP_SIGNING_ALG)")
}

// scopeList splits --scope values, which may also be comma or space separated.
func (f *clientFlags) scopeList() []string {
	var out []string
	for _, s := range f.scopes {
		out = append(out, strings.Fields(strings.ReplaceAll(s, ",", " "))...)
	}
	return out
}

// signingAlg is --id-token-signed-response-alg, in the case JOSE spells it.
func (f *clientFlags) signingAlg() string { return strings.ToUpper(strings.TrimSpace(f.alg)) }

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

func parseClientFlags(env *environment, args []string) (provider.NewClient, error) {
	fs := flag.NewFlagSet("idp clients add", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var nc provider.NewClient
	var f clientFlags
	fs.StringVar(&nc.ID, "id", "", "client id (letters, digits, '.', '_', '-')")
	f.bind(fs, "")
	fs.BoolVar(&nc.Public, "public", false, "public client (no secret; must use PKCE)")
	if err := parseFlags(fs, args); err != nil {
		return nc, err
	}
	if nc.ID == "" || f.name == "" || len(f.redirects) == 0 {
		return nc, usageError{errors.New("--id, --name and at least one --redirect-uri are required")}
	}
	nc.Name, nc.RedirectURIs, nc.PostLogoutRedirectURIs, nc.Scopes = f.name, f.redirects, f.postLogout, f.scopeList()
	nc.BackchannelLogoutURI, nc.BackchannelLogoutSessionRequired = f.backchannelURI, f.backchannelSession
	nc.IDTokenSignedResponseAlg = f.signingAlg()
	if err := provider.ValidateClient(nc.Client()); err != nil {
		return nc, usageError{err}
	}
	return nc, nil
}

const updateUsage = "usage: idp clients update ID [--name NAME] [--redirect-uri URI ...] [--post-logout-redirect-uri URI ...] " +
	"[--scope SCOPE ...] [--backchannel-logout-uri URI] [--backchannel-logout-session-required[=false]] " +
	"[--id-token-signed-response-alg RS256|ES256]"

// parseClientUpdate reads `update ID` and the flags given: only those change.
// A list flag replaces the whole list; given as "" it empties it (and
// --backchannel-logout-uri "" or --id-token-signed-response-alg "" removes
// the setting).
func parseClientUpdate(env *environment, args []string) (string, provider.ClientChange, error) {
	var ch provider.ClientChange
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "", ch, usageError{errors.New(updateUsage)}
	}
	id := args[0]
	fs := flag.NewFlagSet("idp clients update", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var f clientFlags
	f.bind(fs, "; replaces the list, an empty value empties it")
	if err := parseFlags(fs, args[1:]); err != nil {
		return "", ch, err
	}
	nonEmpty := func(l []string) *[]string {
		out := []string{}
		for _, v := range l {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return &out
	}
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "name":
			ch.Name = &f.name
		case "redirect-uri":
			ch.RedirectURIs = nonEmpty(f.redirects)
		case "post-logout-redirect-uri":
			ch.PostLogoutRedirectURIs = nonEmpty(f.postLogout)
		case "scope":
			ch.Scopes = nonEmpty(f.scopeList())
		case "backchannel-logout-uri":
			uri := strings.TrimSpace(f.backchannelURI)
			ch.BackchannelLogoutURI = &uri
		case "backchannel-logout-session-required":
			ch.BackchannelLogoutSessionRequired = &f.backchannelSession
		case "id-token-signed-response-alg":
			alg := f.signingAlg()
			ch.IDTokenSignedResponseAlg = &alg
		}
	})
	if ch == (provider.ClientChange{}) {
		return "", ch, usageError{errors.New("nothing to change: give at least one setting; " + updateUsage)}
	}
	// What can be checked without the stored client is checked before the
	// database is opened.
	probe := ch.Apply(&store.Client{ID: id, Name: "probe", RedirectURIs: []string{"https://probe.example/"}})
	if err := provider.ValidateClient(probe); err != nil {
		return "", ch, usageError{err}
	}
	return id, ch, nil
}

func clientsAdd(ctx context.Context, ca *clientAdmin, args []string) error {
	env, db := ca.env, ca.db
	nc, err := parseClientFlags(env, args)
	if err != nil {
		return err
	}
	secret, err := provider.AddClient(ctx, db, ca.secrets, nc, time.Now())
	if err != nil {
		if errors.Is(err, provider.ErrInvalidClient) {
			return usageError{err}
		}
		return err
	}
	audit(ctx, env, db, "client.created", nc.ID, "registered with the admin command")
	fmt.Fprintf(env.stdout, "client %s registered\n", nc.ID)
	if secret != "" {
		printSecret(env.stdout, secret)
	}
	return nil
}

func clientsUpdate(ctx context.Context, ca *clientAdmin, args []string) error {
	env, db := ca.env, ca.db
	id, ch, err := parseClientUpdate(env, args)
	if err != nil {
		return err
	}
	if _, err := provider.UpdateClient(ctx, db, id, ch); err != nil {
		switch {
		case errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("no client with id %q", id)
		case errors.Is(err, provider.ErrInvalidClient):
			return usageError{err}
		}
		return fmt.Errorf("update client: %w", err)
	}
	audit(ctx, env, db, "client.updated", id, "changed with the admin command: "+strings.Join(changedSettings(ch), ", "))
	fmt.Fprintf(env.stdout, "client %s updated; its secret is unchanged\n", id)
	return nil
}

// changedSettings names the settings a change gives, for the audit log.
func changedSettings(ch provider.ClientChange) []string {
	var out []string
	for _, s := range []struct {
		name  string
		given bool
	}{
		{"name", ch.Name != nil}, {"redirect URIs", ch.RedirectURIs != nil},
		{"post-logout redirect URIs", ch.PostLogoutRedirectURIs != nil}, {"scopes", ch.Scopes != nil},
		{"back-channel logout URI", ch.BackchannelLogoutURI != nil},
		{"back-channel logout session required", ch.BackchannelLogoutSessionRequired != nil},
		{"ID token signing algorithm", ch.IDTokenSignedResponseAlg != nil},
	} {
		if s.given {
			out = append(out, s.name)
		}
	}
	return out
}

func printSecret(w io.Writer, secret string) {
	fmt.Fprintf(w, "client secret: %s\n", secret)
	fmt.Fprintln(w, "This secret is shown only now. Store it in the form app's configuration; it cannot be displayed again.")
}

func clientsList(ctx context.Context, ca *clientAdmin, _ []string) error {
	env, db := ca.env, ca.db
	apps, err := provider.ListFormApps(ctx, db, ca.file, ca.builtIn)
	if err != nil {
		return fmt.Errorf("list clients: %w", err)
	}
	if len(apps) == 0 {
		fmt.Fprintln(env.stdout, "no clients registered")
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTYPE\tSOURCE\tSTATE\tREDIRECT URIS")
	for _, a := range apps {
		c := a.Client
		source := string(a.Source)
		if a.ReadOnly() {
			source += " (read-only)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, clientType(c), source, formAppState(a), strings.Join(c.RedirectURIs, " "))
	}
	return tw.Flush()
}

// formAppState says whether a form app is in use.
func formAppState(a provider.FormApp) string {
	switch {
	case a.Hidden:
		return "unused: the file's or built-in client of this id takes precedence"
	case !a.Client.DisabledAt.IsZero():
		return "disabled since " + a.Client.DisabledAt.UTC().Format(time.RFC3339)
	}
	return "enabled"
}

func clientType(c *store.Client) string {
	if c.Public {
		return "public"
	}
	return "confidential"
}

func clientsShow(ctx context.Context, ca *clientAdmin, args []string) error {
	env, db := ca.env, ca.db
	apps, err := provider.ListFormApps(ctx, db, ca.file, ca.builtIn)
	if err != nil {
		return fmt.Errorf("show client: %w", err)
	}
	i := slices.IndexFunc(apps, func(a provider.FormApp) bool { return a.Client.ID == args[0] && !a.Hidden })
	if i < 0 {
		return fmt.Errorf("no client with id %q", args[0])
	}
	c := apps[i].Client
	scopes := "all supported"
	if len(c.Scopes) > 0 {
		scopes = strings.Join(c.Scopes, " ")
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "id:\t%s\n", c.ID)
	fmt.Fprintf(tw, "name:\t%s\n", c.Name)
	fmt.Fprintf(tw, "type:\t%s\n", clientType(c))
	if apps[i].ReadOnly() {
		fmt.Fprintf(tw, "defined in:\t%s (read-only here)\n", apps[i].Source)
	}
	fmt.Fprintf(tw, "redirect URIs:\t%s\n", strings.Join(c.RedirectURIs, " "))
	fmt.Fprintf(tw, "post-logout redirect URIs:\t%s\n", strings.Join(c.PostLogoutRedirectURIs, " "))
	fmt.Fprintf(tw, "scopes:\t%s\n", scopes)
	bcl := "none"
	if c.BackchannelLogoutURI != "" {
		bcl = c.BackchannelLogoutURI
	}
	fmt.Fprintf(tw, "back-channel logout URI:\t%s\n", bcl)
	fmt.Fprintf(tw, "back-channel logout session required:\t%s\n", yesNo(c.BackchannelLogoutSessionRequired))
	alg := c.IDTokenSignedResponseAlg
	if alg == "" {
		alg = "default (" + ca.defaultAlg + ")"
	}
	fmt.Fprintf(tw, "ID token signing algorithm:\t%s\n", alg)
	if !c.DisabledAt.IsZero() {
		fmt.Fprintf(tw, "disabled:\tsince %s\n", c.DisabledAt.UTC().Format(time.RFC3339))
	}
	if c.PreviousSecretHash != "" && time.Now().Before(c.PreviousSecretExpiresAt) {
		fmt.Fprintf(tw, "previous secret:\tstill works until %s\n", c.PreviousSecretExpiresAt.UTC().Format(time.RFC3339))
	}
	if !c.CreatedAt.IsZero() {
		fmt.Fprintf(tw, "created:\t%s\n", c.CreatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func clientsRemove(ctx context.Context, ca *clientAdmin, args []string) error {
	env, db := ca.env, ca.db
	err := db.DeleteClient(ctx, args[0])
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no client with id %q", args[0])
	}
	if err != nil {
		return fmt.Errorf("remove client: %w", err)
	}
	audit(ctx, env, db, "client.removed", args[0], "removed with the admin command")
	fmt.Fprintf(env.stdout, "client %s removed\n", args[0])
	return nil
}

func clientsDisable(ctx context.Context, ca *clientAdmin, args []string) error {
	return setClientDisabled(ctx, ca, args[0], true)
}

func clientsEnable(ctx context.Context, ca *clientAdmin, args []string) error {
	return setClientDisabled(ctx, ca, args[0], false)
}

// setClientDisabled disables or enables a database client: while disabled it
// is refused at /authorize and at the token endpoint (invalid_client).
func setClientDisabled(ctx context.Context, ca *clientAdmin, id string, disabled bool) error {
	env, db := ca.env, ca.db
	changed, err := provider.SetClientDisabled(ctx, db, id, disabled, time.Now())
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no client with id %q", id)
	}
	if err != nil {
		return err
	}
	state := map[bool]string{true: "disabled", false: "enabled"}[disabled]
	if !changed {
		fmt.Fprintf(env.stdout, "client %s is already %s\n", id, state)
		return nil
	}
	if disabled {
		audit(ctx, env, db, "client.disabled", id, "disabled with the admin command")
		fmt.Fprintf(env.stdout, "client %s disabled: its sign-ins and token requests are refused until `idp clients enable %s`\n", id, id)
		return nil
	}
	audit(ctx, env, db, "client.enabled", id, "enabled with the admin command")
	fmt.Fprintf(env.stdout, "client %s enabled\n", id)
	return nil
}

// defaultSecretOverlap is how long a rotated secret keeps working unless
// --overlap says otherwise: a day for the form app's team to deploy the new one.
const defaultSecretOverlap = 24 * time.Hour

// parseRotateSecret reads rotate-secret's arguments: the client id and
// --overlap (how long the old secret keeps working; 0s stops it at once).
func parseRotateSecret(env *environment, args []string) (string, time.Duration, error) {
	fs := flag.NewFlagSet("idp clients rotate-secret", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	overlap := fs.Duration("overlap", defaultSecretOverlap, "how long the old secret keeps working")
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", 0, usageError{fmt.Errorf("rotate-secret: %w (usage: idp clients rotate-secret ID [--overlap 24h])", err)}
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if fs.NArg() != 0 {
		return "", 0, usageError{fmt.Errorf("rotate-secret: unexpected argument %q", fs.Arg(0))}
	}
	if strings.TrimSpace(id) == "" {
		return "", 0, usageError{errors.New("usage: idp clients rotate-secret ID [--overlap 24h]")}
	}
	if *overlap < 0 || *overlap > 30*24*time.Hour {
		return "", 0, usageError{fmt.Errorf("rotate-secret: --overlap %v: give 0s (the old secret stops at once) up to 720h", *overlap)}
	}
	return id, *overlap, nil
}

func clientsRotateSecret(ctx context.Context, ca *clientAdmin, args []string) error {
	env, db := ca.env, ca.db
	id, overlap, err := parseRotateSecret(env, args)
	if err != nil {
		return err
	}
	var until time.Time
	if overlap > 0 {
		until = time.Now().Add(overlap).UTC().Truncate(time.Second)
	}
	secret, err := provider.RotateClientSecret(ctx, db, ca.secrets, id, until)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no client with id %q", id)
	}
	if err != nil {
		return err
	}
	if until.IsZero() {
		audit(ctx, env, db, "client.secret_rotated", id, "secret rotated with the admin command; the old one stopped at once")
		fmt.Fprintf(env.stdout, "client %s has a new secret; the old one no longer works\n", id)
	} else {
		audit(ctx, env, db, "client.secret_rotated", id, "secret rotated with the admin command; the old one works until "+until.Format(time.RFC3339))
		fmt.Fprintf(env.stdout, "client %s has a new secret; the old one keeps working until %s (give the form app the new one before then)\n", id, until.Format(time.RFC3339))
	}
	printSecret(env.stdout, secret)
	return nil
}

// audit records an admin action; the action is done already, so a failure
// to record it is reported but does not fail the command.
func audit(ctx context.Context, env *environment, db store.Audit, kind, clientID, detail string) {
	err := db.AppendAudit(ctx, &store.AuditEvent{Time: time.Now(), Kind: kind, ClientID: clientID, Detail: detail, Operator: env.auditOperator()})
	if err != nil {
		fmt.Fprintf(env.stderr, "warning: audit event %s not recorded: %v\n", kind, err)
	}
}
