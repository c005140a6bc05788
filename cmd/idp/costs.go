package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/councilforms/idp/idp/cost"
)

const costsUsage = "usage: idp costs [--from DATE] [--to DATE] [--by day|month] [--json]"

// costsCmd reports the texts and calls every server sent, per day or month,
// per form app, channel and outcome, with the estimated cost from
// IDP_SMS_UNIT_COST and IDP_CALL_UNIT_COST and the cost per completed sign-in,
// from the durable daily counts of the database named by IDP_DATABASE_URL.
// Without dates it covers last month and this one, up to today (UTC).
func costsCmd(ctx context.Context, env *environment, args []string) error {
	fs := flag.NewFlagSet("idp costs", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var from, to, by string
	var asJSON bool
	fs.StringVar(&from, "from", "", "first UTC day, e.g. 2026-11-01 (default: the first day of last month)")
	fs.StringVar(&to, "to", "", "last UTC day, included (default: today)")
	fs.StringVar(&by, "by", "month", "group by day or month")
	fs.BoolVar(&asJSON, "json", false, "write the report as JSON (amounts as exact strings of pounds)")
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Errorf("%w (%s)", err, costsUsage)}
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Errorf("unexpected argument %q (%s)", fs.Arg(0), costsUsage)}
	}
	group, err := cost.ParseBy(by)
	if err != nil {
		return usageError{fmt.Errorf("--by %w", err)}
	}
	today := time.Now().UTC()
	first, err := parseDay("from", from, time.Date(today.Year(), today.Month()-1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return err
	}
	last, err := parseDay("to", to, today)
	if err != nil {
		return err
	}
	if last.Before(first) {
		return usageError{fmt.Errorf("--to %s is before --from %s", last.Format(time.DateOnly), first.Format(time.DateOnly))}
	}
	cfg, err := loadAdminConfig(env, nil)
	if err != nil {
		return err
	}
	db, err := openAdminDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	counts, err := db.DailyCounts(ctx, first, last)
	if err != nil {
		return err
	}
	r := cost.Build(counts, first, last, group, cfg.UnitCosts())
	if asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return writeCosts(env.stdout, r)
}

// parseDay reads a UTC date; "" gives def.
func parseDay(name, v string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, usageError{fmt.Errorf("--%s %q: give a date such as 2026-12-02", name, v)}
	}
	return t, nil
}

// writeCosts prints the report as a table: a line per period and form app,
// a total per period, and the whole range's line per form app.
func writeCosts(w io.Writer, r cost.Report) error {
	fmt.Fprintf(w, "Texts and calls from %s to %s (UTC), by %s\n", r.From, r.To, r.By)
	if r.Priced {
		fmt.Fprintf(w, "Unit costs: %s a text (IDP_SMS_UNIT_COST), %s a call (IDP_CALL_UNIT_COST); only texts and calls the provider accepted are priced\n",
			r.Prices.SMS, r.Prices.Call)
	} else {
		fmt.Fprintln(w, "No unit cost is configured (IDP_SMS_UNIT_COST, IDP_CALL_UNIT_COST): counts only")
	}
	if len(r.Periods) == 0 {
		fmt.Fprintln(w, "No texts, calls or sign-ins in this range.")
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PERIOD\tFORM APP\tTEXTS SENT\tFAILED\tREFUSED\tCALLS SENT\tFAILED\tREFUSED\tSIGN-INS\tCOST\tPER SIGN-IN")
	row := func(period, app string, l cost.Line) {
		c, per := "-", "-"
		if r.Priced {
			c = l.Cost.String()
			if l.SignIns > 0 {
				per = l.CostPerSignIn.String()
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", period, app,
			l.SMS.Sent, l.SMS.Failed, l.SMS.Refused, l.Voice.Sent, l.Voice.Failed, l.Voice.Refused, l.SignIns, c, per)
	}
	for _, p := range r.Periods {
		for _, a := range p.FormApps {
			row(p.Name, formAppName(a.ClientID), a.Line)
		}
		row(p.Name, "all", p.Total)
	}
	for _, a := range r.FormApps {
		row("total", formAppName(a.ClientID), a.Line)
	}
	row("total", "all", r.Total)
	return tw.Flush()
}

// formAppName is how the report names texts and calls of no form app.
func formAppName(id string) string {
	if id == "" {
		return "(none)"
	}
	return id
}
