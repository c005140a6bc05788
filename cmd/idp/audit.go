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

	"github.com/councilforms/idp/idp/support"
	"github.com/councilforms/idp/store"
)

const auditUsage = "usage: idp audit list|export [--user EMAIL|--sub ID] [--client ID] [--kind KIND] [--operator NAME] " +
	"[--since TIME] [--until TIME] [--limit N] [--format jsonl|csv]"

// audit reads the audit log of the database named by IDP_DATABASE_URL, for the
// council's auditors and for subject-access requests: `idp audit list` shows the
// newest events that match, `idp audit export` writes every one that matches,
// as JSON Lines (default) or CSV, newest first.
func auditCmd(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "export") {
		return usageError{errors.New(auditUsage)}
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("idp audit "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		email, userID, since, until string
		f                           store.AuditFilter
		format                      string
	)
	fs.StringVar(&email, "user", "", "the person's email address")
	fs.StringVar(&userID, "sub", "", "the person's user id (sub), or an erased account's pseudonym")
	fs.StringVar(&f.ClientID, "client", "", "a form app's client id")
	fs.StringVar(&f.Kind, "kind", "", "an event kind, e.g. admin.reset_phone")
	fs.StringVar(&f.Operator, "operator", "", "who ran an admin command, e.g. cli:sam")
	fs.StringVar(&since, "since", "", "events at or after this time (RFC 3339, or a date 2006-01-02)")
	fs.StringVar(&until, "until", "", "events before this time")
	fs.IntVar(&f.Limit, "limit", 50, "at most this many events (list)")
	fs.StringVar(&format, "format", "jsonl", "export format: jsonl or csv")
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Errorf("%w (%s)", err, auditUsage)}
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Errorf("unexpected argument %q (%s)", fs.Arg(0), auditUsage)}
	}
	var err error
	if f.Since, err = parseAuditTime("since", since); err != nil {
		return err
	}
	if f.Until, err = parseAuditTime("until", until); err != nil {
		return err
	}
	if email != "" && userID != "" {
		return usageError{errors.New("give --user or --sub, not both")}
	}
	if format != "jsonl" && format != "csv" {
		return usageError{fmt.Errorf("--format %q: jsonl or csv", format)}
	}
	if f.Limit <= 0 || f.Limit > 10000 {
		return usageError{fmt.Errorf("--limit %d: give 1 to 10000", f.Limit)}
	}
	db, err := adminDatabase(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	f.UserID = userID
	if email != "" {
		u, err := db.UserByEmail(ctx, email)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no user with email %q (an erased account is found by its pseudonym: --sub erased:...)", email)
		}
		if err != nil {
			return fmt.Errorf("find user: %w", err)
		}
		f.UserID = u.ID
	}
	if sub == "list" {
		es, err := db.QueryAudit(ctx, f)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tKIND\tUSER\tCLIENT\tIP\tOPERATOR\tDETAIL\tREASON")
		for _, e := range es {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format(time.RFC3339), e.Kind, orDash(e.UserID),
				orDash(e.ClientID), orDash(e.IP), orDash(e.Operator), e.Detail, orDash(e.Reason))
		}
		return tw.Flush()
	}
	return support.ExportAudit(ctx, env.stdout, db, f, format)
}

func parseAuditTime(name, v string) (time.Time, error) {
	if strings.TrimSpace(v) == "" {
		return time.Time{}, nil
	}
	if t, ok := support.ParseTime(v); ok {
		return t, nil
	}
	return time.Time{}, usageError{fmt.Errorf("--%s %q: give a time such as 2026-12-02T16:25:00Z or a date such as 2026-12-02", name, v)}
}
