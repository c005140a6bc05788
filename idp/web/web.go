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
	LoginRequest(ctx context.Context, authRequestID string) (*provider.LoginRequest, error)
	Complete(w http.ResponseWriter, r *http.Request, authRequestID string, a provider.Authentication) (string, error)
	// Redirect answers with the redirect Complete gave (in the same response
	// where the provider can) or to any other address.
	Redirect(w http.ResponseWriter, r *http.Request, to string)
	SessionUser(r *http.Request) (string, bool)
	RevokeUserTokens(ctx context.Context, userID string) error
}

// Store is the part of the durable store the pages use.
type Store interface {
	store.Users
	store.Counters
	store.Audit
}

// Budgets are the durable send limits that protect addresses and numbers from being
// flooded and the service from SMS pumping. They survive a flush of the ephemeral
// store. Zero values take DefaultBudgets' values.
type Budgets struct {
	PerDestination int           // messages to one email address or number per Window
	PerIP          int           // messages asked for from one client address per Window
	Window         time.Duration // fixed window
}

// DefaultBudgets: 10 messages an hour to one address or number (the journey itself
// allows 5 resends per 15 minutes), 200 an hour from one client address: a council
// office signs in through one address, so this only stops a flood from one place.
// SMS pumping across many addresses meets the per-number budget, the allowed
// countries and the daily ceiling of the senders.
func DefaultBudgets() Budgets {
	return Budgets{PerDestination: 10, PerIP: 200, Window: time.Hour}
}

// Config is what the pages need to know of the deployment.
type Config struct {
	// JourneyTTL is how long an unfinished journey is kept after its last step.
	JourneyTTL time.Duration
	// Location formats times people read (an account locked until ...). Default
	// Europe/London.
	Location *time.Location
	// CallRefresh is how often the call-waiting page reloads itself without
	// JavaScript. Default 5 s.
	CallRefresh time.Duration
	Budgets     Budgets
	// StartURL is where a person whose journey has expired is sent to begin again;
	// empty says to go back to the online form.
	StartURL string
	// TrustedProxies are load balancers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
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
	Log       *slog.Logger
	// Metrics receives the journeys' counters; nil keeps them unregistered.
	Metrics prometheus.Registerer
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Handler serves the login and account pages. It is also the factors.CallOutcomes
// sink of the call senders.
type Handler struct {
	cfg Config
	Deps
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
	if cfg.CallRefresh <= 0 {
		cfg.CallRefresh = 5 * time.Second
	}
	def := DefaultBudgets()
	if cfg.Budgets.PerDestination <= 0 {
		cfg.Budgets.PerDestination = def.PerDestination
	}
	if cfg.Budgets.PerIP <= 0 {
		cfg.Budgets.PerIP = def.PerIP
	}
	if cfg.Budgets.Window <= 0 {
		cfg.Budgets.Window = def.Window
	}
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
	h := &Handler{cfg: cfg, Deps: d, mux: http.NewServeMux(), metrics: m}
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
	mux.HandleFunc("GET "+PathLogin+"/{link}", h.follow)
	mux.HandleFunc("POST "+PathLogin+"/{action}", h.post)
	mux.HandleFunc("GET "+PathAccount, h.account)
	mux.HandleFunc("GET "+PathAccount+"/change-phone", h.changePhone)
	mux.HandleFunc("GET "+PathLogout, h.logout)
	mux.HandleFunc("GET /{$}", h.home)
}

// clientIP is the address a request came from, for per-IP budgets and the audit log
// (server.ClientIP: the peer, or behind trusted proxies the nearest untrusted hop).
func (h *Handler) clientIP(r *http.Request) string {
	return server.ClientIP(r, h.cfg.TrustedProxies)
}

// fail shows the 500 page and logs why, without anything secret.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	h.Log.ErrorContext(r.Context(), "login page failed", "step", what, "err", err)
	h.Pages.Render(w, http.StatusInternalServerError, ui.PageMessage, ui.ServerErrorMessage())
}

// timedOut shows the 'session has timed out' page: the journey or the sign-in
// request is gone.
func (h *Handler) timedOut(w http.ResponseWriter) {
	h.Pages.Render(w, http.StatusOK, ui.PageMessage, ui.SessionTimedOutMessage(h.cfg.StartURL))
}

func seeOther(w http.ResponseWriter, r *http.Request, url string) {
	http.Redirect(w, r, url, http.StatusSeeOther)
}

func (h *Handler) now() time.Time { return h.Now() }

func wrapf(err error, format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, err)...)
}
