package provider

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rs/cors"
)

// corsPaths are the endpoints a form app's JavaScript may call from its own
// origin: discovery and keys to verify tokens, the token endpoint (a public
// client with PKCE), userinfo and revocation. /authorize and /end_session are
// navigations of the whole page, and introspection is for servers, so none of
// them answers cross-origin reads.
var corsPaths = map[string]bool{
	"/.well-known/openid-configuration": true,
	"/keys":                             true,
	"/oauth/token":                      true,
	"/userinfo":                         true,
	"/revoke":                           true,
}

// clientOriginsTTL is how long the set of registered origins is reused before
// the clients are read again: a client registered with `idp clients add` while
// the server runs is allowed within it.
const clientOriginsTTL = 5 * time.Second

// corsOptions is the CORS policy of every provider endpoint (the library's, and
// the discovery and keys handlers here): a cross-origin request is answered
// with Access-Control-Allow-Origin only on corsPaths, and only for the origin
// of a registered client's redirect URI. Credentials (cookies) are never
// allowed: tokens travel in the Authorization header or the body, and the
// IdP session cookie is for the idp's own pages.
func (p *Provider) corsOptions() *cors.Options {
	return &cors.Options{
		AllowOriginVaryRequestFunc: func(r *http.Request, origin string) (bool, []string) {
			path := strings.TrimPrefix(r.URL.Path, p.issuerPath)
			return corsPaths[path] && p.origins.allowed(r.Context(), p, origin), nil
		},
		AllowCredentials: false,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:   []string{"Accept", "Accept-Language", "Authorization", "Content-Type"},
		// A form app reads why a token was refused at userinfo.
		ExposedHeaders: []string{"WWW-Authenticate"},
		MaxAge:         600,
	}
}

// clientOrigins caches the origins (scheme://host[:port]) of every registered
// client's redirect URIs.
type clientOrigins struct {
	mu    sync.Mutex
	set   map[string]bool
	until time.Time
}

func (o *clientOrigins) allowed(ctx context.Context, p *Provider, origin string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if now := p.now(); o.set == nil || now.After(o.until) {
		set, err := p.registeredOrigins(ctx)
		if err != nil {
			// Keep the last set; try again at the next request.
			p.log.ErrorContext(ctx, "cors: list clients", "err", err)
			return o.set[origin]
		}
		o.set, o.until = set, now.Add(clientOriginsTTL)
	}
	return o.set[origin]
}

func (p *Provider) registeredOrigins(ctx context.Context) (map[string]bool, error) {
	clients, err := p.db.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, c := range append(clients, p.cfg.StaticClients...) {
		for _, uri := range c.RedirectURIs {
			if o := originOf(uri); o != "" {
				set[o] = true
			}
		}
	}
	return set, nil
}

// originOf is the origin a browser sends for pages under uri: scheme://host,
// with the port only when it is not the scheme's default; "" for anything that
// is not an absolute http(s) URL.
func originOf(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port := u.Port(); port != "" && !(u.Scheme == "https" && port == "443") && !(u.Scheme == "http" && port == "80") {
		host += ":" + port
	}
	return u.Scheme + "://" + host
}
