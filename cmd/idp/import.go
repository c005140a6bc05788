package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/councilforms/idp/factors/phone"
	accountmigrate "github.com/councilforms/idp/idp/migrate"
)

const importUsage = "usage: idp users import --from-b2c FILE | --from-export FILE [--dry-run] [--json]"

// usersImport brings accounts into the database of IDP_DATABASE_URL (see
// idp/migrate for the rules) and prints the report: exit status 0 when every record
// was imported or skipped for a listed reason, 1 when a record was unreadable, the
// file bad or a write failed (with the report of what was done).
func usersImport(ctx context.Context, env *environment, args []string) error {
	fs := flag.NewFlagSet("idp users import", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fromB2C := fs.String("from-b2c", "", "a file of Microsoft Graph users (list pages or JSON Lines) with their phoneMethods")
	fromExport := fs.String("from-export", "", "a file written by `idp users export` on another instance")
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
	if (*fromB2C == "") == (*fromExport == "") {
		return usageError{errors.New(importUsage)}
	}
	cfg, err := loadAdminConfig(env, nil)
	if err != nil {
		return err
	}
	rules := accountmigrate.Rules{Phone: phone.Rules{Countries: cfg.PhoneCountries, DevRanges: cfg.Dev}, Now: time.Now().UTC()}
	path, read, source := *fromB2C, accountmigrate.ReadB2C, "Azure AD B2C file "
	if *fromExport != "" {
		path, read, source = *fromExport, accountmigrate.ReadExport, "export file "
	}
	source += path
	rep := &accountmigrate.Report{Source: source, DryRun: *dryRun}
	print := func() {
		if *asJSON {
			_ = rep.WriteJSON(env.stdout)
		} else {
			_ = rep.WriteText(env.stdout)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		rep.Error = err.Error()
		print()
		return fmt.Errorf("%w: %v", accountmigrate.ErrIncomplete, err)
	}
	recs, err := read(f, rules)
	f.Close()
	if err != nil {
		// A file that cannot be read as a whole imports nothing.
		rep.Error = fmt.Sprintf("%s is not a file the import understands: %v; nothing was imported", path, err)
		print()
		return fmt.Errorf("%w: %s", accountmigrate.ErrIncomplete, rep.Error)
	}
	db, err := openAdminDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	im := &accountmigrate.Import{Accounts: db, DryRun: *dryRun}
	rep, err = im.Run(ctx, source, recs)
	print()
	return err
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
