package formapp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/councilforms/idp/ui"
)

// App is the demo form application: a relying party of the identity provider.
type App struct {
	cfg      Config
	log      *slog.Logger
	issuer   *issuer
	sessions *sessions
	seen     *seenLogoutTokens
	pages    *pages
	now      func() time.Time
	handler  http.Handler
}

// New checks cfg and parses every page. It does not contact the identity
// provider: discovery happens on the first request that needs it, and is
// retried after a failure, so the form app may start before the provider.
// ctx is not kept.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.OrgName == "" {
		cfg.OrgName = DefaultOrgName
	}
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("formapp: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	is, err := newIssuer(cfg)
	if err != nil {
		return nil, err
	}
	p, err := parsePages(cfg.OrgName)
	if err != nil {
		return nil, err
	}
	a := &App{
		cfg:      cfg,
		log:      log.With("component", "formapp"),
		issuer:   is,
		sessions: newSessions(cfg.SessionTTL),
		seen:     newSeenLogoutTokens(),
		pages:    p,
		now:      time.Now,
	}
	a.handler = a.routes()
	return a, nil
}

// ListenAndServe serves Handler on cfg.Addr until ctx ends, then shuts
// down gracefully (in-flight requests get up to 10 seconds).
func (a *App) ListenAndServe(ctx context.Context) error {
	srv := &http.Server{
		Addr:              a.cfg.Addr,
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("formapp: listen on %s: %w", a.cfg.Addr, err)
	}
	a.log.Info("form app listening", "addr", ln.Addr().String(), "issuer", a.cfg.Issuer, "client_id", a.cfg.ClientID)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("formapp: serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("formapp: shut down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("formapp: serve: %w", err)
	}
	return nil
}

// Config returns the configuration the app runs with.
func (a *App) Config() Config { return a.cfg }

// Handler serves every page of the form app, /assets/ and /healthz.
func (a *App) Handler() http.Handler { return a.handler }

func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+ui.AssetPrefix, ui.Assets())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, pathPerson, http.StatusSeeOther)
	})
	for i := range steps {
		s := &steps[i]
		mux.HandleFunc("GET "+s.Path, a.showStep(s))
		mux.HandleFunc("POST "+s.Path, a.postStep(s))
	}
	mux.HandleFunc("GET "+pathCheck, a.showCheck)
	mux.HandleFunc("POST "+pathCheck, a.submit)
	mux.HandleFunc("GET "+pathSubmitted, a.showSubmitted)
	mux.HandleFunc("GET /sign-in", a.showSignInRequired)
	mux.HandleFunc("POST /login", a.startLogin)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("GET /sign-out", a.signOut)
	mux.HandleFunc("POST /sign-out", a.signOut)
	mux.HandleFunc("GET /signed-out", a.showSignedOut)
	mux.HandleFunc("POST "+BackchannelLogoutPath, a.backchannelLogout)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.render(w, r, http.StatusNotFound, "message", &view{
			Title:   "Page not found",
			Message: "If you typed the web address, check it is correct.",
			Action:  &action{Label: "Start a referral", Href: pathPerson},
		})
	})

	csrf := http.NewCrossOriginProtection()
	// The provider posts logout tokens server to server; the signed token,
	// not the origin, is what protects this endpoint.
	csrf.AddInsecureBypassPattern("POST " + BackchannelLogoutPath)
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.log.Warn("cross-origin form post refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"))
		a.render(w, r, http.StatusForbidden, "message", &view{
			Title:   "Sorry, that did not work",
			Message: "The form was sent from another website, so it was not accepted.",
			Action:  &action{Label: "Go to the form", Href: pathPerson},
		})
	}))
	return a.securityHeaders(csrf.Handler(mux))
}

// securityHeaders sets a strict Content-Security-Policy (no inline script or
// style anywhere) and the usual hardening headers. Forms may post here and,
// through the redirects that follow 'Login or Register' and sign out, to
// the identity provider.
func (a *App) securityHeaders(next http.Handler) http.Handler {
	formAction := "'self'"
	if u, err := url.Parse(a.cfg.Issuer); err == nil {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	csp := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action " + formAction
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		if a.cfg.secureCookies() {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// showStep renders a question page with the answers kept so far. A page
// that needs sign-in sends a signed-out person to the 'Login or Register'
// page first.
func (a *App) showStep(s *step) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := a.session(r)
		if s.NeedsSignIn && (sess == nil || sess.Person == nil) {
			http.Redirect(w, r, "/sign-in?next="+url.QueryEscape(s.Path), http.StatusSeeOther)
			return
		}
		if sess == nil {
			sess = &Session{}
		}
		if i, _ := stepAt(s.Path); i > 0 {
			// Pages are answered in order: a later page cannot be reached
			// before the earlier ones are complete.
			for _, before := range steps[:i] {
				if len(before.check(&sess.Answers)) > 0 {
					http.Redirect(w, r, before.Path, http.StatusSeeOther)
					return
				}
			}
		}
		answers := sess.Answers
		if s.Path == pathReferrer {
			prefillReferrer(&answers, sess.Person)
		}
		a.render(w, r, http.StatusOK, s.Template, a.stepView(r, s, sess, answers, nil))
	}
}

// postStep keeps the page's answers (valid or not: nothing typed is lost),
// shows the problems if any, and otherwise moves on: to the next page, back
// to check answers when changing an answer, or, for a signed-out person, to
// the 'Login or Register' page.
func (a *App) postStep(s *step) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			a.badRequest(w, r)
			return
		}
		sess := a.sessionOrNew(r)
		s.read(&sess.Answers, func(name string) string { return strings.TrimSpace(r.PostForm.Get(name)) })
		sess.Reference = ""
		a.save(w, sess)
		if s.NeedsSignIn && sess.Person == nil {
			// The local session ended while the page was open: keep what
			// was typed, and come back here after signing in.
			http.Redirect(w, r, "/sign-in?next="+url.QueryEscape(s.Path), http.StatusSeeOther)
			return
		}
		if errs := s.check(&sess.Answers); len(errs) > 0 {
			a.render(w, r, http.StatusUnprocessableEntity, s.Template, a.stepView(r, s, sess, sess.Answers, errs))
			return
		}
		next := pathCheck
		if i, _ := stepAt(s.Path); i+1 < len(steps) && r.URL.Query().Get("change") == "" {
			next = steps[i+1].Path
		}
		if r.URL.Query().Get("change") != "" {
			if missing := firstIncomplete(&sess.Answers); missing != "" {
				next = missing
			}
		}
		if sess.Person == nil {
			http.Redirect(w, r, "/sign-in?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
}

func (a *App) stepView(r *http.Request, s *step, sess *Session, answers Answers, errs []FieldError) *view {
	v := &view{Title: s.Title, Answers: answers, Errors: errs, Session: sess}
	if r.URL.Query().Get("change") != "" {
		v.FormAction = s.Path + "?change=1"
		v.BackURL = pathCheck
	} else if i, _ := stepAt(s.Path); i > 0 {
		v.BackURL = steps[i-1].Path
	}
	return v
}

// showSignInRequired is the guide's interstitial: the form cannot go on
// until the person logs in or registers.
func (a *App) showSignInRequired(w http.ResponseWriter, r *http.Request) {
	next := returnPath(r.URL.Query().Get("next"))
	sess := a.session(r)
	if sess != nil && sess.Person != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	a.render(w, r, http.StatusOK, "sign-in-required", &view{
		Title:   "Log in or register to continue",
		Next:    next,
		BackURL: pathPerson,
		Session: sess,
	})
}

func (a *App) showCheck(w http.ResponseWriter, r *http.Request) {
	sess := a.session(r)
	if sess == nil || sess.Person == nil {
		http.Redirect(w, r, "/sign-in?next="+pathCheck, http.StatusSeeOther)
		return
	}
	if missing := firstIncomplete(&sess.Answers); missing != "" {
		http.Redirect(w, r, missing, http.StatusSeeOther)
		return
	}
	a.render(w, r, http.StatusOK, "check", &view{
		Title: "Check your answers before sending your referral", Answers: sess.Answers,
		Session: sess, BackURL: pathReferrer,
	})
}

// submit 'sends' the referral: the demo only gives it a reference number
// and forgets the answers.
func (a *App) submit(w http.ResponseWriter, r *http.Request) {
	sess := a.session(r)
	if sess == nil || sess.Person == nil {
		http.Redirect(w, r, "/sign-in?next="+pathCheck, http.StatusSeeOther)
		return
	}
	if missing := firstIncomplete(&sess.Answers); missing != "" {
		http.Redirect(w, r, missing, http.StatusSeeOther)
		return
	}
	sess.Reference = newReference()
	sess.Answers = Answers{}
	a.save(w, sess)
	a.log.Info("referral submitted", "reference", sess.Reference, "sub", sess.Person.Subject)
	http.Redirect(w, r, pathSubmitted, http.StatusSeeOther)
}

func (a *App) showSubmitted(w http.ResponseWriter, r *http.Request) {
	sess := a.session(r)
	if sess == nil || sess.Reference == "" {
		http.Redirect(w, r, pathPerson, http.StatusSeeOther)
		return
	}
	a.render(w, r, http.StatusOK, "submitted", &view{Title: "Referral submitted", Reference: sess.Reference, Session: sess})
}

func (a *App) showSignedOut(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "message", &view{
		Title:   "You have signed out",
		Message: "You have signed out of the referral form and of your council account.",
		Action:  &action{Label: "Start a new referral", Href: pathPerson},
	})
}

func (a *App) badRequest(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusBadRequest, "message", &view{
		Title:   "Sorry, that did not work",
		Message: "The form could not be read. Go back and try again.",
		Action:  &action{Label: "Go to the form", Href: pathPerson},
	})
}

// referenceAlphabet leaves out letters and digits that are easily confused
// when read out on the phone (0/O, 1/I/L, 5/S, 8/B, 2/Z).
const referenceAlphabet = "ACDEFGHJKMNPQRTUVWXY34679"

// newReference is a referral reference such as SCR-7KQ4-MX9T.
func newReference() string {
	b := make([]byte, 0, 8)
	var one [1]byte
	for len(b) < cap(b) {
		_, _ = rand.Read(one[:])
		// Drop the top of the byte range so every character is equally likely.
		if int(one[0]) < 256-256%len(referenceAlphabet) {
			b = append(b, referenceAlphabet[int(one[0])%len(referenceAlphabet)])
		}
	}
	return "SCR-" + string(b[:4]) + "-" + string(b[4:])
}
