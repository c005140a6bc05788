package app

import (
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/idp/server"
	"github.com/councilforms/idp/ui"
)

// routes mounts every endpoint of the idp on a.mux. Patterns use the ServeMux syntax
// ("GET /path"); the matched pattern becomes the route label in the metrics.
//
//	/login..., /account..., /logout   the login pages (idp/web)
//	/help, /help/lost-phone, /cookies, the footer's pages (idp/web, ui.Path...)
//	/contact, /privacy, /accessibility
//	/assets/                          GOV.UK Frontend and the site's CSS and JS
//	/branding/                        the header colour (brand.css) and logo of IDP_HEADER_COLOUR, IDP_LOGO
//	/dev/...                          dev inbox and call simulator (IDP_DEV only,
//	                                  loopback peers and IDP_DEV_PEERS)
//	provider.Paths                    the OpenID Connect provider: discovery, /keys,
//	                                  /authorize, /oauth/token, /userinfo, /revoke,
//	                                  /oauth/introspect, /end_session, /logged-out,
//	                                  each its own route (and metrics label)
//	/                                 any other path: the provider's 404, counted
//	                                  as route="other"
func (a *App) routes(p *parts) {
	p.web.Register(a.mux)
	a.mux.Handle("GET "+ui.AssetPrefix, ui.Assets())
	a.mux.Handle("GET "+ui.BrandingPrefix, p.pages.Branding())
	p.delivery.Register(a.mux, devInboxPage(p.pages))
	for _, path := range provider.Paths {
		a.mux.Handle(path, p.provider.Handler())
	}
	a.mux.Handle("/", p.provider.Handler())
	a.mux.Handle("GET /healthz", server.Healthz())
	a.mux.Handle("GET /readyz", server.Readyz(a.readyChecks(), ReadyTimeout, a.drain))
	// /metrics is not here: it has its own listener (MetricsHandler, IDP_METRICS_ADDR).
}

// csrfBypass lists the provider endpoints that cross-origin protection does not
// apply to. Form apps call /oauth/token, /revoke, /userinfo and /oauth/introspect
// from their servers or from browser JavaScript on their own origin: they
// authenticate the client, not a cookie. /authorize and /end_session receive
// form POSTs from a form app's pages (OIDC Core 3.1.2.1, RP-Initiated Logout 1.0
// section 2) and are protected by the protocol: an authorization request only
// starts a sign-in bound to this browser, and a logout without a valid
// id_token_hint for the signed-in person only asks (the question's 'Sign out',
// POST /logout, keeps the origin check).
var csrfBypass = []string{"/oauth/token", "/revoke", "/userinfo", "/oauth/introspect", "/authorize", "/end_session"}

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
