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

// The council's contact text in Welsh (IDP_CONTACT_TEXT_CY) wherever a Welsh
// page ends a sentence with it; the built-in text has its catalogue Welsh;
// without a Welsh text the council's English stays as it is. (Before: the
// English contact text inside every Welsh refusal.)
func TestContactTextInWelsh(t *testing.T) {
	builtIn := Contact{Text: "contact the council's customer services"}
	own := Contact{Text: "call customer services on 01632 960 001", TextWelsh: "ffoniwch y gwasanaethau cwsmeriaid ar 01632 960 001",
		Hours: "Monday to Friday, 9am to 5pm", HoursWelsh: "Dydd Llun i ddydd Gwener, 9am i 5pm"}
	noWelsh := Contact{Text: "call customer services on 01632 960 001"}
	refusal := func(c Contact) string {
		return "You have tried too many different phone numbers today. Try again in 5 hours, or " + c.Text
	}
	for _, tc := range []struct {
		c          Contact
		want, hour string
	}{
		{builtIn, "cysylltwch â gwasanaethau cwsmeriaid y cyngor", ""},
		{own, "ffoniwch y gwasanaethau cwsmeriaid ar 01632 960 001", "Dydd Llun i ddydd Gwener, 9am i 5pm"},
		{noWelsh, "call customer services on 01632 960 001", ""},
	} {
		if got := tc.c.In(locale.Welsh); got.Text != tc.want || got.Hours != tc.hour {
			t.Errorf("%+v in Welsh = %q, %q; want %q, %q", tc.c, got.Text, got.Hours, tc.want, tc.hour)
		}
		if got := tc.c.In(locale.English); got != tc.c {
			t.Errorf("%+v in English = %+v, want it unchanged", tc.c, got)
		}
		got := tc.c.Localize(locale.Welsh, refusal(tc.c))
		if !strings.HasSuffix(got, ", neu "+tc.want) || !strings.Contains(got, "5 awr") {
			t.Errorf("Welsh refusal = %q, want it to end %q", got, ", neu "+tc.want)
		}
		if en := tc.c.Localize(locale.English, refusal(tc.c)); en != refusal(tc.c) {
			t.Errorf("English refusal = %q, want it as written", en)
		}
	}
}
