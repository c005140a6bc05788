package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/server"
	"github.com/councilforms/idp/idp/support"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui"
)

// The people pages (RoleSupport): find a person by part of their email
// address or by sub, see their account, and help them: unlock, disable,
// enable, reset phone, end sessions, delete. Every action has a confirmation
// page with a required reason; the destructive ones ask for a fresh sign-in.

func init() { areas = append(areas, (*Console).peopleRoutes) }

// peopleShown is how many accounts a search lists.
const peopleShown = 50

// personEvents is how many of a person's latest audit events their page shows.
const personEvents = 10

func (c *Console) peopleRoutes() {
	c.navPage("People", "/people", RoleSupport, "Find people and help them with their accounts: unlock, disable, reset phone, end sessions, delete.")
	c.handle("GET /people", RoleSupport, c.people)
	c.handle("GET /people/{id}", RoleSupport, c.person)
	c.handle("GET /people/{id}/{action}", RoleSupport, c.personActionConfirm)
	c.handle("POST /people/{id}/{action}", RoleSupport, c.personActionDo)
}

// personAction is one thing an operator does to a person's account.
type personAction struct {
	slug, button, title string // title: "Unlock %s" with the email
	doing               string // "unlocking the account", for the reason's error
	paragraphs          []string
	warning             string
	fresh               bool // destructive: a sign-in within FreshFor first
	applies             func(u *store.User, now time.Time) bool
	run                 func(*support.Service, context.Context, *store.User, support.Actor) (support.Result, error)
	done                string // the notice after it
}

var personActions = []personAction{
	{slug: "unlock", button: "Unlock", title: "Unlock the account of %s", doing: "unlocking the account",
		paragraphs: []string{"Their failed logins are cleared and they can sign in with their password at once."},
		applies:    func(u *store.User, now time.Time) bool { return u.FailedLogins > 0 || !u.LockedUntil.IsZero() },
		run:        (*support.Service).Unlock, done: "The account is unlocked"},
	{slug: "reset-phone", button: "Reset phone", title: "Reset the phone of %s", doing: "resetting their phone", fresh: true,
		paragraphs: []string{"Their phone number is removed. At their next sign-in, after their password, they enrol a new phone number. They are sent an email telling them."},
		warning:    "Check who you are speaking to first: resetting a phone is how someone could take over another person's account.",
		applies:    func(u *store.User, _ time.Time) bool { return u.Phone != "" || u.PhoneType != "" || u.PhoneVerified },
		run:        (*support.Service).ResetPhone, done: "The phone number is removed, and they are sent an email telling them"},
	{slug: "end-sessions", button: "End sessions", title: "End every session of %s", doing: "ending their sessions", fresh: true,
		paragraphs: []string{"They are signed out in every browser within seconds, their tokens at every form app are revoked and the form apps are told. Their next sign-in asks for their password and phone."},
		applies:    func(*store.User, time.Time) bool { return true },
		run:        (*support.Service).EndSessions, done: "Their sessions are ending in every browser"},
	{slug: "disable", button: "Disable", title: "Disable the account of %s", doing: "disabling the account", fresh: true,
		paragraphs: []string{"They cannot sign in until the account is enabled again. Their sessions end and their tokens are revoked. They are sent an email telling them."},
		warning:    "The form apps they use stop accepting them at once.",
		applies:    func(u *store.User, _ time.Time) bool { return u.Status == store.UserActive },
		run:        (*support.Service).Disable, done: "The account is disabled, and they are sent an email telling them"},
	{slug: "enable", button: "Enable", title: "Enable the account of %s", doing: "enabling the account",
		paragraphs: []string{"They can sign in again."},
		applies:    func(u *store.User, _ time.Time) bool { return u.Status == store.UserDisabled },
		run:        (*support.Service).Enable, done: "The account is enabled"},
	{slug: "delete", button: "Delete account", title: "Delete the account of %s", doing: "deleting the account", fresh: true,
		paragraphs: []string{"Their account and personal data are erased at once; the audit log keeps their events under a pseudonym. Their sessions end and their form apps are told. Their email address can sign up again as a new account."},
		warning:    "This cannot be undone.",
		applies:    func(*store.User, time.Time) bool { return true },
		run:        (*support.Service).Delete, done: "The account and its personal data are erased"},
}

func actionBySlug(slug string) (personAction, bool) {
	for _, a := range personActions {
		if a.slug == slug {
			return a, true
		}
	}
	return personAction{}, false
}

func personURL(id string) string { return "/people/" + url.PathEscape(id) }

// people (GET /people?q=) searches by part of an email address, or by a whole sub.
func (c *Console) people(w http.ResponseWriter, r *http.Request) {
	m := &ui.AdminPeoplePage{Action: "/people"}
	if r.URL.Query().Get("done") == "delete" {
		m.Notice = "The account and its personal data are erased"
	}
	q := strings.TrimSpace(r.URL.Query().Get(ui.FieldQuery))
	_, searched := r.URL.Query()[ui.FieldQuery]
	m.Query, m.Searched = q, searched
	if !searched {
		c.render(w, r, http.StatusOK, ui.PageAdminPeople, m)
		return
	}
	if q == "" {
		m.Searched = false
		m.Errors = []ui.FieldError{{Field: ui.FieldQuery, Message: "Enter part of an email address, or a person's sub"}}
		c.render(w, r, http.StatusOK, ui.PageAdminPeople, m)
		return
	}
	ctx := r.Context()
	var found []*store.User
	if u, err := c.deps.Store.UserByID(ctx, q); err == nil {
		found = append(found, u)
	} else if !errors.Is(err, store.ErrNotFound) {
		c.unavailable(w, r, err)
		return
	}
	us, err := c.deps.Store.ListUsers(ctx, q, peopleShown+1)
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	for _, u := range us {
		if len(found) > 0 && u.ID == found[0].ID {
			continue
		}
		found = append(found, u)
	}
	if len(found) > peopleShown {
		found, m.More = found[:peopleShown], true
	}
	now := c.deps.Now()
	for _, u := range found {
		m.People = append(m.People, ui.AdminPersonRow{Email: u.Email, Name: fullName(u), MaskedPhone: maskedPhone(u), State: state(u, now), URL: personURL(u.ID)})
	}
	c.render(w, r, http.StatusOK, ui.PageAdminPeople, m)
}

// person (GET /people/{id}) is one person's account.
func (c *Console) person(w http.ResponseWriter, r *http.Request) {
	u, ok := c.personOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	now := c.deps.Now()
	sessions, err := c.deps.Store.SessionClients(ctx, u.ID, "", now)
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	events, err := c.deps.Store.QueryAudit(ctx, store.AuditFilter{UserID: u.ID, Limit: personEvents})
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	m := &ui.AdminPersonPage{Page: ui.Page{Title: u.Email, BackURL: "/people"}, AuditURL: "/audit?" + url.Values{ui.FieldPerson: {u.ID}}.Encode()}
	if a, ok := actionBySlug(r.URL.Query().Get("done")); ok {
		m.Notice = a.done
	}
	phone := "None: they enrol a phone number at their next sign-in"
	if u.Phone != "" {
		phone = journey.MaskPhone(u.Phone) + " (" + orUnknown(u.PhoneType) + ", " + verified(u.PhoneVerified) + ")"
	}
	m.Details = []ui.SummaryRow{
		{Key: "Name", Value: orDash(fullName(u))},
		{Key: "Email address", Value: u.Email + " (" + verified(u.EmailVerified) + ")"},
		{Key: "Phone number", Value: phone},
		{Key: "State", Value: state(u, now)},
		{Key: "Failed logins", Value: fmt.Sprint(u.FailedLogins)},
		{Key: "Account", Value: accountSummary(u)},
		{Key: "Last sign-in", Value: stampOrNever(u.LastSignInAt)},
		{Key: "Created", Value: stamp(u.CreatedAt)},
		{Key: "Sub", Value: u.ID},
	}
	if c.deps.Sessions != nil {
		browsers, err := c.deps.Sessions.UserSessions(ctx, u.ID)
		if err != nil {
			c.unavailable(w, r, err)
			return
		}
		for _, s := range browsers {
			apps := make([]string, 0, len(s.ClientIDs))
			for _, id := range s.ClientIDs {
				apps = append(apps, c.clientName(ctx, id))
			}
			m.Browsers = append(m.Browsers, ui.AdminBrowserSessionRow{Session: shortID(s.SID), Started: stamp(s.Started),
				LastUsed: stampOrDash(s.LastUsed), FormApps: orDash(strings.Join(apps, ", "))})
		}
	}
	for _, s := range sessions {
		m.Sessions = append(m.Sessions, ui.AdminSessionRow{Client: c.clientName(ctx, s.ClientID), Session: shortID(s.SessionID)})
	}
	m.Events = auditRows(events)
	for _, a := range personActions {
		if a.applies(u, now) {
			m.Actions = append(m.Actions, ui.AdminAction{Text: a.button, Href: personURL(u.ID) + "/" + a.slug, Warning: a.fresh})
		}
	}
	c.render(w, r, http.StatusOK, ui.PageAdminPerson, m)
}

// clientName is how the person page names a form app: its name and id, or
// its id alone when it has no name (or is gone).
func (c *Console) clientName(ctx context.Context, id string) string {
	if cl, err := c.deps.Store.ClientByID(ctx, id); err == nil && cl.Name != "" {
		return cl.Name + " (" + id + ")"
	}
	return id
}

// personOf reads the person of the request's {id}, answering 404 or 503 itself.
func (c *Console) personOf(w http.ResponseWriter, r *http.Request) (*store.User, bool) {
	u, err := c.deps.Store.UserByID(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		c.message(w, r, http.StatusNotFound, "There is no such account", "It may have been deleted. Search for the person again on the People page.")
		return nil, false
	}
	if err != nil {
		c.unavailable(w, r, err)
		return nil, false
	}
	return u, true
}

// personActionConfirm (GET /people/{id}/{action}) asks to confirm, with a reason.
func (c *Console) personActionConfirm(w http.ResponseWriter, r *http.Request) {
	a, ok := actionBySlug(r.PathValue("action"))
	if !ok {
		c.message(w, r, http.StatusNotFound, "Page not found", "If you typed the web address, check it is correct.")
		return
	}
	if a.fresh && !c.requireFresh(w, r) {
		return
	}
	u, ok := c.personOf(w, r)
	if !ok {
		return
	}
	c.renderConfirm(w, r, http.StatusOK, a, u, "", nil)
}

func (c *Console) renderConfirm(w http.ResponseWriter, r *http.Request, status int, a personAction, u *store.User, reason string, errs []ui.FieldError) {
	m := &ui.AdminConfirmPage{
		Page:   ui.Page{Title: fmt.Sprintf(a.title, u.Email), Errors: errs, BackURL: personURL(u.ID)},
		Action: personURL(u.ID) + "/" + a.slug, Paragraphs: a.paragraphs, Warning: a.warning,
		Summary: []ui.SummaryRow{{Key: "Name", Value: orDash(fullName(u))}, {Key: "Email address", Value: u.Email},
			{Key: "Phone number", Value: orDash(maskedPhone(u))}, {Key: "State", Value: state(u, c.deps.Now())}},
		Reason: reason, Button: a.button, CancelURL: personURL(u.ID),
	}
	if !a.fresh {
		m.Warning = ""
	}
	c.render(w, r, status, ui.PageAdminConfirm, m)
}

// personActionDo (POST /people/{id}/{action}) does it, audited with the
// operator, their address and the reason.
func (c *Console) personActionDo(w http.ResponseWriter, r *http.Request) {
	a, ok := actionBySlug(r.PathValue("action"))
	if !ok {
		c.message(w, r, http.StatusNotFound, "Page not found", "If you typed the web address, check it is correct.")
		return
	}
	if a.fresh && !c.requireFresh(w, r) {
		return
	}
	u, ok := c.personOf(w, r)
	if !ok {
		return
	}
	reason, errs := reasonOf(r, a.doing)
	if errs != nil {
		c.renderConfirm(w, r, http.StatusBadRequest, a, u, reason, errs)
		return
	}
	op := operatorFrom(r)
	actor := support.Actor{Operator: op.Name(), IP: server.ClientIP(r, c.cfg.TrustedProxies), Reason: reason,
		Via: "in the operators' console", Again: "try again"}
	res, err := a.run(c.support, r.Context(), u, actor)
	log := server.RequestLogger(r.Context(), c.log)
	if res.AuditErr != nil {
		log.Error("console: an action was done but not audited", "action", a.slug, "err", res.AuditErr)
	}
	if res.NoticeErr != nil {
		log.Error("console: the notice to the person was not queued", "action", a.slug, "err", res.NoticeErr)
	}
	if err != nil {
		log.Error("console: action failed", "action", a.slug, "err", err)
		c.message(w, r, http.StatusServiceUnavailable, "Sorry, there is a problem with the service", "The action may be only partly done: "+err.Error(), "Open the person's page again and try again.")
		return
	}
	if a.slug == "delete" {
		http.Redirect(w, r, "/people?done=delete", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, personURL(u.ID)+"?done="+a.slug, http.StatusSeeOther)
}

func fullName(u *store.User) string { return strings.TrimSpace(u.GivenName + " " + u.FamilyName) }

func maskedPhone(u *store.User) string {
	if u.Phone == "" {
		return ""
	}
	return journey.MaskPhone(u.Phone)
}

// state is an account's state as the helpdesk says it.
func state(u *store.User, now time.Time) string {
	var parts []string
	if u.Status == store.UserDisabled {
		parts = append(parts, "disabled")
	}
	if now.Before(u.LockedUntil) {
		parts = append(parts, "locked until "+stamp(u.LockedUntil))
	}
	switch {
	case u.AwaitingMigration():
		parts = append(parts, "imported, not yet signed in")
	case u.ImportedFrom != "":
		parts = append(parts, "migrated")
	}
	if len(parts) == 0 {
		return "active"
	}
	return strings.Join(parts, "; ")
}

func accountSummary(u *store.User) string {
	from := map[string]string{store.ImportedB2C: "Azure AD B2C", store.ImportedExport: "another instance's export"}[u.ImportedFrom]
	switch {
	case u.ImportedFrom == "":
		return "made here"
	case u.AwaitingMigration():
		return "imported from " + orUnknown(from) + ", not yet signed in here"
	default:
		return "migrated from " + orUnknown(from) + "; first signed in here " + stamp(u.MigratedAt)
	}
}

func verified(ok bool) string {
	if ok {
		return "verified"
	}
	return "not verified"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// stamp is a time as the console shows it: UTC, to the second.
func stamp(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04:05 UTC") }

func stampOrNever(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return stamp(t)
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// auditRows are events as the console's tables show them.
func auditRows(es []*store.AuditEvent) []ui.AdminAuditRow {
	rows := make([]ui.AdminAuditRow, 0, len(es))
	for _, e := range es {
		detail := e.Detail
		if e.Reason != "" {
			detail = strings.TrimSpace(detail + " (reason: " + e.Reason + ")")
		}
		rows = append(rows, ui.AdminAuditRow{Time: stamp(e.Time), Kind: e.Kind, User: e.UserID, Client: e.ClientID, IP: e.IP, Operator: e.Operator, Detail: detail})
	}
	return rows
}
