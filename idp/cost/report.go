package cost

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/councilforms/idp/store"
)

// Prices are the unit costs of a text message and of a call; zero when not
// configured.
type Prices struct {
	SMS  Millipence `json:"sms"`
	Call Millipence `json:"call"`
}

// Configured reports whether any unit cost is set (otherwise the report shows
// counts only).
func (p Prices) Configured() bool { return p.SMS > 0 || p.Call > 0 }

// By is how the report groups days.
type By string

const (
	ByDay   By = "day"
	ByMonth By = "month"
)

// ParseBy reads "day" or "month".
func ParseBy(s string) (By, error) {
	switch By(strings.TrimSpace(s)) {
	case ByDay:
		return ByDay, nil
	case ByMonth:
		return ByMonth, nil
	}
	return "", fmt.Errorf("%q: give day or month", s)
}

// Sends are the texts or calls of one channel, by outcome.
type Sends struct {
	Sent    int64 `json:"sent"`    // accepted by the provider: priced
	Failed  int64 `json:"failed"`  // refused by the provider or not reached
	Refused int64 `json:"refused"` // stopped before the provider by a limit
	// Cost is Sent times the unit price.
	Cost Millipence `json:"cost"`
}

// Tried is every text or call of the channel, whatever its outcome.
func (s Sends) Tried() int64 { return s.Sent + s.Failed + s.Refused }

// Line is the texts, calls and sign-ins of a form app (or of all of them) in
// a period.
type Line struct {
	SMS     Sends `json:"sms"`
	Voice   Sends `json:"voice"`
	SignIns int64 `json:"sign_ins"` // completed sign-ins (codes issued)
	// Cost is the texts' and calls' cost; CostPerSignIn is Cost divided by
	// SignIns, to the nearest millipenny (zero without sign-ins).
	Cost          Millipence `json:"cost"`
	CostPerSignIn Millipence `json:"cost_per_sign_in"`
}

func (l *Line) add(o Line) {
	l.SMS.Sent += o.SMS.Sent
	l.SMS.Failed += o.SMS.Failed
	l.SMS.Refused += o.SMS.Refused
	l.Voice.Sent += o.Voice.Sent
	l.Voice.Failed += o.Voice.Failed
	l.Voice.Refused += o.Voice.Refused
	l.SignIns += o.SignIns
}

func (l *Line) price(p Prices) {
	l.SMS.Cost = Millipence(l.SMS.Sent) * p.SMS
	l.Voice.Cost = Millipence(l.Voice.Sent) * p.Call
	l.Cost = l.SMS.Cost + l.Voice.Cost
	l.CostPerSignIn = divide(l.Cost, l.SignIns)
}

// FormApp is one form app's line; ClientID is "" for texts and calls sent
// outside any form app's sign-in (the account pages).
type FormApp struct {
	ClientID string `json:"client_id"`
	Line
}

// Period is a day ("2026-03-14") or a month ("2026-03"): its form apps,
// ordered by client id, and their total.
type Period struct {
	Name     string    `json:"period"`
	FormApps []FormApp `json:"form_apps"`
	Total    Line      `json:"total"`
}

// Report is the cost report of the days From to To, both included.
type Report struct {
	From    string   `json:"from"` // 2006-01-02
	To      string   `json:"to"`
	By      By       `json:"by"`
	Prices  Prices   `json:"unit_costs"`
	Priced  bool     `json:"unit_costs_configured"`
	Periods []Period `json:"periods"` // oldest first; only periods with counts
	// FormApps is every form app's line over the whole range, and Total the
	// whole range's.
	FormApps []FormApp `json:"form_apps"`
	Total    Line      `json:"total"`
}

// Build makes the report of counts (as store.DailyCounts returns them) for
// the UTC days from..to, grouped by day or month and priced with prices.
// Counts outside the range and of kinds it does not know are left out.
func Build(counts []store.DailyCount, from, to time.Time, by By, prices Prices) Report {
	r := Report{From: store.DayOf(from), To: store.DayOf(to), By: by, Prices: prices, Priced: prices.Configured()}
	type key struct{ period, client string }
	lines := map[key]*Line{}
	apps := map[string]*Line{}
	var periods []string
	for _, c := range counts {
		day := store.DayOf(c.Day)
		if day < r.From || day > r.To {
			continue
		}
		var one Line
		switch c.Kind {
		case store.CountSignIn:
			one.SignIns = c.N
		case store.SendCountKind("sms", store.SendSent):
			one.SMS.Sent = c.N
		case store.SendCountKind("sms", store.SendFailed):
			one.SMS.Failed = c.N
		case store.SendCountKind("sms", store.SendRefused):
			one.SMS.Refused = c.N
		case store.SendCountKind("voice", store.SendSent):
			one.Voice.Sent = c.N
		case store.SendCountKind("voice", store.SendFailed):
			one.Voice.Failed = c.N
		case store.SendCountKind("voice", store.SendRefused):
			one.Voice.Refused = c.N
		default:
			continue
		}
		period := day
		if by == ByMonth {
			period = day[:7]
		}
		k := key{period, c.ClientID}
		if lines[k] == nil {
			lines[k] = &Line{}
			if !slices.Contains(periods, period) {
				periods = append(periods, period)
			}
		}
		lines[k].add(one)
		if apps[c.ClientID] == nil {
			apps[c.ClientID] = &Line{}
		}
		apps[c.ClientID].add(one)
	}
	slices.Sort(periods)
	for _, name := range periods {
		p := Period{Name: name}
		for k, l := range lines {
			if k.period == name {
				p.FormApps = append(p.FormApps, FormApp{ClientID: k.client, Line: *l})
			}
		}
		p.FormApps, p.Total = priced(p.FormApps, prices)
		r.Periods = append(r.Periods, p)
	}
	for id, l := range apps {
		r.FormApps = append(r.FormApps, FormApp{ClientID: id, Line: *l})
	}
	r.FormApps, r.Total = priced(r.FormApps, prices)
	return r
}

// priced orders form apps by client id, prices each, and returns them with
// their priced total.
func priced(apps []FormApp, p Prices) ([]FormApp, Line) {
	slices.SortFunc(apps, func(a, b FormApp) int { return strings.Compare(a.ClientID, b.ClientID) })
	var total Line
	for i := range apps {
		apps[i].price(p)
		total.add(apps[i].Line)
	}
	total.price(p)
	return apps, total
}
