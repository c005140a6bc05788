package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/councilforms/idp/idp/app"
	"github.com/councilforms/idp/idp/config"
)

// benchClientID is the public client the bench registers when it starts the
// idp itself (through a clients file). Against a running idp, register the
// same client with `idp clients add` (see BENCHMARKS.md) or name another
// with -client-id.
const benchClientID = "idp-bench"

// defaultRedirectURI is where the bench client's authorization responses go.
// Nothing needs to listen there: the simulated browser stops at it.
const defaultRedirectURI = "http://localhost:8081/callback"

// target is the idp under load.
type target struct {
	issuer      string
	pid         int    // the server process, when it is a separate one on this machine
	inProcess   bool   // the server runs in this process
	redisURL    string // for the Redis memory measurement; empty when not known
	redisPrefix string
	backend     string // what the server stores data in, for the report
	stop        func() error
}

// serverOptions say how to start an idp.
type serverOptions struct {
	inProcess     bool
	idpBin        string // a built idp binary; empty builds ./cmd/idp
	postgresAdmin string // admin URL: the bench creates (and drops) its own database
	databaseURL   string // a database to use as it is (instead of postgresAdmin)
	redisURL      string
	redisPrefix   string    // default: a fresh "idp-bench-<random>:"
	signingAlg    string    // IDP_SIGNING_ALG; empty keeps the idp's default
	log           io.Writer // the server's log (warnings and errors only)
}

// serverEnv is the configuration the bench gives the idp it starts: dev mode
// (messages captured in the dev inbox), a clients file holding the bench
// client, and a fresh database.
func serverEnv(dir string, port int, o serverOptions, dbURL string) (map[string]string, error) {
	clients := filepath.Join(dir, "clients.yaml")
	if err := os.WriteFile(clients, []byte(clientsFile), 0o600); err != nil {
		return nil, err
	}
	kek := make([]byte, 32)
	rand.Read(kek)
	env := map[string]string{
		"IDP_ADDR":               fmt.Sprintf("127.0.0.1:%d", port),
		"IDP_ISSUER":             fmt.Sprintf("http://localhost:%d", port),
		"IDP_DEV":                "true",
		"IDP_LOG_LEVEL":          "warn",
		"IDP_CLIENTS_FILE":       clients,
		"IDP_KEY_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(kek),
		"IDP_DATABASE_URL":       "sqlite:" + filepath.Join(dir, "idp.db"),
		// The daily ceiling on texts across all servers (an SMS-pumping
		// alarm) would otherwise end a long run; dev mode sends nothing.
		"IDP_SEND_DAILY_CEILING": "100000000",
		// Each person's number may otherwise receive only a few codes an hour
		// (limits.DefaultSendsPerRecipientHour), which would cap a long run at a
		// few sign-ins per person; the budget is still checked and counted on
		// every send. The daily budget per recipient follows it when not set.
		"IDP_SEND_HOURLY_PER_RECIPIENT": "1000000",
		// Several benches (and tests) may run on one machine: no metrics
		// listener on the default port.
		"IDP_METRICS_ADDR": "off",
		"IDP_ADMIN_ADDR":   "off",
	}
	if dbURL != "" {
		env["IDP_DATABASE_URL"] = dbURL
	}
	if o.signingAlg != "" {
		env["IDP_SIGNING_ALG"] = o.signingAlg
	}
	if o.redisURL != "" {
		env["IDP_REDIS_URL"] = o.redisURL
		env["IDP_REDIS_PREFIX"] = o.redisPrefix
		if o.redisPrefix == "" {
			env["IDP_REDIS_PREFIX"] = "idp-bench-" + strings.ToLower(rand.Text()[:8]) + ":"
		}
	}
	return env, nil
}

const clientsFile = `# Written by idp-bench for the idp it starts.
clients:
  - id: ` + benchClientID + `
    name: idp-bench load driver
    public: true
    redirect_uris: [` + defaultRedirectURI + `]
`

// startServer starts an idp on a free port of this machine, in this process
// or as a child process, and waits until it is ready.
func startServer(ctx context.Context, o serverOptions) (*target, error) {
	dir, err := os.MkdirTemp("", "idp-bench-")
	if err != nil {
		return nil, err
	}
	cleanups := []func() error{func() error { return os.RemoveAll(dir) }}
	cleanup := func() error {
		var errs []error
		for i := len(cleanups) - 1; i >= 0; i-- {
			errs = append(errs, cleanups[i]())
		}
		return errors.Join(errs...)
	}
	fail := func(err error) (*target, error) {
		cleanup()
		return nil, err
	}

	dbURL := o.databaseURL
	backend := "SQLite"
	switch {
	case dbURL != "":
		backend = "PostgreSQL"
	case o.postgresAdmin != "":
		u, drop, err := createDatabase(ctx, o.postgresAdmin)
		if err != nil {
			return fail(err)
		}
		dbURL, backend = u, "PostgreSQL"
		cleanups = append(cleanups, drop)
	}
	if o.redisURL != "" {
		backend += " + Redis"
	} else {
		backend += " + in-process journeys"
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	env, err := serverEnv(dir, port, o, dbURL)
	if err != nil {
		ln.Close()
		return fail(err)
	}
	t := &target{issuer: env["IDP_ISSUER"], redisURL: o.redisURL, redisPrefix: env["IDP_REDIS_PREFIX"], backend: backend}

	if o.inProcess {
		ln.Close()
		stop, err := serveInProcess(ctx, env, o.log)
		if err != nil {
			return fail(err)
		}
		cleanups = append(cleanups, stop)
		t.inProcess = true
	} else {
		ln.Close() // the child listens on the port; nothing else takes it in between in practice
		bin := o.idpBin
		if bin == "" {
			bin = filepath.Join(dir, "idp")
			build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/councilforms/idp/cmd/idp")
			if out, err := build.CombinedOutput(); err != nil {
				return fail(fmt.Errorf("build the idp: %v\n%s", err, out))
			}
		}
		cmd := exec.Command(bin, "serve")
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "IDP_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Stdout = io.Discard
		cmd.Stderr = o.log
		if err := cmd.Start(); err != nil {
			return fail(fmt.Errorf("start the idp: %w", err))
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		cleanups = append(cleanups, func() error {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(25 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
			return nil
		})
		t.pid = cmd.Process.Pid
		if err := waitReady(ctx, t.issuer, exited); err != nil {
			return fail(err)
		}
	}
	t.stop = cleanup
	return t, nil
}

// serveInProcess opens the idp as cmd/idp does and serves it from this process.
func serveInProcess(ctx context.Context, env map[string]string, logOut io.Writer) (func() error, error) {
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel}))
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		a.Close()
		return nil, err
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	if err := waitReady(ctx, cfg.Issuer, nil); err != nil {
		srv.Close()
		a.Close()
		return nil, err
	}
	return func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return errors.Join(srv.Shutdown(sctx), a.Close())
	}, nil
}

// waitReady polls /readyz until it answers 200.
func waitReady(ctx context.Context, issuer string, exited <-chan error) error {
	client := &http.Client{Transport: newTransport(2, nil), Timeout: 2 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for {
		if _, err := get(ctx, client, issuer+"/readyz", ""); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the idp at %s was not ready after 90s", issuer)
		}
		select {
		case err := <-exited:
			return fmt.Errorf("the idp exited before it was ready: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// createDatabase makes a fresh PostgreSQL database for one run and returns its
// URL and a function that drops it.
func createDatabase(ctx context.Context, adminURL string) (string, func() error, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("-postgres: %w", err)
	}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	name := "idp_bench_" + strings.ToLower(rand.Text()[:10])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
	return u.String(), drop, nil
}

// newTransport is a connection pool: the relying party's and the inbox
// reader's, or one simulated person's browser (whose connections come from
// the person's own address, local). "localhost" is dialled as 127.0.0.1
// (the bench's servers listen there) so no connection first tries ::1.
func newTransport(conns int, local net.IP) *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if local != nil {
		d.LocalAddr = &net.TCPAddr{IP: local}
	}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if host, port, err := net.SplitHostPort(addr); err == nil && strings.EqualFold(host, "localhost") {
				addr = net.JoinHostPort("127.0.0.1", port)
			}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// personAddress is the loopback address person n's browser connects from
// (127.1.x.y), so that the idp's per-client send budget (a few hundred messages an
// hour from one address) applies per person, as it would to people on their own
// connections, rather than to the whole bench. Linux routes all of 127/8 to
// the loopback interface.
func personAddress(n int) net.IP {
	return net.IPv4(127, 1, byte(n/250), byte(n%250+1))
}

// isLoopback reports whether the issuer's host is this machine, where the
// bench can choose its source addresses.
func isLoopback(issuer string) bool {
	u, err := url.Parse(issuer)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Hostname(), "localhost") {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}
