package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// Options configure Wrap.
type Options struct {
	Log     *slog.Logger
	Metrics *Metrics // nil: no metrics
	// HSTS adds Strict-Transport-Security; set it when the issuer is https.
	HSTS bool
	// CSRFBypass lists ServeMux patterns exempt from cross-origin protection, for
	// endpoints called cross-origin by design that do not rely on cookies (e.g. a token
	// endpoint used by browser-based public clients).
	CSRFBypass []string
}

// Wrap puts the middleware chain around h (normally the application's ServeMux; the
// metrics route label is read from the pattern that mux matched).
func Wrap(h http.Handler, o Options) http.Handler {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	mux, _ := h.(*http.ServeMux)
	h = recoverPanics(h, log)
	cop := http.NewCrossOriginProtection()
	for _, p := range o.CSRFBypass {
		cop.AddInsecureBypassPattern(p)
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		RequestLogger(r.Context(), log).Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path)
		http.Error(w, "Forbidden: this form was sent from another site.", http.StatusForbidden)
	}))
	h = cop.Handler(h)
	h = securityHeaders(h, o.HSTS)
	if o.Metrics != nil {
		h = o.Metrics.instrument(h, mux)
	}
	h = logRequests(h, log)
	h = requestID(h)
	return h
}

type requestIDKey struct{}

// RequestID returns the id of the request ctx belongs to ("" outside a request).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// RequestLogger returns log with the request id of ctx attached.
func RequestLogger(ctx context.Context, log *slog.Logger) *slog.Logger {
	if id := RequestID(ctx); id != "" {
		return log.With("request_id", id)
	}
	return log
}

// requestID gives every request a fresh random id, in the context and in the
// X-Request-Id response header. An incoming X-Request-Id is not trusted: ids in our
// logs are always ours.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 12)
		rand.Read(b) // never fails (crypto/rand panics on an unusable source)
		id := hex.EncodeToString(b)
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// logRequests writes one line per request. The path is logged without the query
// string, and never a body: authorization codes, tokens and state travel in queries.
func logRequests(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := newRecorder(w)
		next.ServeHTTP(rec, r)
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start)),
			slog.String("request_id", RequestID(r.Context())),
		)
	})
}

// ContentSecurityPolicy allows only the idp's own scripts, styles and fonts: no inline
// script, no framing (clickjacking), forms post only to the idp itself.
const ContentSecurityPolicy = cspBefore + "form-action 'self'" + cspAfter

const (
	cspBefore = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
	cspAfter  = "; frame-ancestors 'none'; base-uri 'none'"
)

// AllowFormTarget widens the response's form-action to origin as well as the idp
// itself. Browsers apply form-action to every redirect that follows a form post, so
// a page whose post ends at a form app (the last step of a sign-in, redirected to
// the app's redirect URI) must name the app's origin (scheme://host[:port], checked
// by the caller against the registration). The rest of the policy is unchanged.
func AllowFormTarget(w http.ResponseWriter, origin string) {
	w.Header().Set("Content-Security-Policy", cspBefore+"form-action 'self' "+origin+cspAfter)
}

func securityHeaders(next http.Handler, hsts bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=63072000")
		}
		next.ServeHTTP(w, r)
	})
}

const problemPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sorry, there is a problem with the service</title></head>
<body><h1>Sorry, there is a problem with the service</h1><p>Try again later.</p></body></html>
`

// recoverPanics turns a panicking handler into a 500 page and a logged stack, so one
// bad request does not take the process down.
func recoverPanics(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := newRecorder(w)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v) // the handler asked net/http to abort the connection quietly
			}
			RequestLogger(r.Context(), log).Error("panic serving request",
				"method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if rec.wrote {
				return // too late for an error page; the client sees a truncated response
			}
			rec.Header().Set("Content-Type", "text/html; charset=utf-8")
			rec.Header().Set("Cache-Control", "no-store")
			rec.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(rec, problemPage)
		}()
		next.ServeHTTP(rec, r)
	})
}

// recorder remembers the status a handler wrote. Unwrap lets http.ResponseController
// reach the underlying writer (flushing, deadlines).
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func newRecorder(w http.ResponseWriter) *recorder {
	return &recorder{ResponseWriter: w, status: http.StatusOK}
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status = code
		if code >= 200 { // 1xx informational headers are not the final status
			r.wrote = true
		}
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() {
	r.wrote = true
	http.NewResponseController(r.ResponseWriter).Flush()
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
