// Command formapp runs the demo form application ('Make a social care
// referral'), a relying party of the identity provider. Configuration is
// read from FORMAPP_ environment variables; see package formapp.
//
// `formapp healthcheck` asks a running form app for /healthz and exits 0 when
// it answers: container images without a shell or curl use it as their
// health check.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/councilforms/idp/cmd/formapp/formapp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		if err := healthcheck(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "formapp healthcheck:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 {
		fmt.Fprintf(os.Stderr, "formapp: unknown argument %q (configure with FORMAPP_ variables; the only command is healthcheck)\n", os.Args[1])
		os.Exit(2)
	}
	if err := run(ctx, log); err != nil {
		fmt.Fprintln(os.Stderr, "formapp:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger) error {
	cfg, err := formapp.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	app, err := formapp.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	return app.ListenAndServe(ctx)
}

// healthcheck gets /healthz from the form app listening on FORMAPP_ADDR.
func healthcheck(ctx context.Context) error {
	cfg, err := formapp.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return err
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz answered %s", res.Status)
	}
	return nil
}
