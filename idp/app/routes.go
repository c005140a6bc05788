package app

import (
	"github.com/councilforms/idp/idp/server"
	"github.com/councilforms/idp/ui"
)

// routes mounts every endpoint of the idp on a.mux. Patterns use the ServeMux syntax
// ("GET /path"); the matched pattern becomes the route label in the metrics.
//
//	/login..., /account..., /logout   the login pages (idp/web)
//	/assets/                          GOV.UK Frontend and the site's CSS and JS
//	/dev/...                          dev inbox and call simulator (IDP_DEV only,
//	                                  loopback peers and IDP_DEV_PEERS)
//	/                                 the OpenID Connect provider: discovery, /keys,
//	                                  /authorize, /oauth/token, /userinfo, /revoke,
//	                                  /oauth/introspect, /end_session, /logged-out
func (a *App) routes(p *parts) {
	p.web.Register(a.mux)
	a.mux.Handle("GET "+ui.AssetPrefix, ui.Assets())
	p.delivery.Register(a.mux, devInboxPage(p.pages))
	a.mux.Handle("/", p.provider.Handler())
	a.mux.Handle("GET /healthz", server.Healthz())
	a.mux.Handle("GET /readyz", server.Readyz(a.readyChecks(), ReadyTimeout, a.drain))
	// /metrics is not here: it has its own listener (MetricsHandler, IDP_METRICS_ADDR).
}

// csrfBypass lists the provider endpoints that form apps call from their servers or
// from browser JavaScript on their own origin: they authenticate the client, not a
// cookie, so cross-origin protection does not apply.
var csrfBypass = []string{"/oauth/token", "/revoke", "/userinfo", "/oauth/introspect"}

// readyChecks names the dependencies /readyz reports on.
func (a *App) readyChecks() []server.Check {
	ephemeral := "journey store (in-process)"
	if a.Config.RedisURL != "" {
		ephemeral = "redis"
	}
	return []server.Check{
		{Name: "database", Pinger: a.Durable},
		{Name: ephemeral, Pinger: a.Ephemeral},
	}
}
