package admin

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui"
)

// The form apps pages (RoleClients): one list of the database's, the clients
// file's and the built-in form apps (the latter read-only); add (the secret
// shown once), change without touching the secret, rotate the secret with an
// overlap, disable and enable, remove. Every change is audited with the
// operator; rotating, disabling and removing ask for a fresh sign-in and a
// reason.

func init() { areas = append(areas, (*Console).formAppRoutes) }

func (c *Console) formAppRoutes() {
	c.navPage("Form apps", "/form-apps", RoleClients, "Add, change and remove the form apps that sign people in, and rotate their secrets.")
	c.handle("GET /form-apps", RoleClients, c.formApps)
	c.handle("GET /form-apps/new", RoleClients, c.newFormApp)
	c.handle("POST /form-apps/new", RoleClients, c.addFormApp)
	c.handle("GET /form-apps/{id}", RoleClients, c.formApp)
	c.handle("POST /form-apps/{id}", RoleClients, c.changeFormApp)
	c.handle("GET /form-apps/{id}/rotate-secret", RoleClients, c.rotateSecretForm)
	c.handle("POST /form-apps/{id}/rotate-secret", RoleClients, c.rotateSecret)
	for _, a := range formAppActions {
		c.handle("GET /form-apps/{id}/"+a.path, RoleClients, c.formAppActionConfirm(a))
		c.handle("POST /form-apps/{id}/"+a.path, RoleClients, c.formAppActionDo(a))
	}
}

func formAppURL(id string) string { return "/form-apps/" + url.PathEscape(id) }

// sourceText says where a form app is defined.
var sourceText = map[provider.ClientSource]string{
	provider.SourceDatabase: "database", provider.SourceFile: "clients file", provider.SourceBuiltIn: "built in",
}

func formAppState(a provider.FormApp) string {
	switch {
	case a.Hidden:
		return "unused: the clients file's or built-in form app of this ID takes precedence"
	case !a.Client.DisabledAt.IsZero():
		return "disabled since " + stamp(a.Client.DisabledAt)
	}
	return "enabled"
}

func clientType(c *store.Client) string {
	if c.Public {
		return "public"
	}
	return "confidential"
}

func (c *Console) listFormApps(r *http.Request) ([]provider.FormApp, error) {
	return provider.ListFormApps(r.Context(), c.deps.Store, c.deps.Ops.FileClients, c.deps.Ops.BuiltInClients)
}

// formApps (GET /form-apps) lists every form app.
func (c *Console) formApps(w http.ResponseWriter, r *http.Request) {
	apps, err := c.listFormApps(r)
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	m := &ui.AdminFormAppsPage{AddURL: "/form-apps/new"}
	if r.URL.Query().Get("done") == "removed" {
		m.Notice = "The form app is removed: its tokens no longer work"
	}
	for _, a := range apps {
		m.FormApps = append(m.FormApps, ui.AdminFormAppRow{ID: a.Client.ID, Name: a.Client.Name, Type: clientType(a.Client),
			Source: sourceText[a.Source], State: formAppState(a), URL: formAppURL(a.Client.ID), ReadOnly: a.ReadOnly()})
	}
	c.render(w, r, http.StatusOK, ui.PageAdminFormApps, m)
}

// databaseFormApp is the database form app of the request's {id}; it answers
// itself (404, or the read-only page, or 503) when there is none.
func (c *Console) databaseFormApp(w http.ResponseWriter, r *http.Request) (*store.Client, bool) {
	id := r.PathValue("id")
	apps, err := c.listFormApps(r)
	if err != nil {
		c.unavailable(w, r, err)
		return nil, false
	}
	i := slices.IndexFunc(apps, func(a provider.FormApp) bool { return a.Client.ID == id && !a.Hidden })
	if i < 0 {
		c.message(w, r, http.StatusNotFound, "There is no such form app", "Go back to the list of form apps.")
		return nil, false
	}
	if apps[i].ReadOnly() {
		c.renderReadOnly(w, r, apps[i])
		return nil, false
	}
	return apps[i].Client, true
}

func (c *Console) renderReadOnly(w http.ResponseWriter, r *http.Request, a provider.FormApp) {
	where := "the clients file (IDP_CLIENTS_FILE): change it there"
	if a.Source == provider.SourceBuiltIn {
		where = "the service itself: it cannot be changed"
	}
	m := &ui.AdminFormAppPage{Page: ui.Page{Title: a.Client.Name, BackURL: "/form-apps"}, ReadOnly: true,
		Details: append([]ui.SummaryRow{{Key: "Defined in", Value: where}}, c.formAppDetails(a.Client)...)}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		status = http.StatusConflict
	}
	c.render(w, r, status, ui.PageAdminFormApp, m)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func (c *Console) formAppDetails(cl *store.Client) []ui.SummaryRow {
	rows := []ui.SummaryRow{{Key: "Client ID", Value: cl.ID}, {Key: "Type", Value: clientType(cl)}}
	scopes := strings.Join(cl.Scopes, " ")
	if scopes == "" {
		scopes = "every supported scope"
	}
	return append(rows,
		ui.SummaryRow{Key: "Redirect URIs", Value: strings.Join(cl.RedirectURIs, " ")},
		ui.SummaryRow{Key: "Post-logout redirect URIs", Value: orNone(strings.Join(cl.PostLogoutRedirectURIs, " "))},
		ui.SummaryRow{Key: "Back-channel logout URI", Value: orNone(cl.BackchannelLogoutURI)},
		ui.SummaryRow{Key: "Scopes", Value: scopes},
		ui.SummaryRow{Key: "Signing algorithm", Value: c.algText(cl.IDTokenSignedResponseAlg)})
}

func (c *Console) algText(alg string) string {
	if alg == "" {
		return "the service's default (" + cmpOr(c.deps.Ops.DefaultSigningAlg, "RS256") + ")"
	}
	return alg
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (c *Console) algChoices() []ui.AdminChoice {
	return []ui.AdminChoice{{Value: "", Text: c.algText("")}, {Value: "RS256", Text: "RS256"}, {Value: "ES256", Text: "ES256"}}
}

var typeChoices = []ui.AdminChoice{{Value: "confidential", Text: "Confidential (a server with a secret)"}, {Value: "public", Text: "Public (no secret, PKCE)"}}

// formFields is the posted registration of the add and change forms.
type formFields struct {
	id, name, redirects, postLogout, backchannel, scopes, alg, clientType string
	session                                                               bool
}

func postedFormApp(r *http.Request) formFields {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return formFields{
		id: v(ui.FieldClientID), name: v(ui.FieldClientName), redirects: v(ui.FieldRedirectURIs), postLogout: v(ui.FieldPostLogoutURIs),
		backchannel: v(ui.FieldBackchannelURI), scopes: strings.Join(strings.Fields(v(ui.FieldScopes)), " "),
		alg: strings.ToUpper(v(ui.FieldSigningAlg)), clientType: v(ui.FieldClientType), session: r.PostFormValue(ui.FieldBackchannelSession) == "true",
	}
}

// lines splits a textarea into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (f formFields) newClient() provider.NewClient {
	return provider.NewClient{ID: f.id, Name: f.name, RedirectURIs: lines(f.redirects), PostLogoutRedirectURIs: lines(f.postLogout),
		Scopes: strings.Fields(f.scopes), Public: f.clientType == "public", BackchannelLogoutURI: f.backchannel,
		BackchannelLogoutSessionRequired: f.session, IDTokenSignedResponseAlg: f.alg}
}

// check is the field errors of the form, before the registration rules.
func (f formFields) check(adding bool) []ui.FieldError {
	var errs []ui.FieldError
	if adding && f.id == "" {
		errs = append(errs, ui.FieldError{Field: ui.FieldClientID, Message: "Enter the client ID"})
	}
	if f.name == "" {
		errs = append(errs, ui.FieldError{Field: ui.FieldClientName, Message: "Enter the name people see when they sign in"})
	}
	if len(lines(f.redirects)) == 0 {
		errs = append(errs, ui.FieldError{Field: ui.FieldRedirectURIs, Message: "Enter at least one redirect URI"})
	}
	if adding && f.clientType != "confidential" && f.clientType != "public" {
		errs = append(errs, ui.FieldError{Field: ui.FieldClientType, Message: "Choose confidential or public"})
	}
	return errs
}

// ruleError is a registration rule's error as the form shows it: on the
// field it names, as a sentence.
func ruleError(err error) ui.FieldError {
	msg := strings.TrimPrefix(err.Error(), provider.ErrInvalidClient.Error()+": ")
	field := ""
	switch {
	case strings.HasPrefix(msg, "id "):
		field = ui.FieldClientID
	case strings.HasPrefix(msg, "name "):
		field = ui.FieldClientName
	case strings.HasPrefix(msg, "post-logout"):
		field = ui.FieldPostLogoutURIs
	case strings.HasPrefix(msg, "redirect URI"), strings.HasPrefix(msg, "at least one redirect"):
		field = ui.FieldRedirectURIs
	case strings.HasPrefix(msg, "scope"):
		field = ui.FieldScopes
	case strings.HasPrefix(msg, "back-channel"):
		field = ui.FieldBackchannelURI
	case strings.HasPrefix(msg, "ID token signing"):
		field = ui.FieldSigningAlg
	}
	return ui.FieldError{Field: field, Message: strings.ToUpper(msg[:1]) + msg[1:]}
}

func (c *Console) renderFormAppForm(w http.ResponseWriter, r *http.Request, status int, adding bool, cl *store.Client, f formFields, errs []ui.FieldError) {
	m := &ui.AdminFormAppPage{Adding: adding, ID: f.id, Name: f.name, RedirectURIs: f.redirects, PostLogoutURIs: f.postLogout,
		BackchannelURI: f.backchannel, BackchannelSession: f.session, Scopes: f.scopes, SigningAlg: f.alg, ClientType: f.clientType,
		AlgChoices: c.algChoices(), TypeChoices: typeChoices}
	m.Errors, m.BackURL = errs, "/form-apps"
	if adding {
		m.Title, m.Action = "Add a form app", "/form-apps/new"
		c.render(w, r, status, ui.PageAdminFormApp, m)
		return
	}
	m.Title, m.Action, m.AuditURL = cl.Name, formAppURL(cl.ID), "/audit?client="+url.QueryEscape(cl.ID)
	m.Details = []ui.SummaryRow{{Key: "Client ID", Value: cl.ID}, {Key: "Type", Value: clientType(cl)}, {Key: "Registered", Value: stamp(cl.CreatedAt)}}
	if !cl.DisabledAt.IsZero() {
		m.Details = append(m.Details, ui.SummaryRow{Key: "State", Value: "disabled since " + stamp(cl.DisabledAt) + ": its sign-ins and token requests are refused"})
	}
	if cl.PreviousSecretHash != "" && c.deps.Now().Before(cl.PreviousSecretExpiresAt) {
		m.Details = append(m.Details, ui.SummaryRow{Key: "Previous secret", Value: "still works until " + stamp(cl.PreviousSecretExpiresAt)})
	}
	base := formAppURL(cl.ID)
	if !cl.Public {
		m.Actions = append(m.Actions, ui.AdminAction{Text: "Rotate secret", Href: base + "/rotate-secret"})
	}
	if cl.DisabledAt.IsZero() {
		m.Actions = append(m.Actions, ui.AdminAction{Text: "Disable", Href: base + "/disable", Warning: true})
	} else {
		m.Actions = append(m.Actions, ui.AdminAction{Text: "Enable", Href: base + "/enable"})
	}
	m.Actions = append(m.Actions, ui.AdminAction{Text: "Remove", Href: base + "/remove", Warning: true})
	switch r.URL.Query().Get("done") {
	case "added":
		m.Notice = "The form app is added"
	case "saved":
		m.Notice = "The changes are saved; the secret is unchanged"
	case "disabled":
		m.Notice = "The form app is disabled"
	case "enabled":
		m.Notice = "The form app is enabled"
	}
	c.render(w, r, status, ui.PageAdminFormApp, m)
}

func fieldsOf(cl *store.Client) formFields {
	return formFields{id: cl.ID, name: cl.Name, redirects: strings.Join(cl.RedirectURIs, "\n"), postLogout: strings.Join(cl.PostLogoutRedirectURIs, "\n"),
		backchannel: cl.BackchannelLogoutURI, session: cl.BackchannelLogoutSessionRequired, scopes: strings.Join(cl.Scopes, " "),
		alg: cl.IDTokenSignedResponseAlg, clientType: clientType(cl)}
}

// newFormApp (GET /form-apps/new) is the add form.
func (c *Console) newFormApp(w http.ResponseWriter, r *http.Request) {
	c.renderFormAppForm(w, r, http.StatusOK, true, nil, formFields{clientType: "confidential"}, nil)
}

// addFormApp (POST /form-apps/new) registers the form app and shows its
// secret once.
func (c *Console) addFormApp(w http.ResponseWriter, r *http.Request) {
	f := postedFormApp(r)
	errs := f.check(true)
	if f.id != "" {
		if err := provider.CheckDatabaseClientID(f.id, c.deps.Ops.FileClients, c.deps.Ops.BuiltInClients); err != nil {
			errs = append([]ui.FieldError{{Field: ui.FieldClientID, Message: err.Error()}}, errs...)
		}
	}
	nc := f.newClient()
	if len(errs) == 0 {
		if err := provider.ValidateClient(nc.Client()); err != nil {
			errs = append(errs, ruleError(err))
		}
	}
	if len(errs) > 0 {
		c.renderFormAppForm(w, r, http.StatusBadRequest, true, nil, f, errs)
		return
	}
	secret, err := provider.AddClient(r.Context(), c.deps.Store, c.deps.Ops.ClientSecrets, nc, c.deps.Now())
	switch {
	case errors.Is(err, store.ErrConflict):
		c.renderFormAppForm(w, r, http.StatusBadRequest, true, nil, f, []ui.FieldError{{Field: ui.FieldClientID, Message: "A form app with this client ID already exists"}})
		return
	case errors.Is(err, provider.ErrInvalidClient):
		c.renderFormAppForm(w, r, http.StatusBadRequest, true, nil, f, []ui.FieldError{ruleError(err)})
		return
	case err != nil:
		c.unavailable(w, r, err)
		return
	}
	if err := c.audit(r, store.AuditEvent{Kind: "client.created", ClientID: nc.ID, Detail: "registered in the operators' console"}, ""); err != nil {
		c.unavailable(w, r, err)
		return
	}
	if secret == "" {
		http.Redirect(w, r, formAppURL(nc.ID)+"?done=added", http.StatusSeeOther)
		return
	}
	c.renderSecret(w, r, nc.ID, secret, "The form app is added.")
}

// renderSecret shows a new client secret, once: never in a URL or a log.
func (c *Console) renderSecret(w http.ResponseWriter, r *http.Request, id, secret string, paragraphs ...string) {
	// The page holds a secret: no cache may keep it.
	w.Header().Set("Cache-Control", "no-store")
	c.render(w, r, http.StatusOK, ui.PageAdminFormAppSecret, &ui.AdminFormAppSecretPage{
		Page: ui.Page{Title: "The secret of " + id}, ClientID: id, Secret: secret, Paragraphs: paragraphs, BackURL: formAppURL(id)})
}

// formApp (GET /form-apps/{id}) is a form app's page: its change form and
// actions, or its details when read-only.
func (c *Console) formApp(w http.ResponseWriter, r *http.Request) {
	cl, ok := c.databaseFormApp(w, r)
	if !ok {
		return
	}
	c.renderFormAppForm(w, r, http.StatusOK, false, cl, fieldsOf(cl), nil)
}

// changeFormApp (POST /form-apps/{id}) saves the change form; the secret is
// left as it is.
func (c *Console) changeFormApp(w http.ResponseWriter, r *http.Request) {
	cl, ok := c.databaseFormApp(w, r)
	if !ok {
		return
	}
	f := postedFormApp(r)
	f.id, f.clientType = cl.ID, clientType(cl)
	errs := f.check(false)
	nc := f.newClient()
	ch := provider.ClientChange{Name: &nc.Name, RedirectURIs: &nc.RedirectURIs, PostLogoutRedirectURIs: &nc.PostLogoutRedirectURIs,
		Scopes: &nc.Scopes, BackchannelLogoutURI: &nc.BackchannelLogoutURI, BackchannelLogoutSessionRequired: &nc.BackchannelLogoutSessionRequired,
		IDTokenSignedResponseAlg: &nc.IDTokenSignedResponseAlg}
	if len(errs) == 0 {
		if err := provider.ValidateClient(ch.Apply(cl)); err != nil {
			errs = append(errs, ruleError(err))
		}
	}
	if len(errs) > 0 {
		c.renderFormAppForm(w, r, http.StatusBadRequest, false, cl, f, errs)
		return
	}
	changed := changedSettings(cl, ch.Apply(cl))
	if len(changed) == 0 {
		http.Redirect(w, r, formAppURL(cl.ID)+"?done=saved", http.StatusSeeOther)
		return
	}
	if _, err := provider.UpdateClient(r.Context(), c.deps.Store, cl.ID, ch); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			c.message(w, r, http.StatusNotFound, "There is no such form app", "It was removed meanwhile.")
			return
		}
		c.unavailable(w, r, err)
		return
	}
	if err := c.audit(r, store.AuditEvent{Kind: "client.updated", ClientID: cl.ID,
		Detail: "changed in the operators' console: " + strings.Join(changed, ", ")}, ""); err != nil {
		c.unavailable(w, r, err)
		return
	}
	http.Redirect(w, r, formAppURL(cl.ID)+"?done=saved", http.StatusSeeOther)
}

// changedSettings names the settings that differ, with the old and new
// redirect URIs (not secret, and what an auditor asks about).
func changedSettings(old, n *store.Client) []string {
	var out []string
	if old.Name != n.Name {
		out = append(out, "name")
	}
	if !slices.Equal(old.RedirectURIs, n.RedirectURIs) {
		out = append(out, "redirect URIs ("+strings.Join(old.RedirectURIs, " ")+" -> "+strings.Join(n.RedirectURIs, " ")+")")
	}
	if !slices.Equal(old.PostLogoutRedirectURIs, n.PostLogoutRedirectURIs) {
		out = append(out, "post-logout redirect URIs")
	}
	if !slices.Equal(old.Scopes, n.Scopes) && !(len(old.Scopes) == 0 && len(n.Scopes) == 0) {
		out = append(out, "scopes")
	}
	if old.BackchannelLogoutURI != n.BackchannelLogoutURI {
		out = append(out, "back-channel logout URI")
	}
	if old.BackchannelLogoutSessionRequired != n.BackchannelLogoutSessionRequired {
		out = append(out, "back-channel logout session required")
	}
	if old.IDTokenSignedResponseAlg != n.IDTokenSignedResponseAlg {
		out = append(out, "ID token signing algorithm")
	}
	return out
}

// defaultOverlap is how long a rotated secret keeps working unless the
// operator chooses otherwise: a day for the form app's team to deploy it.
const defaultOverlap = 24 * time.Hour

// maxOverlapHours bounds the overlap (30 days), as the CLI does.
const maxOverlapHours = 720

func (c *Console) renderRotate(w http.ResponseWriter, r *http.Request, status int, cl *store.Client, overlap, reason string, errs []ui.FieldError) {
	c.render(w, r, status, ui.PageAdminFormAppRotate, &ui.AdminFormAppRotatePage{
		Page: ui.Page{Errors: errs, BackURL: formAppURL(cl.ID)}, Action: formAppURL(cl.ID) + "/rotate-secret", ClientID: cl.ID,
		Overlap: overlap, Reason: reason, CancelURL: formAppURL(cl.ID)})
}

// rotateSecretForm (GET /form-apps/{id}/rotate-secret) asks for the overlap
// and the reason, after a fresh sign-in.
func (c *Console) rotateSecretForm(w http.ResponseWriter, r *http.Request) {
	if !c.requireFresh(w, r) {
		return
	}
	cl, ok := c.databaseFormApp(w, r)
	if !ok {
		return
	}
	if cl.Public {
		c.message(w, r, http.StatusBadRequest, "This form app has no secret", "A public form app signs in with PKCE and no secret.")
		return
	}
	c.renderRotate(w, r, http.StatusOK, cl, strconv.Itoa(int(defaultOverlap.Hours())), "", nil)
}

// rotateSecret (POST /form-apps/{id}/rotate-secret) gives the form app a new
// secret, shown once; the old one works until the overlap ends.
func (c *Console) rotateSecret(w http.ResponseWriter, r *http.Request) {
	if !c.requireFresh(w, r) {
		return
	}
	cl, ok := c.databaseFormApp(w, r)
	if !ok {
		return
	}
	overlap := strings.TrimSpace(r.PostFormValue(ui.FieldOverlap))
	reason, errs := reasonOf(r, "rotating the secret")
	hours, err := strconv.Atoi(overlap)
	if err != nil || hours < 0 || hours > maxOverlapHours {
		errs = append([]ui.FieldError{{Field: ui.FieldOverlap, Message: "Enter the overlap as a whole number of hours from 0 to 720"}}, errs...)
	}
	if errs != nil {
		c.renderRotate(w, r, http.StatusBadRequest, cl, overlap, reason, errs)
		return
	}
	var until time.Time
	if hours > 0 {
		until = c.deps.Now().Add(time.Duration(hours) * time.Hour).UTC().Truncate(time.Second)
	}
	secret, err := provider.RotateClientSecret(r.Context(), c.deps.Store, c.deps.Ops.ClientSecrets, cl.ID, until)
	if errors.Is(err, provider.ErrInvalidClient) {
		c.message(w, r, http.StatusBadRequest, "This form app has no secret", "A public form app signs in with PKCE and no secret.")
		return
	}
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	detail, after := "secret rotated in the operators' console; the old one stopped at once", "The old secret no longer works."
	if !until.IsZero() {
		detail = "secret rotated in the operators' console; the old one works until " + until.Format(time.RFC3339)
		after = "The old secret keeps working until " + stamp(until) + ": give the form app the new one before then."
	}
	if err := c.audit(r, store.AuditEvent{Kind: "client.secret_rotated", ClientID: cl.ID, Detail: detail}, reason); err != nil {
		c.unavailable(w, r, err)
		return
	}
	c.renderSecret(w, r, cl.ID, secret, "The form app has a new secret.", after)
}

// formAppAction is disable, enable or remove: a confirmation with a reason.
type formAppAction struct {
	path, title, button, doing, kind string
	paragraph, warning               string
	fresh                            bool // destructive: a fresh sign-in first
	danger                           bool
}

var formAppActions = []formAppAction{
	{path: "disable", title: "Disable", button: "Disable form app", doing: "disabling the form app", kind: "client.disabled",
		paragraph: "Its sign-ins and token requests are refused (invalid_client) until it is enabled again.", fresh: true, danger: true},
	{path: "enable", title: "Enable", button: "Enable form app", doing: "enabling the form app", kind: "client.enabled",
		paragraph: "It can sign people in again."},
	{path: "remove", title: "Remove", button: "Remove form app", doing: "removing the form app", kind: "client.removed",
		warning: "Its registration and every refresh token it holds are deleted: it cannot sign anyone in until it is added again, with a new secret.",
		fresh:   true, danger: true},
}

func (c *Console) renderFormAppConfirm(w http.ResponseWriter, r *http.Request, status int, a formAppAction, cl *store.Client, reason string, errs []ui.FieldError) {
	m := &ui.AdminConfirmPage{
		Page:   ui.Page{Title: a.title + " " + cl.Name + " (" + cl.ID + ")", Errors: errs, BackURL: formAppURL(cl.ID)},
		Action: formAppURL(cl.ID) + "/" + a.path, Summary: []ui.SummaryRow{{Key: "Client ID", Value: cl.ID}, {Key: "Name", Value: cl.Name}},
		Reason: reason, Button: a.button, CancelURL: formAppURL(cl.ID), Warning: a.warning,
	}
	if a.paragraph != "" {
		m.Paragraphs = []string{a.paragraph}
	}
	if a.danger && m.Warning == "" {
		m.Warning = a.paragraph
		m.Paragraphs = nil
	}
	c.render(w, r, status, ui.PageAdminConfirm, m)
}

func (c *Console) formAppActionConfirm(a formAppAction) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.fresh && !c.requireFresh(w, r) {
			return
		}
		cl, ok := c.databaseFormApp(w, r)
		if !ok {
			return
		}
		c.renderFormAppConfirm(w, r, http.StatusOK, a, cl, "", nil)
	}
}

func (c *Console) formAppActionDo(a formAppAction) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.fresh && !c.requireFresh(w, r) {
			return
		}
		cl, ok := c.databaseFormApp(w, r)
		if !ok {
			return
		}
		reason, errs := reasonOf(r, a.doing)
		if errs != nil {
			c.renderFormAppConfirm(w, r, http.StatusBadRequest, a, cl, reason, errs)
			return
		}
		ctx := r.Context()
		changed := true
		var err error
		switch a.path {
		case "disable", "enable":
			changed, err = provider.SetClientDisabled(ctx, c.deps.Store, cl.ID, a.path == "disable", c.deps.Now())
		case "remove":
			err = c.deps.Store.DeleteClient(ctx, cl.ID)
		}
		if errors.Is(err, store.ErrNotFound) {
			c.message(w, r, http.StatusNotFound, "There is no such form app", "It was removed meanwhile.")
			return
		}
		if err != nil {
			c.unavailable(w, r, err)
			return
		}
		if changed {
			if err := c.audit(r, store.AuditEvent{Kind: a.kind, ClientID: cl.ID, Detail: a.path + "d in the operators' console"}, reason); err != nil {
				c.unavailable(w, r, err)
				return
			}
		}
		if a.path == "remove" {
			http.Redirect(w, r, "/form-apps?done=removed", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, formAppURL(cl.ID)+"?done="+a.path+"d", http.StatusSeeOther)
	}
}
