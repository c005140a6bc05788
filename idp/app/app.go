package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/councilforms/idp/idp/admin"
	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/idp/server"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/memory"
	"github.com/councilforms/idp/store/postgres"
	"github.com/councilforms/idp/store/redis"
	"github.com/councilforms/idp/store/sqlite"
)

// ReadyTimeout bounds each dependency ping of /readyz, so that /readyz answers within
// the 2 s the README promises even when a dependency hangs (the stores bound their
// own calls too: store/redis, store/postgres).
const ReadyTimeout = 1500 * time.Millisecond

// App is a running idp's parts. Open builds it; Close releases it.
type App struct {
	Config    *config.Config
	Log       *slog.Logger
	Durable   store.Durable
	Ephemeral store.Ephemeral
	// KeyEncryptionKey seals signing keys at rest (32 bytes): from configuration, or
	// in embedded mode from the key file next to the database.
	KeyEncryptionKey []byte
	Metrics          *server.Metrics

	parts *parts
	now   func() time.Time
	// pruneEvery is how often the audit log's old events are deleted.
	pruneEvery time.Duration
	mux        *http.ServeMux // every route is mounted here, in routes.go
	handler    http.Handler   // mux wrapped in the server middleware
	// console is the operators' console (IDP_ADMIN_ADDR); nil when it is off.
	console *admin.Console
	// drain is the start of a graceful stop (IDP_SHUTDOWN_DRAIN): Serve begins it on
	// the stop signal, /readyz answers 503 from then on.
	drain *server.Drain
}

// Option adjusts how Open builds the app (tests).
type Option func(*options)

type options struct {
	now        func() time.Time
	pruneEvery time.Duration
	demoURL    string
	callPoll   time.Duration
	wrapStores func(store.Durable, store.Ephemeral) (store.Durable, store.Ephemeral)
}

// WithDemoFormApp registers the embedded demo form app's client at base (e.g.
// http://localhost:8081) instead of DemoFormAppURL.
func WithDemoFormApp(base string) Option { return func(o *options) { o.demoURL = base } }

// WithClock makes the login pages read time from now: tests move it on to expire
// codes and locks.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithAuditPruneEvery makes the servers run their retention (audit events
// older than IDP_AUDIT_RETENTION, expired refresh tokens) every d instead of
// every hour (tests).
func WithAuditPruneEvery(d time.Duration) Option { return func(o *options) { o.pruneEvery = d } }

// WithCallPoll makes the call-waiting page, with JavaScript, ask whether the
// call was answered every poll instead of every 2 s, so that a browser test
// sees '#' move it on soon after.
func WithCallPoll(poll time.Duration) Option {
	return func(o *options) { o.callPoll = poll }
}

// WithStores hands the stores Open opened (and migrated) to wrap before anything
// uses them, and uses what it returns: tests count the calls a request makes.
func WithStores(wrap func(store.Durable, store.Ephemeral) (store.Durable, store.Ephemeral)) Option {
	return func(o *options) { o.wrapStores = wrap }
}

// Open opens and migrates the stores cfg selects and builds the handler.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger, opts ...Option) (*App, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	durable, err := OpenDurable(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, durable, cfg, log); err != nil {
		durable.Close()
		return nil, err
	}
	kek, err := keyEncryptionKey(cfg, log)
	if err != nil {
		durable.Close()
		return nil, err
	}
	ephemeral, err := OpenEphemeral(ctx, cfg)
	if err != nil {
		durable.Close()
		return nil, err
	}
	if o.wrapStores != nil {
		durable, ephemeral = o.wrapStores(durable, ephemeral)
	}
	a := &App{
		Config:           cfg,
		Log:              log,
		Durable:          durable,
		Ephemeral:        ephemeral,
		KeyEncryptionKey: kek,
		Metrics:          server.NewMetrics(),
		now:              o.now,
		pruneEvery:       o.pruneEvery,
		mux:              http.NewServeMux(),
		drain:            server.NewDrain(cfg.ShutdownDrain),
	}
	p, err := a.build(ctx, o)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.parts = p
	a.routes(p)
	a.handler = server.Wrap(a.mux, server.Options{
		Log:        log,
		Metrics:    a.Metrics,
		HSTS:       cfg.HTTPS(),
		CSRFBypass: csrfBypass,
	})
	if cfg.AdminAddr != "" {
		if a.console, err = a.openConsole(o); err != nil {
			a.Close()
			return nil, err
		}
	}
	return a, nil
}

// OpenDurable opens the database cfg selects without migrating it (for the admin
// commands, which run against a database the server has already migrated).
func OpenDurable(ctx context.Context, cfg *config.Config) (store.Durable, error) {
	switch cfg.DatabaseKind {
	case config.DatabasePostgres:
		s, err := postgres.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL database: %w", err)
		}
		return s, nil
	case config.DatabaseSQLite:
		s, err := sqlite.Open(ctx, cfg.SQLitePath)
		if err != nil {
			return nil, fmt.Errorf("open SQLite database %s: %w", cfg.SQLitePath, err)
		}
		return s, nil
	default:
		return nil, fmt.Errorf("unknown database kind %q", cfg.DatabaseKind)
	}
}

// OpenEphemeral opens Redis when cfg names one, else an in-process store.
func OpenEphemeral(ctx context.Context, cfg *config.Config) (store.Ephemeral, error) {
	if cfg.RedisURL == "" {
		return memory.New(), nil
	}
	s, err := redis.Open(ctx, cfg.RedisURL, cfg.RedisPrefix)
	if err != nil {
		return nil, fmt.Errorf("open Redis: %w", err)
	}
	return s, nil
}

// Migrate opens the database cfg selects, applies pending migrations and closes it:
// `idp migrate`.
func Migrate(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	durable, err := OpenDurable(ctx, cfg)
	if err != nil {
		return err
	}
	defer durable.Close()
	return migrate(ctx, durable, cfg, log)
}

func migrate(ctx context.Context, durable store.Durable, cfg *config.Config, log *slog.Logger) error {
	start := time.Now()
	if err := durable.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate %s database: %w", cfg.DatabaseKind, err)
	}
	log.Debug("database migrated", "database", string(cfg.DatabaseKind), "duration", time.Since(start))
	return nil
}

// Build is the running binary's version, commit and Go toolchain: what `idp version`
// prints and the idp_build_info metric carries.
func Build() server.BuildInfo { return server.Build() }

// Handler is the whole HTTP surface of the idp, middleware included.
func (a *App) Handler() http.Handler { return a.handler }

// MetricsHandler serves GET /metrics for the metrics listener (IDP_METRICS_ADDR),
// which Serve runs apart from the public one: Prometheus scrapes it inside the
// cluster, and no load balancer or ingress routes to it.
func (a *App) MetricsHandler() http.Handler {
	return a.Metrics.ListenerHandler(a.Config.Pprof)
}

// AdminHandler is the operators' console (served on IDP_ADMIN_ADDR), or nil
// when IDP_ADMIN_ADDR is off.
func (a *App) AdminHandler() http.Handler {
	if a.console == nil {
		return nil
	}
	return a.console
}

// openConsole builds the operators' console: a client of this idp whose
// back-channel requests a.handler serves in process.
func (a *App) openConsole(o options) (*admin.Console, error) {
	cfg := a.Config
	return admin.New(admin.Config{
		URL: cfg.AdminURL, Issuer: cfg.Issuer, ClientSecret: admin.ClientSecret(a.KeyEncryptionKey), IdleTimeout: cfg.AdminIdleTimeout,
		OrgName: cfg.OrgName, TrustedProxies: cfg.TrustedProxies, ContactText: cfg.ContactText,
		ContactTextWelsh: ContactTextWelsh(cfg), HTTPS: strings.HasPrefix(cfg.AdminURL, "https://"),
	}, admin.Deps{
		Store: a.Durable, Ephemeral: a.Ephemeral, IDP: a.handler, Email: a.parts.delivery.Email,
		Log: a.Log, Now: o.now, Sessions: a.parts.provider,
		Ops: admin.Operations{
			ClientSecrets: a.parts.clientSecrets, FileClients: a.parts.fileClients, BuiltInClients: a.parts.builtInClients,
			Keys: provider.Config{Issuer: cfg.Issuer, KeyEncryptionKey: a.KeyEncryptionKey, SigningAlgorithm: cfg.SigningAlg,
				AccessTokenTTL: cfg.AccessTokenTTL, IDTokenTTL: cfg.IDTokenTTL},
			UnitCosts: cfg.UnitCosts(), DefaultSigningAlg: cfg.SigningAlg,
		},
	})
}

// Serve serves the handler on the configured address, and the metrics on theirs
// (unless IDP_METRICS_ADDR is off), until ctx is cancelled, then drains the public one for IDP_SHUTDOWN_DRAIN
// (/readyz says 503, requests are still served) and shuts down. Both addresses are
// listened on before anything is served: either one in use stops the start.
func (a *App) Serve(ctx context.Context) error {
	// The side listeners: metrics and the operators' console, each only when on.
	type side struct {
		name    string
		setting string
		addr    string
		handler http.Handler
		ln      net.Listener
	}
	var sides []*side
	if addr := a.Config.MetricsAddr; addr != "" {
		sides = append(sides, &side{name: "metrics", setting: "IDP_METRICS_ADDR", addr: addr, handler: a.MetricsHandler()})
	}
	if addr := a.Config.AdminAddr; addr != "" && a.console != nil {
		sides = append(sides, &side{name: "admin", setting: "IDP_ADMIN_ADDR", addr: addr, handler: a.console})
	}
	closeSides := func() {
		for _, s := range sides {
			if s.ln != nil {
				s.ln.Close()
			}
		}
	}
	for _, s := range sides {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			closeSides()
			return fmt.Errorf("%s: listen on %s: %w (choose another address, or off)", s.setting, s.addr, err)
		}
		s.ln = ln
	}
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		closeSides()
		return fmt.Errorf("listen on %s: %w", a.Config.Addr, err)
	}
	a.Start(ctx)
	if len(sides) == 0 {
		return server.Serve(ctx, &http.Server{Handler: a.handler}, ln, a.Log, server.WithDrain(a.drain))
	}
	// Any server failing stops them all.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, len(sides))
	for _, s := range sides {
		go func() {
			defer cancel()
			if err := server.Serve(ctx, &http.Server{Handler: s.handler}, s.ln, a.Log.With("listener", s.name)); err != nil {
				done <- fmt.Errorf("%s: %w", s.name, err)
				return
			}
			done <- nil
		}()
	}
	err = server.Serve(ctx, &http.Server{Handler: a.handler}, ln, a.Log, server.WithDrain(a.drain))
	cancel()
	for range sides {
		err = errors.Join(err, <-done)
	}
	return err
}

// Start runs the background work (delivering queued email and back-channel
// logout notices) until ctx is done. Serve calls it; a caller serving Handler
// itself calls it once.
func (a *App) Start(ctx context.Context) {
	go a.parts.delivery.Run(ctx)
	go func() {
		if err := a.parts.provider.RunLogoutDelivery(ctx); err != nil {
			a.Log.Error("back-channel logout delivery stopped", "err", err)
		}
	}()
	go a.retention(ctx)
}

// refreshPruneGrace is how long past their expiry refresh-token families are
// kept: a grant that checked a token just before it expired has long finished.
const refreshPruneGrace = 10 * time.Minute

// retention deletes, at start and every hour after until ctx ends, audit
// events older than IDP_AUDIT_RETENTION and refresh tokens of families that
// can no longer be used (past the absolute or idle lifetime). Every server
// does it: the delete is the same whoever runs it.
func (a *App) retention(ctx context.Context) {
	every := cmp.Or(a.pruneEvery, time.Hour)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		now := time.Now
		if a.now != nil {
			now = a.now
		}
		a.pruneAudit(ctx, now())
		a.pruneRefreshTokens(ctx, now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *App) pruneAudit(ctx context.Context, now time.Time) {
	cut := now.Add(-a.Config.AuditRetention)
	switch n, err := a.Durable.PruneAudit(ctx, cut); {
	case err != nil && ctx.Err() == nil:
		a.Log.Warn("audit retention: old events not deleted; trying again later", "err", err)
	case n > 0:
		a.Log.Info("audit retention: old events deleted", "count", n, "before", cut.Format(time.RFC3339))
	}
}

func (a *App) pruneRefreshTokens(ctx context.Context, now time.Time) {
	cut := now.Add(-refreshPruneGrace)
	switch n, err := a.Durable.PruneRefreshTokens(ctx, cut); {
	case err != nil && ctx.Err() == nil:
		// n rows went before the failure; the rest go next time.
		a.Log.Warn("refresh token retention: expired tokens not all deleted; trying again later", "deleted", n, "err", err)
	case n > 0:
		a.Log.Info("refresh token retention: expired tokens deleted", "count", n, "expired_before", cut.Format(time.RFC3339))
	}
}

// Close closes both stores.
func (a *App) Close() error {
	return errors.Join(a.Ephemeral.Close(), a.Durable.Close())
}

// PrintURLs writes the addresses a person needs to start using the idp.
func (a *App) PrintURLs(w io.Writer) {
	c := a.Config
	mode := "production mode"
	if c.Dev {
		mode = "development mode: messages are captured in the dev inbox, not sent"
	}
	fmt.Fprintf(w, "\n%s identity provider (%s)\n", c.OrgName, mode)
	fmt.Fprintf(w, "  Issuer:     %s\n", c.Issuer)
	fmt.Fprintf(w, "  Discovery:  %s\n", c.DiscoveryURL())
	if a.parts != nil && a.parts.delivery.Inbox != nil {
		fmt.Fprintf(w, "  Dev inbox:  %s/dev/inbox\n", c.Issuer)
	}
	fmt.Fprintf(w, "  Health:     %s/healthz  %s/readyz\n", c.Issuer, c.Issuer)
	if c.MetricsAddr == "" {
		fmt.Fprintf(w, "  Metrics:    off (IDP_METRICS_ADDR)\n")
	} else {
		fmt.Fprintf(w, "  Metrics:    %s/metrics (IDP_METRICS_ADDR, not on the public address)\n", metricsURL(c.MetricsAddr))
	}
	if c.AdminAddr == "" {
		fmt.Fprintf(w, "  Console:    off (IDP_ADMIN_ADDR)\n")
	} else {
		fmt.Fprintf(w, "  Console:    %s (the operators' console, IDP_ADMIN_ADDR, not on the public address)\n", c.AdminURL)
		if a.noOwner() {
			fmt.Fprintf(w, "              no one may use it yet: make yourself its owner with  idp admins grant EMAIL owner\n")
		}
	}
	db := "PostgreSQL"
	if c.DatabaseKind == config.DatabaseSQLite {
		db = "SQLite " + c.SQLitePath
	}
	eph := "in-process (single instance only)"
	if c.RedisURL != "" {
		eph = "Redis"
	}
	fmt.Fprintf(w, "  Database:   %s; journeys: %s\n\n", db, eph)
}

// noOwner reports whether no account holds the console's owner role yet.
func (a *App) noOwner() bool {
	roles, err := a.Durable.ListRoles(context.Background())
	if err != nil {
		return false
	}
	for _, r := range roles {
		if r.Role == admin.RoleOwner {
			return false
		}
	}
	return true
}

// metricsURL is where a person on this machine finds the metrics served on addr.
func metricsURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
