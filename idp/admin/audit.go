package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/councilforms/idp/idp/server"
	"github.com/councilforms/idp/idp/support"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui"
)

// The audit log (RoleAuditor): filter by person, form app, event type,
// operator and time; pages of results; export as CSV and JSON Lines.

func init() { areas = append(areas, (*Console).auditRoutes) }

// auditPage is how many events one page of the audit log shows.
const auditPage = 50

func (c *Console) auditRoutes() {
	c.navPage("Audit log", "/audit", RoleAuditor, "Read the audit log of every security-relevant action, filter it and export it as CSV or JSON Lines.")
	c.handle("GET /audit", RoleAuditor, c.auditLog)
	c.handle("GET /audit/export.csv", RoleAuditor, c.auditExport(support.FormatCSV))
	c.handle("GET /audit/export.jsonl", RoleAuditor, c.auditExport(support.FormatJSONL))
}

// auditQuery is the filter of a request (?person=&client=&kind=&operator=&since=&until=).
type auditQuery struct {
	values url.Values // the filter's fields as given, for links
	filter store.AuditFilter
	errs   []ui.FieldError
}

func (c *Console) auditQueryOf(r *http.Request) (auditQuery, error) {
	q := r.URL.Query()
	aq := auditQuery{values: url.Values{}}
	for _, f := range []string{ui.FieldPerson, ui.FieldClient, ui.FieldKind, ui.FieldOperator, ui.FieldSince, ui.FieldUntil} {
		if v := strings.TrimSpace(q.Get(f)); v != "" {
			aq.values.Set(f, v)
		}
	}
	f := &aq.filter
	f.ClientID, f.Kind, f.Operator = aq.values.Get(ui.FieldClient), aq.values.Get(ui.FieldKind), aq.values.Get(ui.FieldOperator)
	for _, t := range []struct {
		field string
		to    *time.Time
	}{{ui.FieldSince, &f.Since}, {ui.FieldUntil, &f.Until}} {
		v, ok := support.ParseTime(aq.values.Get(t.field))
		if !ok {
			aq.errs = append(aq.errs, ui.FieldError{Field: t.field, Message: "Enter a date such as 2026-12-02 or a time such as 2026-12-02T16:25:00Z"})
		}
		*t.to = v
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		aq.errs = append(aq.errs, ui.FieldError{Field: ui.FieldUntil, Message: "Before must be later than From"})
	}
	person := aq.values.Get(ui.FieldPerson)
	if strings.Contains(person, "@") {
		u, err := c.deps.Store.UserByEmail(r.Context(), person)
		switch {
		case errors.Is(err, store.ErrNotFound):
			aq.errs = append(aq.errs, ui.FieldError{Field: ui.FieldPerson, Message: "There is no account with that email address. An erased account is found by its pseudonym (erased:...)"})
		case err != nil:
			return aq, err
		default:
			f.UserID = u.ID
		}
	} else {
		f.UserID = person
	}
	return aq, nil
}

// cursor is where a page of events starts: before the event of this id and time.
func cursor(e *store.AuditEvent) string {
	return strconv.FormatInt(e.ID, 10) + "." + strconv.FormatInt(e.Time.UnixNano(), 10)
}

func parseCursor(s string) (*store.AuditEvent, bool) {
	id, ns, ok := strings.Cut(s, ".")
	if !ok {
		return nil, false
	}
	i, err1 := strconv.ParseInt(id, 10, 64)
	n, err2 := strconv.ParseInt(ns, 10, 64)
	if err1 != nil || err2 != nil {
		return nil, false
	}
	return &store.AuditEvent{ID: i, Time: time.Unix(0, n).UTC()}, true
}

// auditLog (GET /audit) shows a page of the events that match the filter,
// newest first. ?before= is where the page starts; ?back= the starts of the
// newer pages, so that 'Newer events' goes back one.
func (c *Console) auditLog(w http.ResponseWriter, r *http.Request) {
	aq, err := c.auditQueryOf(r)
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	v := aq.values
	m := &ui.AdminAuditPage{Action: "/audit", Person: v.Get(ui.FieldPerson), Client: v.Get(ui.FieldClient), Kind: v.Get(ui.FieldKind),
		Operator: v.Get(ui.FieldOperator), Since: v.Get(ui.FieldSince), Until: v.Get(ui.FieldUntil)}
	if len(aq.errs) > 0 {
		m.Errors = aq.errs
		c.render(w, r, http.StatusBadRequest, ui.PageAdminAudit, m)
		return
	}
	q := r.URL.Query()
	var back []string
	if b := q.Get("back"); b != "" {
		back = strings.Split(b, ",")
	}
	before := q.Get("before")
	f := aq.filter
	if before != "" {
		e, ok := parseCursor(before)
		if !ok {
			c.message(w, r, http.StatusBadRequest, "That page of the audit log does not exist", "Filter the audit log again.")
			return
		}
		f.Before = e
	}
	f.Limit = auditPage + 1
	es, err := c.deps.Store.QueryAudit(r.Context(), f)
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	more := len(es) > auditPage
	if more {
		es = es[:auditPage]
	}
	m.Searched, m.Events = true, auditRows(es)
	link := func(before string, back []string) string {
		l := url.Values{}
		for k, vs := range v {
			l[k] = vs
		}
		if before != "" {
			l.Set("before", before)
		}
		if len(back) > 0 {
			l.Set("back", strings.Join(back, ","))
		}
		return "/audit?" + l.Encode()
	}
	if more {
		m.OlderURL = link(cursor(es[len(es)-1]), append(append([]string{}, back...), orTop(before)))
	}
	if before != "" {
		prev, rest := "", back
		if len(back) > 0 {
			prev, rest = back[len(back)-1], back[:len(back)-1]
		}
		if prev == "top" {
			prev = ""
		}
		m.NewerURL = link(prev, rest)
	}
	m.ExportCSV = "/audit/export.csv?" + v.Encode()
	m.ExportJSONL = "/audit/export.jsonl?" + v.Encode()
	c.render(w, r, http.StatusOK, ui.PageAdminAudit, m)
}

// orTop names the first page in ?back= ("top": no before).
func orTop(before string) string {
	if before == "" {
		return "top"
	}
	return before
}

// auditExport (GET /audit/export.csv, .jsonl) downloads every matching
// event. The export is itself audited: who took a copy of what.
func (c *Console) auditExport(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		aq, err := c.auditQueryOf(r)
		if err != nil {
			c.unavailable(w, r, err)
			return
		}
		if len(aq.errs) > 0 {
			c.message(w, r, http.StatusBadRequest, "The filter is not right", aq.errs[0].Message, "Go back to the audit log and correct it.")
			return
		}
		if err := c.audit(r, store.AuditEvent{Kind: "admin.audit_exported", Detail: "audit log exported as " + format + " (" + filterText(aq.values) + ")"}, ""); err != nil {
			c.unavailable(w, r, err)
			return
		}
		ctype, ext := "text/csv; charset=utf-8", "csv"
		if format == support.FormatJSONL {
			ctype, ext = "application/jsonl; charset=utf-8", "jsonl"
		}
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="audit-%s.%s"`, c.deps.Now().UTC().Format("20060102-150405"), ext))
		h.Set("Cache-Control", "no-store")
		if err := support.ExportAudit(r.Context(), w, c.deps.Store, aq.filter, format); err != nil {
			// The download has started: it ends short, and the log says why.
			server.RequestLogger(r.Context(), c.log).Error("console: audit export failed part way", "err", err)
		}
	}
}

// filterText describes a filter for the export's audit event.
func filterText(v url.Values) string {
	if len(v) == 0 {
		return "every event"
	}
	return v.Encode()
}
