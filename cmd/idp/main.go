package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/councilforms/idp/idp/app"
	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/support"
	"github.com/councilforms/idp/store"
)

// command is one subcommand. run gets the arguments after the subcommand's name and
// returns an error to print; a usageError exits 2.
type command struct {
	summary string
	run     func(ctx context.Context, env *environment, args []string) error
}

// commands lists every subcommand. Add new ones here, with their code in a file
// named after them (clients.go, users.go, keys.go).
var commands = map[string]command{
	"serve":   {"run the identity provider (the default)", serve},
	"migrate": {"apply pending database migrations and exit", migrate},
	"version": {"print the version and exit", version},
	"clients": {"manage relying parties: add, list, show ID, update ID, remove ID, rotate-secret ID, disable ID, enable ID", clients},
	"keys":    {"list or rotate token signing keys (RS256 and ES256): list, rotate [--emergency] [--alg RS256|ES256]", keys},
	"users":   {"find accounts (list) and help people with them: show, unlock, disable, enable, reset-phone or end-sessions EMAIL; import (from Azure AD B2C or an export), export", users},

	"admins":      {"grant and revoke the roles of the operators' console: grant|revoke EMAIL ROLE, list", admins},
	"audit":       {"read the audit log: list or export (jsonl, csv) by person, form app, kind, operator and time", auditCmd},
	"costs":       {"texts and calls by day or month, form app, channel and outcome, with the estimated cost: [--from DATE] [--to DATE] [--by day|month] [--json]", costsCmd},
	"outbox":      {"show the email outbox: list [--status queued|sending|sent|failed] [--limit N]", outbox},
	"healthcheck": {"exit 0 if the server on IDP_ADDR (or --url) answers /healthz with 200 (container health checks)", healthcheck},
}

// environment is what a command may touch of the process, so that tests can run
// commands in-process.
type environment struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	// operator is who runs an admin command (--operator NAME, else the OS
	// user): the audit events of what it changes name them.
	operator string
	// reason is why (--reason TEXT on idp users and idp admins), kept in
	// the audit events of what the command changes.
	reason string
	// support is what idp users acts through (users.go: supportService).
	support func(db store.Durable) *support.Service
}

// operatorOf takes --operator NAME (or --operator=NAME) out of an admin
// command's arguments, wherever it stands.
func operatorOf(args []string) (string, []string, error) {
	return takeFlag(args, "operator", "a name (who is running this command, for the audit log)")
}

// reasonOf takes --reason TEXT (or --reason=TEXT) out of an admin command's
// arguments, wherever it stands: why the operator does it, for the audit log.
func reasonOf(args []string) (string, []string, error) {
	return takeFlag(args, "reason", "a text (why you are doing this, for the audit log)")
}

// takeFlag takes --name VALUE (or --name=VALUE, one dash or two) out of args;
// an empty value is a usage error saying the flag needs what.
func takeFlag(args []string, name, what string) (string, []string, error) {
	var value string
	rest := make([]string, 0, len(args))
	missing := usageError{fmt.Errorf("--%s needs %s", name, what)}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--"+name || a == "-"+name:
			if i+1 >= len(args) || strings.TrimSpace(args[i+1]) == "" {
				return "", nil, missing
			}
			value, i = args[i+1], i+1
		case strings.HasPrefix(a, "--"+name+"=") || strings.HasPrefix(a, "-"+name+"="):
			_, value, _ = strings.Cut(a, "=")
			if strings.TrimSpace(value) == "" {
				return "", nil, missing
			}
		default:
			rest = append(rest, a)
		}
	}
	return strings.TrimSpace(value), rest, nil
}

// auditOperator is how audit events name who ran the command: "cli:" and the
// --operator name, or the OS user when none was given.
func (env *environment) auditOperator() string {
	name := env.operator
	if name == "" {
		if u, err := user.Current(); err == nil && u.Username != "" {
			name = u.Username
		} else if n := env.getenv("USER"); n != "" {
			name = n
		} else {
			name = "unknown"
		}
	}
	return "cli:" + name
}

// usageError is a mistake in how the command was called (exit status 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	// The first signal starts a graceful stop (serve drains, then shuts down); from
	// then on the signals have their default action again, so a second one (Ctrl-C
	// twice) ends the process at once.
	go func() { <-ctx.Done(); stop() }()
	code := run(ctx, os.Args[1:], &environment{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr})
	stop()
	os.Exit(code)
}

// run dispatches to a command and turns its error into one line on stderr and an
// exit status: 0 success, 1 failure, 2 bad usage or configuration.
func run(ctx context.Context, args []string, env *environment) int {
	name := "serve"
	switch {
	case len(args) > 0 && (args[0] == "--version" || args[0] == "-version"):
		name, args = "version", args[1:]
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
		name, args = args[0], args[1:]
	}
	if name == "help" {
		printHelp(env.stdout)
		return 0
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(env.stderr, "idp: unknown command %q (run `idp help`)\n", name)
		return 2
	}
	// `idp clients --help`: what the command does, and where its settings are
	// (serve's flags are the settings, and it prints them all).
	if name != "serve" && len(args) > 0 && slices.Contains([]string{"-h", "-help", "--help", "help"}, args[0]) {
		fmt.Fprintf(env.stdout, "idp %s: %s\n(the settings are listed by `idp help`)\n", name, cmd.summary)
		return 0
	}
	var err error
	if name == "users" || name == "clients" || name == "keys" || name == "admins" {
		env.operator, args, err = operatorOf(args)
	}
	if err == nil && (name == "users" || name == "admins") {
		env.reason, args, err = reasonOf(args)
	}
	if err == nil {
		err = cmd.run(ctx, env, args)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		printHelp(env.stdout)
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(env.stderr, "idp %s: %v\n", name, err)
		return 2
	default:
		fmt.Fprintf(env.stderr, "idp %s: %v\n", name, err)
		return 1
	}
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "Usage: idp [command] [--setting=value ...]")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nSettings (flag, environment variable):")
	config.Usage(w)
}

// loadConfig reads the settings for a command that takes no flags of its own.
func loadConfig(env *environment, args []string) (*config.Config, error) {
	return checkedConfig(config.Load(args, env.getenv))
}

// loadAdminConfig reads the settings for a command that sends nothing (migrate,
// clients, keys): delivery settings are checked when given, not required.
func loadAdminConfig(env *environment, args []string) (*config.Config, error) {
	return checkedConfig(config.LoadAdmin(args, env.getenv))
}

func checkedConfig(cfg *config.Config, err error) (*config.Config, error) {
	if errors.Is(err, flag.ErrHelp) {
		return nil, err // run prints the help
	}
	if err != nil {
		return nil, usageError{err}
	}
	return cfg, nil
}

// newLogger writes to stderr in the configured format and level.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(ctx context.Context, env *environment, args []string) error {
	cfg, err := loadConfig(env, args)
	if err != nil {
		return err
	}
	log := newLogger(cfg, env.stderr)
	slog.SetDefault(log) // the OIDC library logs through the default logger
	log.Info("starting", "config", cfg)
	var opts []app.Option
	demoLn, demoBase := listenDemo(cfg, env) // embedded mode only; see demo.go
	if demoLn != nil {
		opts = append(opts, app.WithDemoFormApp(demoBase))
	}
	a, err := app.Open(ctx, cfg, log, opts...)
	if err != nil {
		if demoLn != nil {
			demoLn.Close()
		}
		return err
	}
	defer a.Close()
	gc := app.SetGCPolicy(cfg, env.getenv)
	log.Info("garbage collection", "memory_limit", gc.MemoryLimit, "gc_percent", gc.GCPercent)
	demo := startDemoFormApp(ctx, cfg, env, log, demoLn, demoBase)
	defer demo.stop()
	printURLs(env.stdout, a, demo)
	// Start-up parsed and test-rendered every page, checked the migrations
	// and loaded the catalogues; little of that stays live. Give the memory
	// back to the system once, before serving, so the idle footprint is what
	// serving needs.
	debug.FreeOSMemory()
	return a.Serve(ctx)
}

func migrate(ctx context.Context, env *environment, args []string) error {
	cfg, err := loadAdminConfig(env, args)
	if err != nil {
		return err
	}
	log := newLogger(cfg, env.stderr)
	if err := app.Migrate(ctx, cfg, log); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%s database migrated\n", cfg.DatabaseKind)
	return nil
}

func version(ctx context.Context, env *environment, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("takes no arguments")}
	}
	b := app.Build()
	v, rev := b.Version, ""
	if b.Revision != "" {
		rev = " " + b.Revision
	}
	fmt.Fprintf(env.stdout, "idp %s%s %s\n", v, rev, b.GoVersion)
	return nil
}
