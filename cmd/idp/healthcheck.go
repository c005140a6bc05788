package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/councilforms/idp/idp/config"
)

// HealthcheckTimeout bounds the whole request of idp healthcheck.
const HealthcheckTimeout = 3 * time.Second

// healthcheck asks a running idp for /healthz and succeeds only on 200: idp
// healthcheck [--url URL]. The image is distroless (no shell, no curl), so
// docker-compose.yml and Kubernetes run the binary itself. Without --url it asks
// the server listening on IDP_ADDR in this container; a wildcard host (":8080",
// "0.0.0.0:8080", "[::]:8080") is reached on loopback. It reads only IDP_ADDR, so a
// configuration problem elsewhere does not make a running server look unhealthy.
func healthcheck(ctx context.Context, env *environment, args []string) error {
	fs := flag.NewFlagSet("idp healthcheck", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	base := fs.String("url", "", "base URL of the idp to check, e.g. http://idp:8080 (default: the server on IDP_ADDR)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (usage: idp healthcheck [--url URL])", fs.Arg(0))}
	}
	target, err := healthzURL(*base, env.getenv("IDP_ADDR"))
	if err != nil {
		return usageError{err}
	}

	ctx, cancel := context.WithTimeout(ctx, HealthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return usageError{err}
	}
	client := &http.Client{
		// A redirect is not health: report it rather than follow it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("GET %s: no answer within %s", target, HealthcheckTimeout)
		}
		return fmt.Errorf("GET %s: %v", target, errors.Unwrap(err))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", target, resp.Status)
	}
	fmt.Fprintln(env.stdout, "ok")
	return nil
}

// healthzURL is base's /healthz, or that of the server listening on addr (IDP_ADDR,
// its default when empty).
func healthzURL(base, addr string) (string, error) {
	if base != "" {
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("--url %q must be an http(s) URL such as http://localhost:8080", base)
		}
		u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/healthz") + "/healthz"
		u.RawQuery, u.Fragment = "", ""
		return u.String(), nil
	}
	source := "IDP_ADDR"
	if addr == "" {
		addr, source = defaultAddr(), "IDP_ADDR (default)"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "", fmt.Errorf("%s: must be host:port, e.g. localhost:8080 or :8080 (got %q)", source, addr)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}

// defaultAddr is IDP_ADDR's default from the settings table.
func defaultAddr() string {
	for _, s := range config.Settings {
		if s.Env == "IDP_ADDR" {
			return s.Default
		}
	}
	return "localhost:8080"
}
