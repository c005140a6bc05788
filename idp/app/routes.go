package app

import "github.com/councilforms/idp/idp/server"

// routes mounts every endpoint of the idp on a.mux. Patterns use the ServeMux syntax
// ("GET /path"); the matched pattern becomes the route label in the metrics.
//
// Still to be mounted here: the OpenID Connect provider (idp/provider: discovery,
// /authorize, /token, /userinfo, JWKS, end session), the login pages (idp/web) and,
// in development mode only, the dev inbox (/dev/inbox, /dev/inbox.json, /dev/calls/).
func (a *App) routes() {
	a.mux.Handle("GET /healthz", server.Healthz())
	a.mux.Handle("GET /readyz", server.Readyz(a.readyChecks(), ReadyTimeout))
	a.mux.Handle("GET /metrics", a.Metrics.Handler())
}

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
