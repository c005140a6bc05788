package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
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
		if r.URL.Path == "/oauth/token" && r.Method == http.MethodPost {
			// Parsed here, so the form the library reads is this request's
			// too: a refresh grant's token is read with its client.
			_ = r.ParseForm()
			if hc := httpFromContext(r.Context()); hc != nil && r.Form.Get("grant_type") == string(oidc.GrantTypeRefreshToken) {
				hc.refreshToken = r.Form.Get("refresh_token")
			}
		}
		if r.URL.Path == "/oauth/introspect" && r.Method == http.MethodPost {
			// Parsed here, so the form the library reads is this request's too.
			_ = r.ParseForm()
		}
		if r.URL.Path == "/oauth/introspect" && r.Header.Get("Authorization") == "" && r.Method == http.MethodPost {
			if r.PostForm != nil {
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
			if status == http.StatusOK && r.URL.Path == "/oauth/introspect" {
				// The library knows only access tokens: a refresh token
				// comes back inactive. The client authenticated (200).
				if resp := p.introspectRefreshToken(r); resp != nil {
					return http.StatusOK, resp, true
				}
			}
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

// introspectRefreshToken answers RFC 7662 for a current refresh token of the
// authenticated client, or nil when the token is not one (the library's
// answer then stands).
func (p *Provider) introspectRefreshToken(r *http.Request) map[string]any {
	token := r.PostForm.Get("token")
	user, _, ok := r.BasicAuth()
	if token == "" || !ok {
		return nil
	}
	clientID, err := url.QueryUnescape(user)
	if err != nil {
		return nil
	}
	ctx := r.Context()
	rt, err := p.db.RefreshTokenByHash(ctx, hashToken(token))
	if err != nil {
		return nil
	}
	now := p.now()
	if rt.ClientID != clientID || !rt.RevokedAt.IsZero() || !rt.UsedAt.IsZero() ||
		!now.Before(rt.ExpiresAt) || !now.Before(rt.IdleExpiresAt) {
		return nil
	}
	if err := p.userMaySignIn(ctx, rt.UserID); err != nil {
		return nil
	}
	exp := rt.ExpiresAt
	if rt.IdleExpiresAt.Before(exp) {
		exp = rt.IdleExpiresAt
	}
	aud := rt.Audience
	if len(aud) == 0 {
		aud = []string{rt.ClientID}
	}
	return map[string]any{
		"active":    true,
		"scope":     strings.Join(rt.Scopes, " "),
		"client_id": rt.ClientID,
		"sub":       rt.UserID,
		"aud":       aud,
		"iss":       p.cfg.Issuer,
		"iat":       rt.CreatedAt.Unix(),
		"exp":       exp.Unix(),
		"auth_time": rt.AuthTime.Unix(),
	}
}

// authorizeParameters are the parameters of an /authorize request as sent:
// the query, and the form body of a POST when it has been read.
func authorizeParameters(r *http.Request) []url.Values {
	vs := []url.Values{r.URL.Query()}
	if r.PostForm != nil {
		vs = append(vs, r.PostForm)
	}
	return vs
}

// askedResponseType is the response_type of the /authorize request being
// served, if any (see oidcClient.ResponseTypes).
func askedResponseType(ctx context.Context) oidc.ResponseType {
	hc := httpFromContext(ctx)
	if hc == nil || hc.r == nil {
		return ""
	}
	for _, v := range authorizeParameters(hc.r) {
		if rt := v.Get("response_type"); rt != "" {
			return oidc.ResponseType(rt)
		}
	}
	return ""
}

// repeatedParameter refuses a request that sends a parameter more than once
// (RFC 6749 section 3.1); the library would take the first value.
func repeatedParameter(r *http.Request) error {
	seen := map[string]int{}
	for _, v := range authorizeParameters(r) {
		for k, vals := range v {
			seen[k] += len(vals)
			if seen[k] > 1 {
				return oidc.ErrInvalidRequest().WithDescription("A parameter was sent more than once.")
			}
		}
	}
	return nil
}
