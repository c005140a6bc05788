package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/idp/config"
	accountmigrate "github.com/councilforms/idp/idp/migrate"
)

const importUsage = "usage: idp users import --from-b2c FILE | --from-export FILE | --from-graph [--save FILE] [--dry-run] [--json]"

// usersImport brings accounts into the database of IDP_DATABASE_URL (see
// idp/migrate for the rules) and prints the report: exit status 0 when every record
// was imported or skipped for a listed reason, 1 when a record was unreadable, the
// file bad or a write failed (with the report of what was done).
func usersImport(ctx context.Context, env *environment, args []string) error {
	fs := flag.NewFlagSet("idp users import", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fromB2C := fs.String("from-b2c", "", "a file of Microsoft Graph users (list pages or JSON Lines) with their phoneMethods")
	fromExport := fs.String("from-export", "", "a file written by `idp users export` on another instance")
	fromGraph := fs.Bool("from-graph", false, "fetch the users from the B2C tenant through Microsoft Graph (settings IDP_B2C_TENANT, IDP_B2C_GRAPH_CLIENT_ID, IDP_B2C_GRAPH_CLIENT_SECRET)")
	save := fs.String("save", "", "with --from-graph: also write what was fetched to this file, in the --from-b2c format")
	dryRun := fs.Bool("dry-run", false, "say what would be done, and change nothing")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (%s)", fs.Arg(0), importUsage)}
	}
	sources := 0
	for _, given := range []bool{*fromB2C != "", *fromExport != "", *fromGraph} {
		if given {
			sources++
		}
	}
	if sources != 1 || (*save != "" && !*fromGraph) {
		return usageError{errors.New(importUsage)}
	}
	cfg, err := loadAdminConfig(env, nil)
	if err != nil {
		return err
	}
	var graph *accountmigrate.Graph
	if *fromGraph {
		if graph, err = graphSettings(cfg); err != nil {
			return err
		}
	}
	rules := accountmigrate.Rules{Phone: phone.Rules{Countries: cfg.PhoneCountries, DevRanges: cfg.Dev}, Now: time.Now().UTC()}
	if graph != nil {
		return importFromGraph(ctx, env, cfg, graph, rules, *save, *dryRun, *asJSON)
	}
	path, read, source := *fromB2C, accountmigrate.ReadB2C, "Azure AD B2C file "
	if *fromExport != "" {
		path, read, source = *fromExport, accountmigrate.ReadExport, "export file "
	}
	source += path
	rep := &accountmigrate.Report{Source: source, DryRun: *dryRun}
	printReport := func() {
		if *asJSON {
			_ = rep.WriteJSON(env.stdout)
		} else {
			_ = rep.WriteText(env.stdout)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		rep.Error = err.Error()
		printReport()
		return fmt.Errorf("%w: %v", accountmigrate.ErrIncomplete, err)
	}
	recs, err := read(f, rules)
	f.Close()
	if err != nil {
		// A file that cannot be read as a whole imports nothing.
		rep.Error = fmt.Sprintf("%s is not a file the import understands: %v; nothing was imported", path, err)
		printReport()
		return fmt.Errorf("%w: %s", accountmigrate.ErrIncomplete, rep.Error)
	}
	db, err := openAdminDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	im := &accountmigrate.Import{Accounts: db, DryRun: *dryRun}
	rep, err = im.Run(ctx, source, recs)
	printReport()
	return err
}

// graphSettings are the --from-graph settings (the settings table has them;
// the base URLs default to Microsoft's and were checked when they were read).
func graphSettings(cfg *config.Config) (*accountmigrate.Graph, error) {
	g := &accountmigrate.Graph{
		Tenant: cfg.B2CTenant, ClientID: cfg.B2CGraphClientID, ClientSecret: cfg.B2CGraphClientSecret,
		AuthorityURL: cfg.B2CAuthorityURL, GraphURL: cfg.B2CGraphURL,
	}
	var missing []string
	for _, c := range []struct{ name, v string }{{"IDP_B2C_TENANT", g.Tenant}, {"IDP_B2C_GRAPH_CLIENT_ID", g.ClientID}, {"IDP_B2C_GRAPH_CLIENT_SECRET", g.ClientSecret}} {
		if c.v == "" {
			missing = append(missing, c.name)
		}
	}
	if len(missing) > 0 {
		return nil, usageError{fmt.Errorf("--from-graph needs %s: the tenant (contoso.onmicrosoft.com) and an app registration's client id and secret", strings.Join(missing, ", "))}
	}
	return g, nil
}

// importFromGraph fetches the tenant's users, optionally saves them, and imports
// them as --from-b2c would the saved file.
func importFromGraph(ctx context.Context, env *environment, cfg *config.Config, g *accountmigrate.Graph, rules accountmigrate.Rules,
	save string, dryRun, asJSON bool) error {
	source := "Microsoft Graph, tenant " + g.Tenant
	printReport := func(rep *accountmigrate.Report) {
		if asJSON {
			_ = rep.WriteJSON(env.stdout)
		} else {
			_ = rep.WriteText(env.stdout)
		}
	}
	terminal := isTerminal(env.stderr)
	if terminal {
		g.Progress = func(n int) { fmt.Fprintf(env.stderr, "\rfetched %d users from Microsoft Graph", n) }
	}
	g.Warn = func(msg string) {
		if terminal {
			fmt.Fprintln(env.stderr)
		}
		fmt.Fprintln(env.stderr, "idp users import: warning: "+msg)
	}
	pages, err := g.Fetch(ctx)
	if terminal {
		fmt.Fprintln(env.stderr)
	}
	if err != nil {
		rep := &accountmigrate.Report{Source: source, DryRun: dryRun, Error: "fetching from Microsoft Graph failed, and nothing was imported: " + err.Error()}
		printReport(rep)
		return fmt.Errorf("%w: %s", accountmigrate.ErrIncomplete, rep.Error)
	}
	if save != "" {
		if err := writeFileAtomic(save, func(w io.Writer) error { return accountmigrate.WriteB2C(w, pages) }); err != nil {
			return fmt.Errorf("--save: %w", err)
		}
	}
	db, err := openAdminDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := (&accountmigrate.Import{Accounts: db, DryRun: dryRun}).Run(ctx, source, accountmigrate.GraphRecords(pages, rules))
	printReport(rep)
	return err
}

// isTerminal reports whether w is a terminal (a character device), where a
// progress line helps.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// writeFileAtomic writes a file (owner only: it holds personal data) through a
// temporary file in the same directory, so a failed write leaves no half file.
func writeFileAtomic(path string, fill func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".idp-save-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	bw := bufio.NewWriter(f)
	if err := fill(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// exportAll is the most accounts `idp users export` lists.
const exportAll = 1 << 30

// usersExport writes every account as JSON Lines (accountmigrate.ExportedUser) to stdout.
func usersExport(ctx context.Context, env *environment, args []string) error {
	fs := flag.NewFlagSet("idp users export", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	format := fs.String("format", "jsonl", "output format: jsonl (JSON Lines, one account a line)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (usage: idp users export [--format jsonl])", fs.Arg(0))}
	}
	if *format != "jsonl" {
		return usageError{fmt.Errorf("--format must be jsonl (got %q)", *format)}
	}
	db, err := adminDatabase(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	us, err := db.ListUsers(ctx, "", exportAll)
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	return accountmigrate.WriteExport(env.stdout, us)
}
