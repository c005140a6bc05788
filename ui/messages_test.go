package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/ui/locale"
)

func TestFormatTime(t *testing.T) {
	day := func(h, m int) time.Time { return time.Date(2026, 3, 3, h, m, 0, 0, time.UTC) }
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{day(14, 5), "2:05pm on 3 March 2026"},
		{day(9, 30), "9:30am on 3 March 2026"},
		{day(12, 0), "midday on 3 March 2026"},
		{day(0, 0), "midnight on 3 March 2026"},
		{day(0, 1), "12:01am on 3 March 2026"},
	} {
		if got := FormatTime(c.t); got != c.want {
			t.Errorf("FormatTime(%v) = %q, want %q", c.t, got, c.want)
		}
	}
}

func TestStandardMessages(t *testing.T) {
	tmpl := newTemplates(t, false)
	for name, c := range map[string]struct {
		page MessagePage
		want []string
	}{
		"invalid client": {InvalidClientMessage(""), []string{"There is a problem with the link you followed"}},
		"locked": {AccountLockedMessage("", sampleTime, "/forgot"), []string{
			"Your account is locked", "You can try again after 2:05pm on 3 March 2026 or reset your password.", `href="/forgot">Reset your password</a>`}},
		"timed out":            {SessionTimedOutMessage("", ""), []string{"Your session has timed out", "sign in again"}},
		"timed out with start": {SessionTimedOutMessage("", "/start"), []string{"Your session has timed out", `href="/start"`, "Start again"}},
		"not found":            {NotFoundMessage(""), []string{"Page not found"}},
		"server error":         {ServerErrorMessage(""), []string{"Sorry, there is a problem with the service", "Try again in a few minutes."}},
	} {
		_, _, body := renderPage(t, tmpl, PageMessage, c.page)
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: missing %q", name, w)
			}
		}
		if strings.Contains(body, "govuk-error-summary") {
			t.Errorf("%s: a message page is not a form error", name)
		}
	}
}

func TestFormatTimeInWelsh(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 3, 3, 14, 5, 0, 0, time.UTC), "2:05pm ar 3 Mawrth 2026"},
		{time.Date(2026, 12, 25, 12, 0, 0, 0, time.UTC), "canol dydd ar 25 Rhagfyr 2026"},
	} {
		if got := FormatTimeIn("cy", c.t); got != c.want {
			t.Errorf("FormatTimeIn(cy, %v) = %q, want %q", c.t, got, c.want)
		}
	}
}

// A time the journey writes into an English message (ui.FormatTime, through
// journey.Policy.FormatTime) is Welsh in the Welsh page, as is the rest of the
// message. (Before: "… ar ôl 2:05pm on 3 March 2026", the time left in English.)
func TestTimesInsideMessagesAreTranslated(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 3, 3, 14, 5, 0, 0, time.UTC), "2:05pm ar 3 Mawrth 2026"},
		{time.Date(2026, 12, 24, 12, 0, 0, 0, time.UTC), "canol dydd ar 24 Rhagfyr 2026"},
		{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), "canol nos ar 1 Ionawr 2027"},
	} {
		english := "Too many wrong codes have been entered for this email address. You can try again after " + FormatTime(tc.at)
		got := Translate(locale.Welsh, english)
		if !strings.Contains(got, tc.want) || !strings.HasPrefix(got, "Mae gormod o godau") {
			t.Errorf("Welsh of %q = %q, want the Welsh message with %q", english, got, tc.want)
		}
		if w := FormatTimeIn(locale.Welsh, tc.at); w != tc.want {
			t.Errorf("FormatTimeIn(cy, %v) = %q, want %q", tc.at, w, tc.want)
		}
		for _, m := range []string{"January", "March", "December", " on ", "midday", "midnight"} {
			if strings.Contains(got, m) {
				t.Errorf("Welsh message %q has the English %q", got, m)
			}
		}
	}
	// Only a time matches a time: words that merely look like one stay untranslated.
	for _, s := range []string{"Try again on your phone now", "Sign in on 3 March"} {
		if IsCatalogued(s) {
			t.Errorf("IsCatalogued(%q) = true, want false", s)
		}
	}
}
