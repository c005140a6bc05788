package provider

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// The library answers some protocol errors in ways strict clients reject
// (plain text, no WWW-Authenticate, 403 {} from userinfo, unauthorized_client
// for a wrong secret). The wrappers here rewrite those answers on the way out,
// without forking the library.

// withBearerErrors makes every refusal of the userinfo endpoint the answer of
// RFC 6750 section 3: 401 with a Bearer challenge. A request without a token
// gets the bare challenge (section 3.1: no error code when the request carries
// no authentication); a missing-scheme, invalid, expired or revoked token gets
// error="invalid_token". A dependency failure met while checking the token is
// a 503, not a token fault.
func (p *Provider) withBearerErrors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm() // so the form the library reads is visible here too
		h.ServeHTTP(&rewriteWriter{ResponseWriter: w, rewrite: func(status int, hdr http.Header) (int, any, bool) {
			if status != http.StatusUnauthorized && status != http.StatusForbidden {
				return 0, nil, false
			}
			if hc := httpFromContext(r.Context()); hc != nil && hc.outage != nil {
				hdr.Set("Retry-After", "5")
				return http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable"}, true
			}
			if !hasBearerToken(r) {
				hdr.Set("WWW-Authenticate", `Bearer`)
				return http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "no access token"}, true
			}
			hdr.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			return http.StatusUnauthorized, map[string]string{"error": "invalid_token"}, true
		}}, r)
	})
}

// hasBearerToken reports whether the request presents an access token in a
// way RFC 6750 allows (the Authorization header or the access_token form
// parameter of a POST); the form is read from r as already parsed.
func hasBearerToken(r *http.Request) bool {
	if a := r.Header.Get("Authorization"); a != "" {
		return true
	}
	return r.PostForm.Get("access_token") != ""
}

// withClientAuthErrors makes every failed client authentication at the
// token, introspection and revocation endpoints the answer of RFC 6749
// section 5.2: 401 application/json {"error":"invalid_client"}, with a Basic
// challenge when the client used the Authorization header. (The only 401 any
// of these endpoints answers is a failed client authentication.) The library's
// description is dropped: it carries internal error text.
//
// It also lets a confidential client authenticate to the introspection
// endpoint with client_secret_post, which discovery advertises but the
// library reads only from the Authorization header: the form's credentials
// are moved into that header before the library sees the request.
func (p *Provider) withClientAuthErrors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		usedBasic := strings.HasPrefix(strings.ToLower(r.Header.Get("Authorization")), "basic ")
		if r.URL.Path == "/oauth/introspect" && r.Header.Get("Authorization") == "" && r.Method == http.MethodPost {
			if err := r.ParseForm(); err == nil {
				id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
				if id != "" && secret != "" {
					// The library unescapes Basic credentials (RFC 6749 section 2.3.1).
					r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
					for _, vs := range []map[string][]string{r.PostForm, r.Form} {
						delete(vs, "client_id")
						delete(vs, "client_secret")
					}
				}
			}
		}
		h.ServeHTTP(&rewriteWriter{ResponseWriter: w, rewrite: func(status int, hdr http.Header) (int, any, bool) {
			if status != http.StatusUnauthorized {
				return 0, nil, false
			}
			if usedBasic {
				hdr.Set("WWW-Authenticate", `Basic realm="`+p.cfg.Issuer+`", charset="UTF-8"`)
			} else {
				hdr.Del("WWW-Authenticate")
			}
			return http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "client authentication failed"}, true
		}}, r)
	})
}

// rewriteWriter passes a response through unless rewrite, called once with
// the status the handler chose, replaces it with a JSON body of its own; the
// handler's body is then discarded.
type rewriteWriter struct {
	http.ResponseWriter
	rewrite  func(status int, hdr http.Header) (int, any, bool)
	started  bool
	replaced bool
}

func (w *rewriteWriter) WriteHeader(status int) {
	if w.started {
		return
	}
	w.started = true
	hdr := w.ResponseWriter.Header()
	newStatus, body, ok := w.rewrite(status, hdr)
	if !ok {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.replaced = true
	hdr.Del("Content-Length")
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	w.ResponseWriter.WriteHeader(newStatus)
	_ = json.NewEncoder(w.ResponseWriter).Encode(body)
}

func (w *rewriteWriter) Write(b []byte) (int, error) {
	if !w.started {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}
