package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/councilforms/idp/idp/app"
	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/store"
)

// clients manages registered relying parties in the database named by
// IDP_DATABASE_URL: idp clients add|list|show|remove|rotate-secret.
func clients(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 {
		return usageError{errors.New("usage: idp clients add|list|show ID|remove ID|rotate-secret ID")}
	}
	sub, args := args[0], args[1:]
	run, ok := map[string]func(context.Context, *clientAdmin, []string) error{
		"add": clientsAdd, "list": clientsList, "show": clientsShow, "remove": clientsRemove, "rotate-secret": clientsRotateSecret,
	}[sub]
	if !ok {
		return usageError{fmt.Errorf("unknown subcommand %q (add, list, show, remove, rotate-secret)", sub)}
	}
	// Check the arguments before touching the database, so bad usage changes nothing.
	if sub == "add" {
		if _, err := parseClientFlags(env, args); err != nil {
			return err
		}
	} else if err := wantArgs(sub, args); err != nil {
		return err
	}
	cfg, err := loadAdminConfig(env, nil)
	if err != nil {
		return err
	}
	ca := &clientAdmin{env: env}
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

func parseClientFlags(env *environment, args []string) (provider.NewClient, error) {
	fs := flag.NewFlagSet("idp clients add", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var nc provider.NewClient
	var redirects, postLogout, scopes stringList
	fs.StringVar(&nc.ID, "id", "", "client id (letters, digits, '.', '_', '-')")
	fs.StringVar(&nc.Name, "name", "", "name shown to people signing in")
	fs.Var(&redirects, "redirect-uri", "redirect URI (repeatable; https, or http only for localhost)")
	fs.Var(&postLogout, "post-logout-redirect-uri", "where to return after sign-out (repeatable)")
	fs.Var(&scopes, "scope", "scope the client may ask for (repeatable; default: all)")
	fs.BoolVar(&nc.Public, "public", false, "public client (no secret; must use PKCE)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nc, err
		}
		return nc, usageError{err}
	}
	if fs.NArg() > 0 {
		return nc, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if nc.ID == "" || nc.Name == "" || len(redirects) == 0 {
		return nc, usageError{errors.New("--id, --name and at least one --redirect-uri are required")}
	}
	nc.RedirectURIs, nc.PostLogoutRedirectURIs = redirects, postLogout
	for _, s := range scopes {
		nc.Scopes = append(nc.Scopes, strings.Fields(strings.ReplaceAll(s, ",", " "))...)
	}
	c := &store.Client{ID: nc.ID, Name: nc.Name, RedirectURIs: nc.RedirectURIs, PostLogoutRedirectURIs: nc.PostLogoutRedirectURIs, Scopes: nc.Scopes}
	if err := provider.ValidateClient(c); err != nil {
		return nc, usageError{err}
	}
	return nc, nil
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

func printSecret(w io.Writer, secret string) {
	fmt.Fprintf(w, "client secret: %s\n", secret)
	fmt.Fprintln(w, "This secret is shown only now. Store it in the form app's configuration; it cannot be displayed again.")
}

func clientsList(ctx context.Context, ca *clientAdmin, _ []string) error {
	env, db := ca.env, ca.db
	cs, err := db.ListClients(ctx)
	if err != nil {
		return fmt.Errorf("list clients: %w", err)
	}
	if len(cs) == 0 {
		fmt.Fprintln(env.stdout, "no clients registered")
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTYPE\tREDIRECT URIS")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, c.Name, clientType(c), strings.Join(c.RedirectURIs, " "))
	}
	return tw.Flush()
}

func clientType(c *store.Client) string {
	if c.Public {
		return "public"
	}
	return "confidential"
}

func clientsShow(ctx context.Context, ca *clientAdmin, args []string) error {
	env, db := ca.env, ca.db
	c, err := db.ClientByID(ctx, args[0])
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no client with id %q", args[0])
	}
	if err != nil {
		return fmt.Errorf("show client: %w", err)
	}
	scopes := "all supported"
	if len(c.Scopes) > 0 {
		scopes = strings.Join(c.Scopes, " ")
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "id:\t%s\n", c.ID)
	fmt.Fprintf(tw, "name:\t%s\n", c.Name)
	fmt.Fprintf(tw, "type:\t%s\n", clientType(c))
	fmt.Fprintf(tw, "redirect URIs:\t%s\n", strings.Join(c.RedirectURIs, " "))
	fmt.Fprintf(tw, "post-logout redirect URIs:\t%s\n", strings.Join(c.PostLogoutRedirectURIs, " "))
	fmt.Fprintf(tw, "scopes:\t%s\n", scopes)
	fmt.Fprintf(tw, "created:\t%s\n", c.CreatedAt.UTC().Format(time.RFC3339))
	return tw.Flush()
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

func clientsRotateSecret(ctx context.Context, ca *clientAdmin, args []string) error {
	env, db := ca.env, ca.db
	secret, err := provider.RotateClientSecret(ctx, db, ca.secrets, args[0])
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no client with id %q", args[0])
	}
	if err != nil {
		return err
	}
	audit(ctx, env, db, "client.secret_rotated", args[0], "secret rotated with the admin command")
	fmt.Fprintf(env.stdout, "client %s has a new secret; the old one no longer works\n", args[0])
	printSecret(env.stdout, secret)
	return nil
}

// audit records an admin action; the action is done already, so a failure
// to record it is reported but does not fail the command.
func audit(ctx context.Context, env *environment, db store.Audit, kind, clientID, detail string) {
	err := db.AppendAudit(ctx, &store.AuditEvent{Time: time.Now(), Kind: kind, ClientID: clientID, Detail: detail})
	if err != nil {
		fmt.Fprintf(env.stderr, "warning: audit event %s not recorded: %v\n", kind, err)
	}
}
