package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/sqlite"
)

// Issue 18: the council sees what each form app's texts and calls cost, by
// month or day, from the durable counts.
func TestCostsCommand(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "idp.db")
	vars := map[string]string{"IDP_DATABASE_URL": "sqlite:" + path}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 15, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		at           time.Time
		client, kind string
		n            int64
	}{
		{at(10, 31), "referral", "sms.sent", 100}, // before the range
		{at(11, 3), "referral", "sms.sent", 10},
		{at(11, 3), "referral", "sms.failed", 2},
		{at(11, 3), "referral", store.CountSignIn, 8},
		{at(11, 20), "blue-badge", "voice.sent", 3},
		{at(11, 20), "blue-badge", "sms.refused", 4},
		{at(11, 20), "blue-badge", "signin", 2},
		{at(12, 1), "referral", "sms.sent", 5},
	} {
		if err := s.AddDailyCount(ctx, c.at, c.client, c.kind, c.n); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	// Without unit costs: counts, and a line saying so.
	code, out, errs := runCmd(t, vars, "costs", "--from", "2026-11-01", "--to", "2026-12-01")
	if code != 0 || !strings.Contains(out, "No unit cost is configured") || !strings.Contains(out, "2026-11  referral    10") {
		t.Fatalf("costs without unit costs: %d %q\n%s", code, errs, out)
	}

	vars["IDP_SMS_UNIT_COST"], vars["IDP_CALL_UNIT_COST"] = "0.04", "0.095"
	code, out, errs = runCmd(t, vars, "costs", "--from", "2026-11-01", "--to", "2026-12-01", "--json")
	if code != 0 {
		t.Fatalf("costs --json: %d %q", code, errs)
	}
	var r struct {
		By      string `json:"by"`
		Priced  bool   `json:"unit_costs_configured"`
		Periods []struct {
			Period   string `json:"period"`
			FormApps []struct {
				ClientID string `json:"client_id"`
				SMS      struct{ Sent, Failed, Refused int64 }
				Voice    struct{ Sent int64 }
				SignIns  int64  `json:"sign_ins"`
				Cost     string `json:"cost"`
				PerSign  string `json:"cost_per_sign_in"`
			} `json:"form_apps"`
		} `json:"periods"`
		Total struct {
			SMS     struct{ Sent int64 }
			Cost    string `json:"cost"`
			PerSign string `json:"cost_per_sign_in"`
		} `json:"total"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("costs --json: %v\n%s", err, out)
	}
	if r.By != "month" || !r.Priced || len(r.Periods) != 2 || r.Periods[0].Period != "2026-11" || len(r.Periods[0].FormApps) != 2 {
		t.Fatalf("report: %+v", r)
	}
	bb, ref := r.Periods[0].FormApps[0], r.Periods[0].FormApps[1]
	// blue-badge: 3 calls at 9.5p over 2 sign-ins; referral: 10 texts at 4p over 8.
	if bb.ClientID != "blue-badge" || bb.Voice.Sent != 3 || bb.SMS.Refused != 4 || bb.Cost != "0.285" || bb.PerSign != "0.1425" ||
		ref.ClientID != "referral" || ref.SMS.Sent != 10 || ref.SMS.Failed != 2 || ref.Cost != "0.40" || ref.PerSign != "0.05" {
		t.Errorf("November: %+v", r.Periods[0].FormApps)
	}
	if r.Total.SMS.Sent != 15 || r.Total.Cost != "0.885" || r.Total.PerSign != "0.0885" {
		t.Errorf("total: %+v", r.Total)
	}

	code, out, errs = runCmd(t, vars, "costs", "--from", "2026-11-20", "--to", "2026-11-20", "--by", "day")
	if code != 0 || !strings.Contains(out, "2026-11-20  blue-badge  0") || !strings.Contains(out, "£0.285") || strings.Contains(out, "referral") {
		t.Errorf("costs by day: %d %q\n%s", code, errs, out)
	}
	for _, bad := range [][]string{{"costs", "--by", "week"}, {"costs", "--from", "yesterday"}, {"costs", "--to", "2026-13-01"},
		{"costs", "--from", "2026-12-02", "--to", "2026-12-01"}, {"costs", "extra"}, {"costs", "--json=maybe"}} {
		if code, _, errs := runCmd(t, vars, bad...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d %q, want a usage error", bad, code, errs)
		}
	}
	vars["IDP_SMS_UNIT_COST"] = "4p"
	if code, _, errs := runCmd(t, vars, "costs"); code != 2 || !strings.Contains(errs, "IDP_SMS_UNIT_COST") {
		t.Errorf("bad unit cost: exit %d %q", code, errs)
	}
}
