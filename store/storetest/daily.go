package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
)

// durableDailyCounts: counts add up per UTC day, form app and kind, and a
// range selects whole UTC days.
func durableDailyCounts(t *testing.T, s store.Durable) {
	ctx := context.Background()
	day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }
	sms := store.SendCountKind("sms", store.SendSent)
	// 23:59:59 and 00:00:00 UTC are different days; a time in another zone
	// counts on its UTC day (01:30 in UTC+2 on the 14th is the 13th).
	plus2 := time.FixedZone("UTC+2", 2*60*60)
	for _, a := range []struct {
		at           time.Time
		client, kind string
		n            int64
	}{
		{day(13).Add(10 * time.Hour), "referral", sms, 1},
		{day(13).Add(24*time.Hour - time.Second), "referral", sms, 2},
		{time.Date(2026, 3, 14, 1, 30, 0, 0, plus2), "referral", sms, 1},
		{day(13).Add(12 * time.Hour), "", sms, 1},
		{day(13).Add(12 * time.Hour), "referral", store.CountSignIn, 1},
		{day(14), "referral", sms, 5},
		{day(14).Add(time.Hour), "blue-badge", store.SendCountKind("voice", store.SendFailed), 1},
		{day(16), "referral", store.CountSignIn, 1},
	} {
		durableOK(t, "AddDailyCount", s.AddDailyCount(ctx, a.at, a.client, a.kind, a.n))
	}
	all, err := s.DailyCounts(ctx, time.Time{}, time.Time{})
	durableOK(t, "DailyCounts all", err)
	want := []store.DailyCount{
		{Day: day(13), ClientID: "", Kind: sms, N: 1},
		{Day: day(13), ClientID: "referral", Kind: store.CountSignIn, N: 1},
		{Day: day(13), ClientID: "referral", Kind: sms, N: 4},
		{Day: day(14), ClientID: "blue-badge", Kind: "voice.failed", N: 1},
		{Day: day(14), ClientID: "referral", Kind: sms, N: 5},
		{Day: day(16), ClientID: "referral", Kind: store.CountSignIn, N: 1},
	}
	dailyEqual(t, "DailyCounts all", all, want)

	// Any time of a day selects the whole day, at both ends.
	some, err := s.DailyCounts(ctx, day(14).Add(23*time.Hour), day(16).Add(time.Minute))
	durableOK(t, "DailyCounts 14..16", err)
	dailyEqual(t, "DailyCounts 14..16", some, want[3:])
	some, err = s.DailyCounts(ctx, time.Time{}, day(13).Add(time.Hour))
	durableOK(t, "DailyCounts ..13", err)
	dailyEqual(t, "DailyCounts ..13", some, want[:3])
	none, err := s.DailyCounts(ctx, day(15), day(15))
	durableOK(t, "DailyCounts 15", err)
	if len(none) != 0 {
		t.Fatalf("DailyCounts of a day with none = %v", none)
	}
}

// durableDailyCountsRace: concurrent additions to one count all count.
func durableDailyCountsRace(t *testing.T, s store.Durable) {
	ctx := context.Background()
	const n = 40
	at := time.Date(2026, 3, 14, 10, 30, 0, 0, time.UTC)
	errs := durableRace(n, func(int) error {
		return s.AddDailyCount(ctx, at, "referral", "sms.sent", 1)
	})
	for i, err := range errs {
		durableOK(t, fmt.Sprintf("AddDailyCount %d", i), err)
	}
	got, err := s.DailyCounts(ctx, at, at)
	durableOK(t, "DailyCounts", err)
	want := []store.DailyCount{{Day: time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC), ClientID: "referral", Kind: "sms.sent", N: n}}
	dailyEqual(t, "DailyCounts after concurrent adds", got, want)
}

func dailyEqual(t *testing.T, what string, got, want []store.DailyCount) {
	t.Helper()
	show := func(cs []store.DailyCount) string {
		out := ""
		for _, c := range cs {
			out += fmt.Sprintf("%s %s/%q=%d; ", c.Day.Format(time.RFC3339), c.Kind, c.ClientID, c.N)
			if c.Day.Location() != time.UTC {
				out += "(not UTC) "
			}
		}
		return out
	}
	if g, w := show(got), show(want); g != w {
		t.Fatalf("%s:\n got  %s\n want %s", what, g, w)
	}
}
