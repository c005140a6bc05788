package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/councilforms/idp/factors/email"
	"github.com/councilforms/idp/factors/messages"
	"github.com/councilforms/idp/idp/app"
	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/support"
	"github.com/councilforms/idp/store"
)

const usersUsage = "usage: idp users list [--search TEXT] [--limit N] | idp users show|unlock|disable|enable|reset-phone|end-sessions|delete EMAIL | " +
	"idp users import --from-b2c FILE|--from-export FILE [--dry-run] [--json] | idp users export [--format jsonl]"

// userAuditShown is how many of a person's latest audit events `idp users show` lists.
const userAuditShown = 10

// users is the IT team's helpdesk tool for people's accounts in the database named
// by IDP_DATABASE_URL: idp users show|unlock|disable|enable|reset-phone|end-sessions EMAIL.
// Accounts are found by email address, compared case-insensitively. Every change
// appends an audit event "admin.<action>" to the person's audit log.
// `idp users list` finds accounts by part of their email address.
func users(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 {
		return usageError{errors.New(usersUsage)}
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "list":
		return usersList(ctx, env, args)
	case "import":
		return usersImport(ctx, env, args)
	case "export":
		return usersExport(ctx, env, args)
	}
	run, ok := map[string]func(context.Context, *environment, store.Durable, *store.User) error{
		"show": usersShow, "unlock": usersUnlock, "disable": usersDisable, "enable": usersEnable, "reset-phone": usersResetPhone,
		"end-sessions": usersEndSessions, "delete": usersDelete,
	}[sub]
	if !ok {
		return usageError{fmt.Errorf("unknown subcommand %q (list, show, unlock, disable, enable, reset-phone, end-sessions, delete, import, export)", sub)}
	}
	// Check the arguments before touching the database, so bad usage changes nothing.
	if len(args) != 1 || strings.TrimSpace(args[0]) == "" || strings.HasPrefix(args[0], "-") {
		return usageError{fmt.Errorf("usage: idp users %s EMAIL", sub)}
	}
	email := strings.TrimSpace(args[0])
	cfg, err := loadAdminConfig(env, nil)
	if err != nil {
		return err
	}
	db, err := openAdminDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	env.support = func(db store.Durable) *support.Service { return supportService(cfg, db) }
	u, err := db.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user with email %q", email)
	}
	if err != nil {
		return fmt.Errorf("find user: %w", err)
	}
	return run(ctx, env, db, u)
}

// usersList prints the accounts whose email contains --search, a line each.
func usersList(ctx context.Context, env *environment, args []string) error {
	fs := flag.NewFlagSet("idp users list", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	search := fs.String("search", "", "only accounts whose email address contains this text (case-insensitive)")
	limit := fs.Int("limit", 100, "show at most this many accounts, by email address (1 to 1000)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (usage: idp users list [--search TEXT] [--limit N])", fs.Arg(0))}
	}
	if *limit < 1 || *limit > 1000 {
		return usageError{fmt.Errorf("--limit must be from 1 to 1000 (got %d)", *limit)}
	}
	db, err := adminDatabase(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	us, err := db.ListUsers(ctx, strings.TrimSpace(*search), *limit)
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	if len(us) == 0 {
		fmt.Fprintln(env.stdout, "no accounts")
		return nil
	}
	now := time.Now()
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tPHONE\tSTATUS\tMIGRATION\tLOCKED\tCREATED")
	for _, u := range us {
		phone := "-"
		if u.Phone != "" {
			phone = journey.MaskPhone(u.Phone)
		}
		locked := "-"
		if now.Before(u.LockedUntil) {
			locked = "until " + u.LockedUntil.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Email, orDash(strings.TrimSpace(u.GivenName+" "+u.FamilyName)),
			phone, u.Status, orDash(migrationState(u)), locked, u.CreatedAt.UTC().Format("2006-01-02"))
	}
	return tw.Flush()
}

func usersShow(ctx context.Context, env *environment, db store.Durable, u *store.User) error {
	events, err := db.ListAudit(ctx, u.ID, userAuditShown)
	if err != nil {
		return fmt.Errorf("list audit events: %w", err)
	}
	now := time.Now()
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "id:\t%s\n", u.ID)
	fmt.Fprintf(tw, "email:\t%s (%s)\n", u.Email, verified(u.EmailVerified))
	fmt.Fprintf(tw, "name:\t%s\n", strings.TrimSpace(u.GivenName+" "+u.FamilyName))
	fmt.Fprintf(tw, "phone:\t%s\n", phoneSummary(u))
	fmt.Fprintf(tw, "status:\t%s\n", u.Status)
	fmt.Fprintf(tw, "account:\t%s\n", accountSummary(u))
	fmt.Fprintf(tw, "last sign-in:\t%s\n", timeOrNever(u.LastSignInAt))
	fmt.Fprintf(tw, "failed logins:\t%d\n", u.FailedLogins)
	fmt.Fprintf(tw, "locked until:\t%s\n", lockSummary(u.LockedUntil, now))
	fmt.Fprintf(tw, "created:\t%s\n", u.CreatedAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(tw, "updated:\t%s\n", u.UpdatedAt.UTC().Format(time.RFC3339))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(events) == 0 {
		fmt.Fprintln(env.stdout, "\nno audit events")
		return nil
	}
	fmt.Fprintf(env.stdout, "\nlatest audit events (at most %d, newest first):\n", userAuditShown)
	tw = tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tKIND\tCLIENT\tIP\tOPERATOR\tDETAIL\tREASON")
	for _, e := range events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format(time.RFC3339), e.Kind, orDash(e.ClientID), orDash(e.IP), orDash(e.Operator), e.Detail, orDash(e.Reason))
	}
	return tw.Flush()
}

// migrationState is where an imported account is in its move here: "imported,
// not yet signed in" until its first sign-in (its password checked by B2C once,
// or set anew), "migrated" after; empty for an account made here.
func migrationState(u *store.User) string {
	switch {
	case u.ImportedFrom == "":
		return ""
	case u.AwaitingMigration():
		return "imported, not yet signed in"
	default:
		return "migrated"
	}
}

// importSources names where an imported account came from.
var importSources = map[string]string{store.ImportedB2C: "Azure AD B2C", store.ImportedExport: "another instance's export"}

func accountSummary(u *store.User) string {
	if u.ImportedFrom == "" {
		return "made here"
	}
	from := importSources[u.ImportedFrom]
	if from == "" {
		from = u.ImportedFrom
	}
	if u.AwaitingMigration() {
		return fmt.Sprintf("imported, not yet signed in (from %s)", from)
	}
	return fmt.Sprintf("migrated (from %s; first signed in here %s)", from, u.MigratedAt.UTC().Format(time.RFC3339))
}

func timeOrNever(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

func verified(ok bool) string {
	if ok {
		return "verified"
	}
	return "not verified"
}

// phoneSummary shows the number as the person's challenge page does (all but the
// last 3 digits hidden), so the helpdesk can say "the number ending 123".
func phoneSummary(u *store.User) string {
	if u.Phone == "" {
		return "none (a phone is enrolled at the next sign-in)"
	}
	kind := u.PhoneType
	if kind == "" {
		kind = "unknown type"
	}
	return fmt.Sprintf("%s (%s, %s)", journey.MaskPhone(u.Phone), kind, verified(u.PhoneVerified))
}

func lockSummary(until, now time.Time) string {
	switch {
	case until.IsZero():
		return "-"
	case now.Before(until):
		return until.UTC().Format(time.RFC3339) + " (locked now)"
	default:
		return until.UTC().Format(time.RFC3339) + " (expired)"
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cliActor is the operator of an admin command, for support's audit events.
func cliActor(env *environment) support.Actor {
	return support.Actor{Operator: env.auditOperator(), Reason: env.reason, Via: "with the admin command", Again: "run the command again"}
}

// reportAudit warns when a change was made but its audit event was not recorded.
func reportAudit(env *environment, r support.Result) {
	if r.AuditErr != nil {
		fmt.Fprintf(env.stderr, "warning: %v\n", r.AuditErr)
	}
}

func usersUnlock(ctx context.Context, env *environment, db store.Durable, u *store.User) error {
	r, err := env.support(db).Unlock(ctx, u, cliActor(env))
	if err != nil {
		return err
	}
	if !r.Changed {
		fmt.Fprintf(env.stdout, "user %s was not locked and has no failed logins; nothing changed\n", u.Email)
		return nil
	}
	reportAudit(env, r)
	fmt.Fprintf(env.stdout, "user %s unlocked: %d failed logins cleared; they can sign in with their password now\n", u.Email, r.FailedLogins)
	return nil
}

// usersDisable stops a person signing in (support.Service.Disable).
func usersDisable(ctx context.Context, env *environment, db store.Durable, u *store.User) error {
	r, err := env.support(db).Disable(ctx, u, cliActor(env))
	reportAudit(env, r)
	if err != nil {
		return err
	}
	if !r.Changed {
		fmt.Fprintf(env.stdout, "user %s is already disabled; nothing changed\n", u.Email)
		return nil
	}
	warnReimport(env, u, "enable them again")
	fmt.Fprintf(env.stdout, "user %s disabled: they cannot sign in (the login pages answer 'email address or password is incorrect'), their refresh tokens are revoked, and the running servers end their sessions and tell their form apps (back-channel logout)\n", u.Email)
	fmt.Fprintln(env.stdout, noticeLine(u, r))
	return nil
}

// usersEndSessions signs a person out everywhere (support.Service.EndSessions).
func usersEndSessions(ctx context.Context, env *environment, db store.Durable, u *store.User) error {
	r, err := env.support(db).EndSessions(ctx, u, cliActor(env))
	if err != nil {
		return err
	}
	reportAudit(env, r)
	fmt.Fprintf(env.stdout, "user %s: the running servers end their sessions in every browser within seconds, revoke their tokens at every form app and tell the form apps; their next sign-in asks for the password and phone\n", u.Email)
	return nil
}

// usersDelete erases a person (support.Service.Delete).
func usersDelete(ctx context.Context, env *environment, db store.Durable, u *store.User) error {
	r, err := env.support(db).Delete(ctx, u, cliActor(env))
	if err != nil {
		return err
	}
	reportAudit(env, r)
	fmt.Fprintf(env.stdout, "user %s deleted: their account and personal data are erased (the audit log keeps their events as %s); the running servers end their sessions and tell their form apps\n", u.Email, r.Pseudonym)
	return nil
}

func usersEnable(ctx context.Context, env *environment, db store.Durable, u *store.User) error {
	r, err := env.support(db).Enable(ctx, u, cliActor(env))
	if err != nil {
		return err
	}
	if !r.Changed {
		fmt.Fprintf(env.stdout, "user %s is already active; nothing changed\n", u.Email)
		return nil
	}
	reportAudit(env, r)
	warnReimport(env, u, "disable them again if they are disabled there")
	fmt.Fprintf(env.stdout, "user %s enabled: they can sign in again\n", u.Email)
	return nil
}

// usersResetPhone is for someone who lost their phone (support.Service.ResetPhone).
func usersResetPhone(ctx context.Context, env *environment, db store.Durable, u *store.User) error {
	r, err := env.support(db).ResetPhone(ctx, u, cliActor(env))
	if err != nil {
		return err
	}
	if r.PendingCancelled {
		fmt.Fprintf(env.stdout, "the new phone number user %s gave themselves, still waiting to take effect, is cancelled.\n", u.Email)
	}
	if !r.Changed {
		fmt.Fprintf(env.stdout, "user %s has no phone number; nothing changed. At their next sign-in, after their password, they will be asked to enrol a new phone number.\n", u.Email)
		return nil
	}
	reportAudit(env, r)
	warnReimport(env, u, "bring the phone back if it is still there")
	fmt.Fprintf(env.stdout, "%s removed from user %s. At their next sign-in, after their password, they will be asked to enrol a new phone number.\n", r.Removed, u.Email)
	fmt.Fprintln(env.stdout, noticeLine(u, r))
	return nil
}

// supportService is what idp users acts through: the same as the console,
// telling people by email through the durable outbox the servers deliver.
// Without an SMTP relay (IDP_DEV) there is no outbox to deliver it, and the
// command says so.
func supportService(cfg *config.Config, db store.Durable) *support.Service {
	s := &support.Service{Store: db, ContactText: cfg.ContactText, ContactTextWelsh: app.ContactTextWelsh(cfg)}
	if cfg.SMTPConfigured() {
		if catalogue, err := messages.New(cfg.OrgName); err == nil {
			s.Messages, s.Notices = catalogue, email.NewOutbox(db, nil, nil)
		}
	}
	return s
}

// noticeLine is what the command prints about the email telling the person.
func noticeLine(u *store.User, r support.Result) string {
	switch r.Notice {
	case support.NoticeQueued:
		return "An email telling them what changed is queued for " + u.Email + "."
	case support.NoticeFailed:
		return fmt.Sprintf("Warning: the email telling them was not queued: %v", r.NoticeErr)
	default:
		return "No email relay is configured (IDP_SMTP_URL), so they are not told by email."
	}
}

// warnReimport says that a change to an account imported and not yet signed in
// here lasts only until the next import, which updates such accounts from B2C.
func warnReimport(env *environment, u *store.User, undo string) {
	if !u.AwaitingMigration() {
		return
	}
	from := importSources[u.ImportedFrom]
	if from == "" {
		from = u.ImportedFrom
	}
	fmt.Fprintf(env.stderr, "warning: %s was imported from %s and has not signed in here yet: another import would %s; make the change there too\n",
		u.Email, from, undo)
}

// auditUser records an admin action on a person's account, like audit does for
// clients: the change is made already, so a failure to record it is reported but
// does not fail the command.
func auditUser(ctx context.Context, env *environment, db store.Audit, kind, userID, detail string) {
	err := db.AppendAudit(ctx, &store.AuditEvent{Time: time.Now(), Kind: kind, UserID: userID, Detail: detail, Operator: env.auditOperator(), Reason: env.reason})
	if err != nil {
		fmt.Fprintf(env.stderr, "warning: audit event %s not recorded: %v\n", kind, err)
	}
}
