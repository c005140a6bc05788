package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/councilforms/idp/factors/email"
	"github.com/councilforms/idp/store"
)

const outboxUsage = "usage: idp outbox list [--status queued|sending|sent|failed] [--limit N]"

// outbox shows operators the email outbox of the database named by
// IDP_DATABASE_URL, newest first: idp outbox list. Bodies are never shown (they
// hold codes, and are erased once a message is sent or has failed).
func outbox(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "list" {
		return usageError{errors.New(outboxUsage)}
	}
	fs := flag.NewFlagSet("idp outbox list", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	status := fs.String("status", "", "only messages in this state: queued, sending, sent or failed")
	limit := fs.Int("limit", 50, "show at most this many messages, newest first (1 to 1000)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (%s)", fs.Arg(0), outboxUsage)}
	}
	switch store.OutboxStatus(*status) {
	case "", store.OutboxQueued, store.OutboxSending, store.OutboxSent, store.OutboxFailed:
	default:
		return usageError{fmt.Errorf("--status %q must be queued, sending, sent or failed", *status)}
	}
	if *limit < 1 || *limit > 1000 {
		return usageError{fmt.Errorf("--limit %d must be from 1 to 1000", *limit)}
	}

	// Listing sends nothing, so the delivery settings are not required here.
	db, err := adminDatabase(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	ms, err := db.ListOutbox(ctx, store.OutboxStatus(*status), *limit)
	if err != nil {
		return fmt.Errorf("list outbox: %w", err)
	}
	if len(ms) == 0 {
		if *status != "" {
			fmt.Fprintf(env.stdout, "no %s messages in the outbox\n", *status)
		} else {
			fmt.Fprintln(env.stdout, "the outbox is empty")
		}
		return nil
	}
	if err := email.WriteOutboxTable(env.stdout, ms); err != nil {
		return err
	}
	if len(ms) == *limit {
		fmt.Fprintf(env.stdout, "(the newest %d shown; there may be more: raise --limit)\n", *limit)
	}
	return nil
}
