package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/councilforms/idp/cmd/formapp/formapp"
	"github.com/councilforms/idp/idp/app"
	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/provider"
)

// The embedded demo: in embedded mode (SQLite, no Redis: what `go run ./cmd/idp`
// gives) serve also runs the demo form app of cmd/formapp in process, as the public
// client provider.DemoClient that idp/app registers for app.DemoFormAppURL, so one
// command shows the whole story: a form, 'Login or Register', the sign-up, and back.
// The form app is a plain OpenID Connect client of the idp over HTTP; it shares
// nothing with it but the process.

// demoAddrVar names the setting for where the demo form app listens: host:port,
// default formapp.DefaultAddr (localhost:8081), "off" for no demo.
const demoAddrVar = "IDP_DEMO_FORMAPP_ADDR"

// demoFormApp is the running demo form app.
type demoFormApp struct {
	url  string
	srv  *http.Server
	done chan error
}

// listenDemo opens the demo form app's listener when cfg is embedded mode, and
// returns nil when the demo does not run. It never stops the idp from serving: a port
// in use or anything else in the way is one line on stderr, and the idp carries on
// without it. base is the demo's URL, for its client registration.
func listenDemo(cfg *config.Config, env *environment) (ln net.Listener, base string) {
	if !cfg.Embedded() {
		return nil, ""
	}
	addr := strings.TrimSpace(env.getenv(demoAddrVar))
	switch addr {
	case "off":
		return nil, ""
	case "":
		addr = formapp.DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		fmt.Fprintf(env.stderr, "idp: demo form app not started: %s is in use (set %s to another host:port, or off)\n", addr, demoAddrVar)
		return nil, ""
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "idp: demo form app not started: %s: %v\n", demoAddrVar, err)
		return nil, ""
	}
	return ln, demoURL(addr, ln.Addr())
}

// startDemoFormApp serves the demo form app on ln (from listenDemo) as the public
// client the app registered for base; nil ln gives a nil demo.
func startDemoFormApp(ctx context.Context, cfg *config.Config, env *environment, log *slog.Logger, ln net.Listener, base string) *demoFormApp {
	if ln == nil {
		return nil
	}
	fa, err := formapp.New(ctx, formapp.Config{
		Addr:                  ln.Addr().String(),
		Issuer:                cfg.Issuer,
		ClientID:              provider.DemoClientID,
		RedirectURL:           base + "/callback",
		PostLogoutRedirectURL: base + "/signed-out",
		OrgName:               cfg.OrgName,
	}, log)
	if err != nil {
		ln.Close()
		fmt.Fprintf(env.stderr, "idp: demo form app not started: %v\n", err)
		return nil
	}
	d := &demoFormApp{
		url: base,
		srv: &http.Server{
			Handler:           fa.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		done: make(chan error, 1),
	}
	go func() { d.done <- d.srv.Serve(ln) }()
	return d
}

// demoURL is the address a browser opens: the configured host (localhost when it
// names every interface) and the port listened on.
func demoURL(configured string, listening net.Addr) string {
	host, _, _ := net.SplitHostPort(configured)
	_, port, _ := net.SplitHostPort(listening.String())
	switch host {
	case "", "0.0.0.0", "::":
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// stop shuts the demo down, letting requests in flight finish for a few seconds.
// A nil demo does nothing.
func (d *demoFormApp) stop() {
	if d == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = d.srv.Shutdown(ctx)
	<-d.done
}

// printURLs prints the idp's URLs and, among them, the demo form app's.
func printURLs(w io.Writer, a *app.App, d *demoFormApp) {
	if d == nil {
		a.PrintURLs(w)
		return
	}
	var buf bytes.Buffer
	a.PrintURLs(&buf)
	fmt.Fprintf(w, "%s\n  Demo form:  %s  (a form app that signs in here: start with its page one)\n\n", strings.TrimRight(buf.String(), "\n"), d.url)
}
