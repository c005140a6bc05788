package provider

// What a browser meets: the authorization hand-off to the login pages and
// back (with iss), error and outage pages in place of the library's text, and
// the per-request context the library's storage calls reach the request by.

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/councilforms/idp/store"
)

// withIssuerParam adds iss (RFC 9207) to authorization responses, success or
// error, that the library redirects to a client.
func (p *Provider) withIssuerParam(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&issuerParamWriter{ResponseWriter: w, issuer: p.cfg.Issuer}, r)
	})
}

type issuerParamWriter struct {
	http.ResponseWriter
	issuer string
	done   bool
}

func (w *issuerParamWriter) WriteHeader(status int) {
	if !w.done && status >= 300 && status < 400 {
		if loc := w.Header().Get("Location"); loc != "" {
			if withIss, ok := addIssuerParam(loc, w.issuer); ok {
				// An authorization response (a code, or an error) is for this
				// browser, once: no cache may keep it.
				w.Header().Set("Location", withIss)
				w.Header().Set("Cache-Control", "no-store")
			}
		}
	}
	w.done = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *issuerParamWriter) Write(b []byte) (int, error) {
	w.done = true
	return w.ResponseWriter.Write(b)
}

// addIssuerParam adds iss to a redirect that carries an authorization
// response (code or error, in the query or the fragment); the provider's own
// redirects (to the login pages, the callback) carry neither and pass as is;
// ok reports whether loc was an authorization response.
func addIssuerParam(loc, issuer string) (_ string, ok bool) {
	u, err := url.Parse(loc)
	if err != nil {
		return loc, false
	}
	if q := u.Query(); q.Has("code") || q.Has("error") {
		q.Set("iss", issuer)
		u.RawQuery = q.Encode()
		return u.String(), true
	}
	if f, err := url.ParseQuery(u.RawFragment); err == nil && (f.Has("code") || f.Has("error")) {
		f.Set("iss", issuer)
		u.RawFragment = f.Encode()
		u.Fragment, _ = url.PathUnescape(u.RawFragment)
		return u.String(), true
	}
	return loc, false
}

// continueAuthorize is where the library sends an /authorize request after
// storing it: an IdP session that satisfies prompt/max_age completes it at
// once, prompt=none without one goes back to the client with login_required,
// and anything else goes to the login pages. Only the browser that sent the
// /authorize request may continue it.
func (p *Provider) continueAuthorize(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	redirect, ok, err := p.ResumeSession(w, r, id)
	if err != nil {
		w.Header().Set("Cache-Control", "no-store")
		switch {
		case errors.Is(err, ErrOtherBrowser):
			p.log.WarnContext(r.Context(), "authorize: continue refused: request started in another browser")
			p.cfg.ErrorPage(w, r, http.StatusBadRequest, OtherBrowserTitle, OtherBrowserMessage)
		case errors.Is(err, ErrUnknownAuthRequest):
			p.log.InfoContext(r.Context(), "authorize: cannot continue", "err", err)
			p.cfg.ErrorPage(w, r, http.StatusBadRequest, "Your sign-in has expired",
				"You took too long to sign in. Go back to the service you were using and start again.")
		default:
			p.log.ErrorContext(r.Context(), "authorize: cannot continue", "err", err)
			p.cfg.ErrorPage(w, r, http.StatusServiceUnavailable, "Sorry, there is a problem with the service",
				"Try again in a few minutes.")
		}
		return
	}
	if !ok {
		login := p.cfg.LoginPath + "?authRequestID=" + url.QueryEscape(id)
		if p.cfg.Login == nil {
			http.Redirect(w, r, login, http.StatusFound)
			return
		}
		lr := r.Clone(r.Context())
		lr.URL.Path, lr.URL.RawPath, lr.URL.RawQuery = p.cfg.LoginPath, "", "authRequestID="+url.QueryEscape(id)
		lr.RequestURI = login
		p.cfg.Login.ServeHTTP(w, lr)
		return
	}
	p.Redirect(w, r, redirect)
}

// Redirect ends a request of the login pages or the continue step with a
// redirect to `to`: the client's redirect (with a code or an error) that
// Complete or ResumeSession returned, or a page of the idp. It is never
// stored by a cache: it may carry a code.
func (p *Provider) Redirect(w http.ResponseWriter, r *http.Request, to string) {
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusSeeOther
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		status = http.StatusFound
	}
	http.Redirect(w, r, to, status)
}

func (p *Provider) loggedOut(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	p.cfg.ErrorPage(w, r, http.StatusOK, "You have signed out", "You have signed out of your account. You can close this window.")
}

// withErrorPage turns the library's plain-text error responses on
// browser-facing endpoints into a page a person can read. The library's
// detail goes to the log, not the page.
func (p *Provider) withErrorPage(h http.Handler, title, message string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &errorCapture{ResponseWriter: w}
		h.ServeHTTP(cw, r)
		if !cw.failed {
			return
		}
		p.log.InfoContext(r.Context(), "browser request refused", "path", r.URL.Path, "status", cw.status,
			"detail", strings.TrimSpace(truncate(cw.body.String(), 300)))
		// The library's headers for its text error go; the security headers
		// (nosniff, the CSP) stay for the page.
		for _, k := range []string{"Content-Type", "Content-Length"} {
			w.Header().Del(k)
		}
		w.Header().Set("Cache-Control", "no-store")
		p.cfg.ErrorPage(w, r, cw.status, title, message)
	})
}

type errorCapture struct {
	http.ResponseWriter
	failed  bool
	written bool
	status  int
	body    bytes.Buffer
}

func (c *errorCapture) WriteHeader(status int) {
	if c.written || c.failed {
		return
	}
	if status >= 400 {
		c.failed, c.status = true, status
		return
	}
	c.written = true
	c.ResponseWriter.WriteHeader(status)
}

func (c *errorCapture) Write(b []byte) (int, error) {
	if c.failed {
		return c.body.Write(b)
	}
	c.written = true
	return c.ResponseWriter.Write(b)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

var errorPageTemplate = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title></head>
<body><main><h1>{{.Title}}</h1><p>{{.Message}}</p></main></body></html>
`))

func plainErrorPage(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(status)
	_ = errorPageTemplate.Execute(w, struct{ Title, Message string }{title, message})
}

// httpContext gives storage methods, which the library calls with only a
// context, access to the browser request (cookies, parameters) and response.
type httpContext struct {
	w http.ResponseWriter
	r *http.Request
	// outage is a dependency failure (the database, the ephemeral store) met
	// while serving this request: withOutagePage then answers with the
	// service's outage page, whatever the library made of the error.
	outage error
	// user is the account loaded while serving this request: a refresh
	// grant checks the user may sign in and then reads the same row for the
	// ID token's claims, one read serves both.
	user *store.User
	// throttled is set when client authentication was refused for too many
	// failures: withClientThrottle then answers 429.
	throttled *errThrottled
	// clientID is the client the token endpoint looked up (and, when
	// confidential, authenticated) for this request: a refresh grant tells
	// its own client's retry from another client's reuse by it.
	clientID string
	// signingAlg is clientID's id_token_signed_response_alg ("" for the
	// default): SigningKey signs the request's ID token with it.
	signingAlg string
	// client is the client record read for this request: the library asks
	// for a confidential client twice (to present it, to check its secret),
	// and /authorize once more to make the request; one read serves all.
	client *store.Client
	// codeUserID is the account of the code this request redeemed: the
	// client's read brings that account's row with it (Provider.client),
	// which the ID token's claims then use.
	codeUserID string
	// refreshToken is the refresh token a refresh grant presents, and
	// refresh what the client's read brought of it (Provider.client).
	refreshToken string
	refresh      *refreshRead
}

// refreshRead is a presented refresh token read with its client: the token
// and its account, both nil when there is no such token or account.
type refreshRead struct {
	rt   *store.RefreshToken
	user *store.User
}

type httpContextKey struct{}

func withHTTPContext(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hc := &httpContext{w: w, r: r}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), httpContextKey{}, hc)))
	})
}

// dependencyFailed records on the request that a dependency failed, so that a
// browser endpoint says so (503, try again) instead of calling the sign-in link
// invalid or sending the person back to the form app with server_error.
func dependencyFailed(ctx context.Context, err error) {
	if hc := httpFromContext(ctx); hc != nil && hc.outage == nil {
		hc.outage = err
	}
}

// withOutagePage serves the outage page in place of whatever h answers when a
// dependency failed while h ran (see dependencyFailed).
func (p *Provider) withOutagePage(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&outageWriter{ResponseWriter: w, p: p, r: r, hc: httpFromContext(r.Context())}, r)
	})
}

type outageWriter struct {
	http.ResponseWriter
	p        *Provider
	r        *http.Request
	hc       *httpContext
	started  bool
	replaced bool
}

func (o *outageWriter) WriteHeader(status int) {
	if o.started {
		return
	}
	o.started = true
	if o.hc == nil || o.hc.outage == nil {
		o.ResponseWriter.WriteHeader(status)
		return
	}
	o.replaced = true
	o.p.log.ErrorContext(o.r.Context(), "sign-in request failed: a dependency is unavailable", "path", o.r.URL.Path, "err", o.hc.outage)
	h := o.ResponseWriter.Header()
	for _, k := range []string{"Location", "Content-Type", "Content-Length"} {
		h.Del(k)
	}
	h.Set("Cache-Control", "no-store")
	h.Set("Retry-After", "10")
	o.p.cfg.ErrorPage(o.ResponseWriter, o.r, http.StatusServiceUnavailable, OutageTitle, OutageMessage)
}

func (o *outageWriter) Write(b []byte) (int, error) {
	if !o.started {
		o.WriteHeader(http.StatusOK)
	}
	if o.replaced {
		return len(b), nil
	}
	return o.ResponseWriter.Write(b)
}

// The page for a sign-in that could not start or go on because a dependency
// failed: trying again in a little while works.
const (
	OutageTitle   = "Sorry, there is a problem with the service"
	OutageMessage = "We could not start your sign-in just now. Try again in a few minutes: go back to the form and select 'Login or Register' again."
)

func httpFromContext(ctx context.Context) *httpContext {
	hc, _ := ctx.Value(httpContextKey{}).(*httpContext)
	return hc
}
