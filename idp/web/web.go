package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/messages"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/limits"
	"github.com/councilforms/idp/idp/password"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/idp/server"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui"
)

// JourneyCookie holds the id of the browser's journey. The __Host- prefix makes the
// browser insist on Secure, Path=/ and no Domain.
const JourneyCookie = "__Host-idp_journey"

// Paths of the login pages.
const (
	PathLogin   = "/login"
	PathStatus  = "/login/status"
	PathAccount = "/account"
	PathLogout  = "/logout"
)

// Provider is what the pages need of the OpenID Connect provider (*provider.Provider).
type Provider interface {
	// LoginRequest is the pending sign-in, for the browser that started it
	// (provider.ErrOtherBrowser otherwise).
	LoginRequest(r *http.Request, authRequestID string) (*provider.LoginRequest, error)
	Complete(w http.ResponseWriter, r *http.Request, authRequestID string, a provider.Authentication) (string, error)
	// Redirect answers with the redirect Complete gave (in the same response
	// where the provider can) or to any other address.
	Redirect(w http.ResponseWriter, r *http.Request, to string)
	SessionUser(r *http.Request) (string, bool)
	RevokeUserTokens(ctx context.Context, userID string) error
	// LogoutRequest reads the sign-out question's parameters (provider.ErrBadLogout
	// when they are not valid); SignOut ends the session and says where to go.
	LogoutRequest(r *http.Request) (*provider.LogoutRequest, error)
	SignOut(w http.ResponseWriter, r *http.Request, lr *provider.LogoutRequest) (string, error)
}

// Store is the part of the durable store the pages use.
type Store interface {
	store.Users
	store.Counters
	store.ConsecutiveFailures
	store.Audit
	store.PendingPhones
}

// B2CPasswords checks a password against Azure AD B2C's ROPC user flow
// (*b2c.ROPC): true when B2C accepted it for the account objectID, false when it
// refused it, an error when it could not tell (B2C unreachable, slow, failing).
type B2CPasswords interface {
	CheckPassword(ctx context.Context, objectID, username, password string) (bool, error)
}

// DefaultResumeIdle: a journey left for longer than this on a shared computer is
// more likely someone else's than the same person's coming back.
const DefaultResumeIdle = 10 * time.Minute

// DefaultCallPoll is how often, with JavaScript, the call-waiting page asks
// PathStatus whether the call was answered (the script's own default).
const DefaultCallPoll = 2 * time.Second

// Config is what the pages need to know of the deployment.
type Config struct {
	// JourneyTTL is how long an unfinished journey is kept after its last step.
	JourneyTTL time.Duration
	// Location formats times people read (an account locked until ...). Default
	// Europe/London.
	Location *time.Location
	// CallPoll is how often, with JavaScript, that page asks whether the call
	// was answered. Default DefaultCallPoll; tests shorten it.
	CallPoll time.Duration
	// Sends are the durable budgets on codes and calls (limits.Sends); zero
	// fields take the defaults.
	Sends limits.Sends
	// StartURL is where a person whose journey has expired is sent to begin again;
	// empty says to go back to the online form.
	StartURL string
	// ResumeIdle is how long an unfinished journey may have been idle and still
	// be offered to a new sign-in request in the same browser. Default 10 minutes.
	ResumeIdle time.Duration
	// DeviceKey (32 bytes, from the key-encryption key) signs device cookies;
	// empty turns them off.
	DeviceKey []byte
	// CounterKey (32 bytes, from the key-encryption key) keys the hashes of
	// email addresses and phone numbers in the names of durable counters and
	// runs of failures (store/keys.go), so the database holds none in clear.
	// Empty in tests that build a Handler by hand: a fixed key, still hashed.
	CounterKey []byte
	// Passwords are the wrong-password throttles; zero takes limits.DefaultPasswords.
	Passwords limits.Passwords
	// CodeGuesses caps wrong codes across journeys; zero takes
	// limits.DefaultCodeGuesses.
	CodeGuesses limits.CodeGuesses
	// TrustedProxies are load balancers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// OrgName is the organisation running the service ("Do you want to sign out
	// of <OrgName>?"); empty leaves it out.
	OrgName string
	// PrivacyURL and AccessibilityURL are the council's privacy notice and
	// accessibility statement: ui.PathPrivacy and ui.PathAccessibility redirect
	// there; empty shows built-in pages that say to ask the council.
	PrivacyURL       string
	AccessibilityURL string
}

// Deps are the parts the pages use.
type Deps struct {
	Provider  Provider
	Store     Store
	Ephemeral store.Ephemeral
	Machine   *journey.Machine
	Pages     *ui.Templates
	Passwords *password.Hasher
	Messages  *messages.Catalogue
	Email     factors.EmailSender
	SMS       factors.SMSSender
	Caller    factors.Caller
	// Calls keeps the records of calls in flight, which the senders' call
	// outcomes reach too; nil keeps them in Ephemeral for the pages alone.
	Calls *Calls
	// B2C checks the first password of an account imported from Azure AD B2C
	// (IDP_B2C_ROPC_URL); nil when there is none to ask, and such accounts set a
	// new password at their first sign-in.
	B2C B2CPasswords
	Log *slog.Logger
	// Metrics receives the journeys' counters; nil keeps them unregistered.
	Metrics prometheus.Registerer
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Handler serves the login and account pages.
type Handler struct {
	cfg Config
	Deps
	calls   *Calls
	mux     *http.ServeMux
	metrics *metrics
}

var _ factors.CallOutcomes = (*Handler)(nil)

// New checks deps and builds the handler.
func New(cfg Config, d Deps) (*Handler, error) {
	switch {
	case d.Provider == nil, d.Store == nil, d.Ephemeral == nil, d.Machine == nil, d.Pages == nil,
		d.Passwords == nil, d.Messages == nil, d.Email == nil, d.SMS == nil, d.Caller == nil:
		return nil, errors.New("web: every dependency is required")
	}
	if cfg.JourneyTTL <= 0 {
		cfg.JourneyTTL = time.Hour
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Europe/London")
		if err != nil {
			loc = time.UTC
		}
		cfg.Location = loc
	}
	if cfg.Passwords == (limits.Passwords{}) {
		cfg.Passwords = limits.DefaultPasswords()
	}
	if cfg.CodeGuesses == (limits.CodeGuesses{}) {
		cfg.CodeGuesses = limits.DefaultCodeGuesses()
	}
	if cfg.ResumeIdle <= 0 {
		cfg.ResumeIdle = DefaultResumeIdle
	}
	if cfg.CallPoll <= 0 {
		cfg.CallPoll = DefaultCallPoll
	}
	cfg.Sends = cfg.Sends.WithDefaults()
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	m, err := newMetrics(d.Metrics)
	if err != nil {
		return nil, fmt.Errorf("web: metrics: %w", err)
	}
	h := &Handler{cfg: cfg, Deps: d, calls: d.Calls, mux: http.NewServeMux(), metrics: m}
	if h.calls == nil {
		h.calls = NewCalls(d.Ephemeral, d.Machine.Policy())
	}
	h.routes(h.mux)
	return h, nil
}

// Register mounts the pages on mux.
func (h *Handler) Register(mux *http.ServeMux) { h.routes(mux) }

// ServeHTTP serves the pages on their own (tests; the app uses Register).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+PathLogin, h.showLogin)
	mux.HandleFunc("GET "+PathStatus, h.status)
	mux.HandleFunc("GET "+linkLanguage, h.switchLanguage)
	mux.HandleFunc("GET "+PathLogin+"/{link}", h.follow)
	mux.HandleFunc("POST "+PathLogin+"/{action}", h.post)
	mux.HandleFunc("GET "+PathAccount, h.account)
	mux.HandleFunc("GET "+PathAccount+"/change-phone", h.changePhone)
	mux.HandleFunc("GET "+PathLogout, h.logout)
	mux.HandleFunc("POST "+PathLogout, h.signOut)
	mux.HandleFunc("GET /{$}", h.home)
	h.serviceRoutes(mux)
}

// clientIP is the address a request came from, for per-IP budgets and the audit log
// (server.ClientIP: the peer, or behind trusted proxies the nearest untrusted hop).
func (h *Handler) clientIP(r *http.Request) string {
	return server.ClientIP(r, h.cfg.TrustedProxies)
}

// fail shows the 500 page and logs why, without anything secret.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	h.Log.ErrorContext(r.Context(), "login page failed", "step", what, "err", err)
	// A dependency that failed (the database, the journey store) is usually back
	// in moments; the step was not recorded as done, so trying again works.
	w.Header().Set("Retry-After", "10")
	h.Pages.Render(w, http.StatusServiceUnavailable, ui.PageMessage, ui.ServerErrorMessage(browserLang(r)))
}

// busy answers a request refused because too many password checks are waiting:
// nothing was checked or recorded, so the same click in a moment works.
func (h *Handler) busy(w http.ResponseWriter, r *http.Request) {
	h.Log.WarnContext(r.Context(), "login page refused: password checks queue full")
	w.Header().Set("Retry-After", "5")
	h.Pages.Render(w, http.StatusServiceUnavailable, ui.PageMessage, ui.MessagePage{
		Page:       ui.Page{Lang: browserLang(r), Title: ui.T(browserLang(r), "web.busy.title")},
		Paragraphs: []string{ui.T(browserLang(r), "web.busy.body"), ui.T(browserLang(r), "web.busy.next")},
	})
}

// timedOut shows the 'session has timed out' page: the journey or the sign-in
// request is gone.
func (h *Handler) timedOut(w http.ResponseWriter, r *http.Request) {
	p := ui.SessionTimedOutMessage(browserLang(r), h.cfg.StartURL)
	p.LanguageURL = linkLanguage
	h.Pages.Render(w, http.StatusOK, ui.PageMessage, p)
}

// notFound is the 404 page, in the browser's language.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.Pages.Render(w, http.StatusNotFound, ui.PageMessage, ui.NotFoundMessage(browserLang(r)))
}

func seeOther(w http.ResponseWriter, r *http.Request, url string) {
	http.Redirect(w, r, url, http.StatusSeeOther)
}

func (h *Handler) now() time.Time { return h.Now() }

func wrapf(err error, format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, err)...)
}
