package admin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/messages"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/idp/server"
	"github.com/councilforms/idp/idp/support"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui"
)

// ClientID is the console's client at the idp: a built-in confidential client.
const ClientID = "idp-admin-console"

// FreshFor is how recent a sign-in must be for a destructive action
// (requireFresh): older, the operator signs in again first (max_age).
const FreshFor = 5 * time.Minute

// The console's roles. An owner may do everything, and grant roles.
const (
	RoleSupport = "support"       // find people; unlock, disable, enable, reset phone, end sessions, delete
	RoleClients = "clients"       // form apps and signing keys
	RoleAuditor = "auditor"       // read and export the audit log; the cost of texts and calls
	RoleOwner   = store.RoleOwner // all of it, and granting roles
	// RoleAny is any role at all: pages every operator may open (the home page).
	RoleAny = ""
)

// Roles lists the roles, in the order the console shows them.
var Roles = []string{RoleSupport, RoleClients, RoleAuditor, RoleOwner}

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool { return slices.Contains(Roles, role) }

// Client is the console's client record, registered with the idp at start
// beside the clients of the file: redirect URI url/callback, post-logout URI
// url/. secretHash is the idp's hash of ClientSecret.
func Client(url, secretHash string) *store.Client {
	base := strings.TrimSuffix(url, "/")
	return &store.Client{
		ID: ClientID, Name: "Operators' console", SecretHash: secretHash,
		RedirectURIs:           []string{base + "/callback"},
		PostLogoutRedirectURIs: []string{base + "/"},
		Scopes:                 []string{"openid", "email", "profile"},
	}
}

// ClientSecret is the console's client secret, derived from the key-encryption
// key, so every instance agrees on it without storing it.
func ClientSecret(kek []byte) string {
	m := hmac.New(sha256.New, kek)
	m.Write([]byte("councilforms idp: operators' console client secret"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// DefaultIdleTimeout ends a console session left unused this long: an
// operator's console can reset phones and end sessions, so an unattended one
// should not stay open for the working day.
const DefaultIdleTimeout = 30 * time.Minute

// Config is the console's configuration.
type Config struct {
	// URL is the console's base URL as browsers see it (IDP_ADMIN_URL).
	URL string
	// Issuer is the idp's public URL: browsers are sent there to sign in.
	Issuer       string
	ClientSecret string // ClientSecret(key-encryption key)
	OrgName      string
	// TrustedProxies decide the client address audit events record.
	TrustedProxies []netip.Prefix
	// SessionTTL is how long a console session lasts, however busy (default
	// 8 hours).
	SessionTTL time.Duration
	// IdleTimeout ends a console session that has served no request for this
	// long (IDP_ADMIN_IDLE_TIMEOUT; default DefaultIdleTimeout, at most
	// SessionTTL).
	IdleTimeout time.Duration
	// ContactText ends the notices people are sent ("contact the council's customer services").
	ContactText      string
	ContactTextWelsh string // ContactText in Welsh (IDP_CONTACT_TEXT_CY)
	// HTTPS turns on HSTS.
	HTTPS bool
}

// Deps are the services the console uses.
type Deps struct {
	Store     store.Durable
	Ephemeral store.Ephemeral
	// IDP is the idp's own handler: the console's back-channel requests
	// (discovery, token, keys) are served by it in this process.
	IDP http.Handler
	// Email sends the notices people get after an operator's change (the
	// idp's sender: the durable outbox, or the dev inbox in development).
	Email   factors.EmailSender
	Log     *slog.Logger
	Metrics *server.Metrics // nil: none
	Now     func() time.Time
	// Ops is what the form apps, signing keys and cost pages need (ops.go).
	Ops Operations
	// Sessions lists a person's sessions at the idp for their page (the
	// idp's *provider.Provider); nil leaves them out.
	Sessions UserSessions
}

// UserSessions lists a person's live sessions at the idp.
type UserSessions interface {
	UserSessions(ctx context.Context, userID string) ([]provider.UserSession, error)
}

// Console is the operators' console: an http.Handler served on its own
// listener (IDP_ADMIN_ADDR).
type Console struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	pages   *ui.Templates
	mux     *http.ServeMux
	handler http.Handler
	issuer  *issuer
	support *support.Service
	// nav lists the pages of the header's navigation and the role each needs,
	// in order (handle adds a page given a nav title).
	nav []navEntry
}

type navEntry struct {
	title, path, role, description string
}

// New builds the console.
func New(cfg Config, deps Deps) (*Console, error) {
	if cfg.URL == "" || cfg.Issuer == "" || cfg.ClientSecret == "" {
		return nil, errors.New("admin: the console needs its URL, the issuer and its client secret")
	}
	if deps.Store == nil || deps.Ephemeral == nil || deps.IDP == nil {
		return nil, errors.New("admin: the console needs the stores and the idp's handler")
	}
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	cfg.IdleTimeout = min(cfg.IdleTimeout, cfg.SessionTTL)
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	pages, err := ui.New(ui.Options{OrgName: cfg.OrgName, HomeURL: "/", SignOutURL: PathSignOut, Logger: deps.Log})
	if err != nil {
		return nil, fmt.Errorf("admin: page templates: %w", err)
	}
	catalogue, err := messages.New(cfg.OrgName)
	if err != nil {
		return nil, fmt.Errorf("admin: message templates: %w", err)
	}
	c := &Console{cfg: cfg, deps: deps, log: deps.Log.With("listener", "admin"), pages: pages, mux: http.NewServeMux(),
		support: &support.Service{Store: deps.Store, Notices: deps.Email, Messages: catalogue, ContactText: cfg.ContactText, ContactTextWelsh: cfg.ContactTextWelsh, Now: deps.Now}}
	c.issuer = newIssuer(cfg, inProcess{issuer: strings.TrimSuffix(cfg.Issuer, "/"), handler: deps.IDP})
	c.routes()
	iss, err := url.Parse(cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("admin: issuer: %w", err)
	}
	issuerOrigin := iss.Scheme + "://" + iss.Host
	pagesAndSignIn := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A console form's post may be answered by a redirect to the idp (a
		// fresh sign-in, the sign-out at the idp): browsers hold that redirect
		// to the page's form-action.
		server.AllowFormTarget(w, issuerOrigin)
		c.mux.ServeHTTP(w, r)
	})
	c.handler = server.Wrap(pagesAndSignIn, server.Options{Log: c.log, Metrics: deps.Metrics, HSTS: cfg.HTTPS})
	return c, nil
}

// ServeHTTP serves the console, behind the server middleware (cross-origin
// POSTs refused, security headers, request ids, logs).
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

// Paths of the sign-in itself.
const (
	PathSignIn   = "/sign-in"
	PathCallback = "/callback"
	PathSignOut  = "/sign-out"
)

// routes mounts every page. Each area's pages are mounted by its own
// function (people.go: c.peopleRoutes ...).
func (c *Console) routes() {
	c.mux.HandleFunc("GET "+PathSignIn, c.signIn)
	c.mux.HandleFunc("GET "+PathCallback, c.callback)
	c.mux.HandleFunc("POST "+PathSignOut, c.signOut)
	c.mux.HandleFunc("GET "+PathSignOut, c.signOutQuestion)
	c.mux.Handle("GET "+ui.AssetPrefix, ui.Assets())
	c.mux.Handle("GET /healthz", server.Healthz())
	c.handle("GET /{$}", RoleAny, c.home)
	for _, area := range areas {
		area(c)
	}
	// Areas add themselves in the order of their files' names; the menu
	// follows the work instead (other pages after these, as added).
	slices.SortStableFunc(c.nav, func(a, b navEntry) int { return navRank(a.path) - navRank(b.path) })
	c.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.message(w, r, http.StatusNotFound, "Page not found", "If you typed the web address, check it is correct.")
	})
}

// navOrder is the menu's order: helping people first, then form apps,
// keys, the audit log, costs and the operators.
var navOrder = []string{"/people", "/form-apps", "/signing-keys", "/audit", "/costs", "/operators"}

func navRank(path string) int {
	if i := slices.Index(navOrder, path); i >= 0 {
		return i
	}
	return len(navOrder)
}

// areas mount the console's parts; each area's file adds itself from an init
// (people.go, audit.go, operators.go ...), so that areas are added without
// touching this file.
var areas []func(*Console)

// handle mounts a page: pattern is a ServeMux pattern ("GET /form-apps",
// "POST /people/{id}/unlock"), role the role it needs (RoleAny: any role;
// an owner may open every page). The handler runs only for a signed-in
// operator holding the role, read from the database on this request, so a
// revoked role stops working at once; operatorFrom(r) gives the operator.
// Without a console session, a GET is sent to sign in and back; a POST to
// sign in and then to the GET of the same path (never replayed).
func (c *Console) handle(pattern, role string, h http.HandlerFunc) {
	c.mux.Handle(pattern, c.guard(role, h))
}

// navPage adds a page to the header navigation: shown to operators holding
// role, with title, and on the home page with description.
func (c *Console) navPage(title, path, role, description string) {
	c.nav = append(c.nav, navEntry{title: title, path: path, role: role, description: description})
}

// Operator is the signed-in operator of a request.
type Operator struct {
	UserID   string
	Email    string
	Roles    []string // read from the database on this request
	AuthTime time.Time
	session  string
}

// Has reports whether the operator holds role (an owner holds every role).
func (o *Operator) Has(role string) bool {
	if role == RoleAny {
		return len(o.Roles) > 0
	}
	return slices.Contains(o.Roles, role) || slices.Contains(o.Roles, RoleOwner)
}

// Name is how audit events name the operator (store.ConsoleOperator).
func (o *Operator) Name() string { return store.ConsoleOperator(o.Email, o.UserID) }

type operatorKey struct{}

// operatorFrom is the signed-in operator of a request a page handler serves
// (always set there: handle lets no one else through).
func operatorFrom(r *http.Request) *Operator {
	o, _ := r.Context().Value(operatorKey{}).(*Operator)
	if o == nil {
		panic("admin: operatorFrom outside a page mounted with handle")
	}
	return o
}

func (c *Console) guard(role string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := c.session(r)
		if errors.Is(err, errNoSession) {
			c.startSignIn(w, r, returnPath(r), false)
			return
		}
		if err != nil {
			c.unavailable(w, r, err)
			return
		}
		u, err := c.deps.Store.UserByID(r.Context(), s.Sub)
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.Status != store.UserActive) {
			// The account was erased or disabled: the console session ends with it.
			c.endSession(w, r, s.ID)
			c.startSignIn(w, r, "/", false)
			return
		}
		if err != nil {
			c.unavailable(w, r, err)
			return
		}
		roles, err := c.deps.Store.RolesOf(r.Context(), s.Sub)
		if err != nil {
			c.unavailable(w, r, err)
			return
		}
		op := &Operator{UserID: u.ID, Email: u.Email, Roles: roles, AuthTime: s.AuthTime, session: s.ID}
		r = r.WithContext(context.WithValue(r.Context(), operatorKey{}, op))
		if !op.Has(role) {
			need := role
			if len(roles) == 0 {
				need = ""
			}
			w.Header().Set("Cache-Control", "no-store")
			c.render(w, r, http.StatusForbidden, ui.PageAdminForbidden, &ui.AdminForbiddenPage{Email: op.Email, Roles: op.Roles, Needed: need})
			return
		}
		h(w, r)
	})
}

// returnPath is where to come back to after signing in: the page itself for
// a GET, the GET of the same path for anything else (a POST is never replayed).
func returnPath(r *http.Request) string {
	if r.Method == http.MethodGet {
		return r.URL.RequestURI()
	}
	return r.URL.Path
}

// requireFresh is for destructive actions: it reports whether the operator
// signed in within FreshFor. When not, it sends them to sign in again
// (max_age) and back to the GET of this page (the confirmation page; a POST
// is never replayed) and returns false: the handler stops there. Call it on
// the confirmation page's GET, so that they sign in before typing a reason,
// and again on the POST.
func (c *Console) requireFresh(w http.ResponseWriter, r *http.Request) bool {
	op := operatorFrom(r)
	if c.deps.Now().Sub(op.AuthTime) <= FreshFor {
		return true
	}
	c.startSignIn(w, r, returnPath(r), true)
	return false
}

// pageModel is a console page's view model: a pointer to a ui model (which
// embeds ui.Page).
type pageModel interface{ Base() *ui.Page }

// render writes a console page for the signed-in operator of r: the header
// names them and shows the navigation their roles allow. model is a pointer
// to the page's ui model (&ui.AdminPeoplePage{...}).
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, model pageModel) {
	p := model.Base()
	p.Service = ui.ServiceConsole
	if op, _ := r.Context().Value(operatorKey{}).(*Operator); op != nil {
		p.SignedInAs = op.Email
		p.Nav = c.navFor(op, r.URL.Path)
	}
	c.pages.Render(w, status, page, model)
}

// navFor is the header navigation of op on the page at path.
func (c *Console) navFor(op *Operator, path string) []ui.NavItem {
	var items []ui.NavItem
	for _, n := range c.nav {
		if op.Has(n.role) {
			items = append(items, ui.NavItem{Text: n.title, Href: n.path, Current: path == n.path || strings.HasPrefix(path, n.path+"/")})
		}
	}
	return items
}

// message renders a message page (errors, not found).
func (c *Console) message(w http.ResponseWriter, r *http.Request, status int, title string, paragraphs ...string) {
	c.render(w, r, status, ui.PageMessage, &ui.MessagePage{Page: ui.Page{Title: title}, Paragraphs: paragraphs, LinkText: "Go to the start of the console", LinkURL: "/"})
}

// unavailable is the 503 page of a dependency that failed.
func (c *Console) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	server.RequestLogger(r.Context(), c.log).Error("console: a dependency failed", "err", err)
	c.message(w, r, http.StatusServiceUnavailable, "Sorry, there is a problem with the service",
		"The database or the session store is not answering. Nothing was changed. Try again in a few minutes.")
}

// audit records an action of the signed-in operator: e's Kind, UserID,
// ClientID and Detail as the action sets them; the operator (their email and
// sub), the client address, the time and the reason are added here.
func (c *Console) audit(r *http.Request, e store.AuditEvent, reason string) error {
	e.Operator = operatorFrom(r).Name()
	e.IP = server.ClientIP(r, c.cfg.TrustedProxies)
	e.Reason = reason
	if e.Time.IsZero() {
		e.Time = c.deps.Now()
	}
	if err := c.deps.Store.AppendAudit(r.Context(), &e); err != nil {
		return fmt.Errorf("audit event %s: %w", e.Kind, err)
	}
	return nil
}

// reasonOf is the posted reason, trimmed; empty gives the field error to show.
func reasonOf(r *http.Request, doing string) (string, []ui.FieldError) {
	reason := strings.TrimSpace(r.PostFormValue(ui.FieldReason))
	if reason == "" {
		return "", []ui.FieldError{{Field: ui.FieldReason, Message: "Enter the reason for " + doing}}
	}
	if len(reason) > 500 {
		return reason, []ui.FieldError{{Field: ui.FieldReason, Message: "The reason must be 500 characters or fewer"}}
	}
	return reason, nil
}

// home is the start page: the parts of the console the operator's roles open.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r)
	m := &ui.AdminHomePage{Email: op.Email, Roles: op.Roles}
	for _, n := range c.nav {
		if op.Has(n.role) {
			m.Sections = append(m.Sections, ui.AdminSection{Title: n.title, Href: n.path, Description: n.description})
		}
	}
	c.render(w, r, http.StatusOK, ui.PageAdminHome, m)
}
