package admin

import (
	"net/http"
	"strings"
	"time"

	"github.com/councilforms/idp/idp/cost"
	"github.com/councilforms/idp/ui"
)

// The texts and calls page (RoleAuditor): the durable daily counts of texts,
// calls and completed sign-ins, by UTC day or month, form app, channel and
// outcome, with the estimated cost and the cost per sign-in, as
// `idp costs` reports them (idp/cost).

func init() { areas = append(areas, (*Console).costRoutes) }

func (c *Console) costRoutes() {
	c.navPage("Texts and calls", "/costs", RoleAuditor, "See the texts and calls each form app caused, and what they cost.")
	c.handle("GET /costs", RoleAuditor, c.costs)
}

var byChoices = []ui.AdminChoice{{Value: string(cost.ByMonth), Text: "Month"}, {Value: string(cost.ByDay), Text: "Day"}}

// costs (GET /costs) is the report of the days asked for; without any, last
// month and this one, by month.
func (c *Console) costs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	today := c.deps.Now().UTC()
	m := &ui.AdminCostsPage{Action: "/costs", ByChoices: byChoices,
		From: strings.TrimSpace(q.Get(ui.FieldFrom)), To: strings.TrimSpace(q.Get(ui.FieldTo)), By: strings.TrimSpace(q.Get(ui.FieldBy))}
	if m.From == "" {
		m.From = time.Date(today.Year(), today.Month()-1, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	if m.To == "" {
		m.To = today.Format(time.DateOnly)
	}
	if m.By == "" {
		m.By = string(cost.ByMonth)
	}
	from, ferr := time.Parse(time.DateOnly, m.From)
	to, terr := time.Parse(time.DateOnly, m.To)
	by, berr := cost.ParseBy(m.By)
	if ferr != nil {
		m.Errors = append(m.Errors, ui.FieldError{Field: ui.FieldFrom, Message: "Enter the first day as a date such as 2026-12-01"})
	}
	if terr != nil {
		m.Errors = append(m.Errors, ui.FieldError{Field: ui.FieldTo, Message: "Enter the last day as a date such as 2026-12-31"})
	}
	if berr != nil {
		m.Errors = append(m.Errors, ui.FieldError{Field: ui.FieldBy, Message: "Choose day or month"})
	}
	if ferr == nil && terr == nil && to.Before(from) {
		m.Errors = append(m.Errors, ui.FieldError{Field: ui.FieldTo, Message: "The last day must be the same as or after the first day"})
	}
	prices := c.deps.Ops.UnitCosts
	if prices.Configured() {
		m.UnitCosts = prices.SMS.String() + " a text and " + prices.Call.String() + " a call"
	}
	if len(m.Errors) > 0 {
		c.render(w, r, http.StatusBadRequest, ui.PageAdminCosts, m)
		return
	}
	counts, err := c.deps.Store.DailyCounts(r.Context(), from, to)
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	rep := cost.Build(counts, from, to, by, prices)
	m.RangeSummary = "From " + rep.From + " to " + rep.To + " (UTC), by " + string(rep.By) + "."
	row := func(period, app string, l cost.Line, total bool) ui.AdminCostRow {
		out := ui.AdminCostRow{Period: period, FormApp: app, Total: total, SignIns: l.SignIns,
			Texts: ui.AdminCostCell{Sent: l.SMS.Sent, Failed: l.SMS.Failed, Refused: l.SMS.Refused},
			Calls: ui.AdminCostCell{Sent: l.Voice.Sent, Failed: l.Voice.Failed, Refused: l.Voice.Refused}}
		if rep.Priced {
			out.Cost = l.Cost.String()
			if l.SignIns > 0 {
				out.CostPerSignIn = l.CostPerSignIn.String()
			}
		}
		return out
	}
	for _, p := range rep.Periods {
		for _, a := range p.FormApps {
			m.Rows = append(m.Rows, row(p.Name, costFormApp(a.ClientID), a.Line, false))
		}
		m.Rows = append(m.Rows, row(p.Name, "All form apps", p.Total, true))
	}
	if len(rep.Periods) > 0 {
		for _, a := range rep.FormApps {
			m.FormAppTotals = append(m.FormAppTotals, row("Whole range", costFormApp(a.ClientID), a.Line, false))
		}
		m.FormAppTotals = append(m.FormAppTotals, row("Whole range", "All form apps", rep.Total, true))
	}
	m.NothingCounted = len(rep.Periods) == 0
	c.render(w, r, http.StatusOK, ui.PageAdminCosts, m)
}

// costFormApp names the form app of a line: texts and calls outside any
// form app's sign-in came from the account pages.
func costFormApp(id string) string {
	if id == "" {
		return "None (account pages)"
	}
	return id
}
