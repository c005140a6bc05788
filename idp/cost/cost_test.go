package cost

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
)

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Millipence
	}{
		{"", 0}, {"0", 0}, {"0.04", 4000}, {"£0.04", 4000}, {" 0.0395 ", 3950}, {"1", 100000},
		{"0.00001", 1}, {"12.3", 1230000}, {"100", 10000000},
	} {
		got, err := ParseAmount(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"four pence", "0.000001", "-0.04", "0,04", "1e-2", ".", "0.", "100.00001", "99999999999999999999", "4p"} {
		if got, err := ParseAmount(bad); !errors.Is(err, ErrAmount) {
			t.Errorf("ParseAmount(%q) = %d, %v; want ErrAmount", bad, got, err)
		}
	}
}

func TestMillipenceString(t *testing.T) {
	for m, want := range map[Millipence]string{
		0: "£0.00", 4000: "£0.04", 3950: "£0.0395", 1230000: "£12.30", 1: "£0.00001", -1000: "-£0.01",
	} {
		if got := m.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(m), got, want)
		}
	}
}

func TestDivideRounds(t *testing.T) {
	for _, tc := range []struct {
		a    Millipence
		n    int64
		want Millipence
	}{{10, 3, 3}, {11, 2, 6}, {10, 4, 3}, {9, 4, 2}, {7, 0, 0}, {12000, 3, 4000}} {
		if got := divide(tc.a, tc.n); got != tc.want {
			t.Errorf("divide(%d, %d) = %d, want %d", tc.a, tc.n, got, tc.want)
		}
	}
}

func day(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }

var counts = []store.DailyCount{
	{Day: day(2, 28), ClientID: "referral", Kind: "sms.sent", N: 7}, // before the range
	{Day: day(3, 1), ClientID: "", Kind: "sms.sent", N: 1},
	{Day: day(3, 1), ClientID: "referral", Kind: "signin", N: 3},
	{Day: day(3, 1), ClientID: "referral", Kind: "sms.sent", N: 4},
	{Day: day(3, 1), ClientID: "referral", Kind: "sms.failed", N: 1},
	{Day: day(3, 1), ClientID: "referral", Kind: "voice.sent", N: 1},
	{Day: day(3, 2), ClientID: "blue-badge", Kind: "sms.refused", N: 2},
	{Day: day(3, 2), ClientID: "blue-badge", Kind: "voice.sent", N: 2},
	{Day: day(3, 2), ClientID: "blue-badge", Kind: "signin", N: 1},
	{Day: day(3, 2), ClientID: "referral", Kind: "email.sent", N: 9}, // not a kind the report prices
	{Day: day(4, 1), ClientID: "referral", Kind: "sms.sent", N: 2},
	{Day: day(4, 2), ClientID: "referral", Kind: "sms.sent", N: 1}, // after the range
}

var prices = Prices{SMS: 4000, Call: 9500} // £0.04 a text, £0.095 a call

func TestReportByDay(t *testing.T) {
	r := Build(counts, day(3, 1), day(4, 1).Add(23*time.Hour), ByDay, prices)
	if r.From != "2026-03-01" || r.To != "2026-04-01" || !r.Priced {
		t.Fatalf("range %s..%s priced %v", r.From, r.To, r.Priced)
	}
	var names []string
	for _, p := range r.Periods {
		names = append(names, p.Name)
	}
	if got := names; len(got) != 3 || got[0] != "2026-03-01" || got[1] != "2026-03-02" || got[2] != "2026-04-01" {
		t.Fatalf("periods %v", got)
	}
	first := r.Periods[0]
	if len(first.FormApps) != 2 || first.FormApps[0].ClientID != "" || first.FormApps[1].ClientID != "referral" {
		t.Fatalf("form apps of 1 March: %+v", first.FormApps)
	}
	ref := first.FormApps[1]
	// 4 texts at 4p and a call at 9.5p: 25.5p, over 3 sign-ins 8.5p each.
	if ref.SMS != (Sends{Sent: 4, Failed: 1, Cost: 16000}) || ref.Voice != (Sends{Sent: 1, Cost: 9500}) ||
		ref.SignIns != 3 || ref.Cost != 25500 || ref.CostPerSignIn != 8500 {
		t.Errorf("referral on 1 March: %+v", ref.Line)
	}
	if first.Total.SMS.Sent != 5 || first.Total.Cost != 29500 || first.Total.CostPerSignIn != 9833 {
		t.Errorf("1 March total: %+v", first.Total)
	}
	bb := r.Periods[1].FormApps[0]
	if bb.ClientID != "blue-badge" || bb.SMS != (Sends{Refused: 2}) || bb.Voice.Cost != 19000 || bb.CostPerSignIn != 19000 {
		t.Errorf("blue-badge on 2 March: %+v", bb)
	}
	// The whole range: 7 texts and 3 calls sent.
	if r.Total.SMS.Sent != 7 || r.Total.SMS.Failed != 1 || r.Total.SMS.Refused != 2 || r.Total.Voice.Sent != 3 ||
		r.Total.SignIns != 4 || r.Total.Cost != 7*4000+3*9500 || r.Total.CostPerSignIn != divide(56500, 4) {
		t.Errorf("range total: %+v", r.Total)
	}
	if len(r.FormApps) != 3 || r.FormApps[2].ClientID != "referral" || r.FormApps[2].SMS.Sent != 6 {
		t.Errorf("form apps over the range: %+v", r.FormApps)
	}
}

func TestReportByMonth(t *testing.T) {
	r := Build(counts, day(1, 1), day(12, 31), ByMonth, prices)
	if len(r.Periods) != 3 || r.Periods[0].Name != "2026-02" || r.Periods[1].Name != "2026-03" || r.Periods[2].Name != "2026-04" {
		t.Fatalf("periods %+v", r.Periods)
	}
	march := r.Periods[1]
	if march.Total.SMS.Sent != 5 || march.Total.Voice.Sent != 3 || march.Total.SignIns != 4 || march.Total.Cost != 5*4000+3*9500 {
		t.Errorf("March: %+v", march.Total)
	}
	if r.Periods[2].Total.SMS.Sent != 3 {
		t.Errorf("April: %+v", r.Periods[2].Total)
	}
}

// Without unit costs the report still counts, and costs nothing.
func TestReportUnpriced(t *testing.T) {
	r := Build(counts, day(3, 1), day(3, 31), ByMonth, Prices{})
	if r.Priced || r.Total.SMS.Sent != 5 || r.Total.Cost != 0 || r.Total.CostPerSignIn != 0 {
		t.Errorf("unpriced: %+v", r)
	}
}

// JSON carries amounts as exact strings of pounds.
func TestReportJSON(t *testing.T) {
	r := Build(counts, day(3, 1), day(3, 1), ByDay, prices)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Total struct {
			SMS struct {
				Sent int64      `json:"sent"`
				Cost Millipence `json:"cost"`
			} `json:"sms"`
			Cost          string `json:"cost"`
			CostPerSignIn string `json:"cost_per_sign_in"`
		} `json:"total"`
		Units struct{ SMS string } `json:"unit_costs"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Total.SMS.Sent != 5 || back.Total.SMS.Cost != 20000 || back.Total.Cost != "0.295" ||
		back.Total.CostPerSignIn != "0.09833" || back.Units.SMS != "0.04" {
		t.Errorf("JSON %s", b)
	}
}
