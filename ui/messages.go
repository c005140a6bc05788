package ui

import (
	"strconv"
	"strings"
	"time"

	"github.com/councilforms/idp/ui/locale"
)

// The standard wordings of pages that end or interrupt a journey. Handlers
// use these rather than writing their own, so a person sees the same words
// for the same situation wherever it arises. Each takes the page's language
// (a locale.Supported tag; anything else is English).

// embedded is the catalogue built into the binary. New refuses to start when
// it is incomplete (it loads the same files), so T never meets a broken one
// in a running server.
var embedded, embeddedErr = locale.Load(templateFS, "locales")

// T returns the pages' catalogue key in lang with args (name, value pairs),
// for words handlers put into models: errors, notices, message pages. An
// unknown key gives the key itself, which the catalogue tests catch.
func T(lang, key string, args ...any) string {
	if embedded == nil {
		return key
	}
	return embedded.MustT(lang, key, args...)
}

// errorWords translates the English of error messages written by code that
// does not know the person's language (see locale.Translator).
var errorWords = func() *locale.Translator {
	if embedded == nil {
		return nil
	}
	return embedded.Translator("error.", "wait.", "when.", "provider.")
}()

// Translate returns an error message written in English (the journey's, the
// phone and password rules', the handlers', the provider's pages') in lang, when the catalogue has
// it; otherwise the English as it is.
func Translate(lang, english string) string {
	if errorWords == nil {
		return english
	}
	s, _ := errorWords.Translate(lang, english)
	return s
}

// IsCatalogued reports whether an English error message is in the
// catalogue, so it can be shown in every language.
func IsCatalogued(english string) bool {
	if errorWords == nil {
		return false
	}
	_, ok := errorWords.Translate(locale.English, english)
	return ok
}

// message is a MessagePage in lang whose title and paragraphs are catalogue keys.
func message(lang, title string, paragraphs ...string) MessagePage {
	p := MessagePage{Page: Page{Lang: lang, Title: T(lang, title)}}
	for _, k := range paragraphs {
		p.Paragraphs = append(p.Paragraphs, T(lang, k))
	}
	return p
}

// InvalidClientMessage is shown when /authorize names a client or redirect
// URI that is not registered. The person is not redirected anywhere: the
// address cannot be trusted.
func InvalidClientMessage(lang string) MessagePage {
	return message(lang, "message.invalid-client.title", "message.invalid-client.body", "message.invalid-client.next")
}

// AccountLockedMessage is shown after too many wrong attempts. until is
// formatted in its own location, so pass it in the organisation's time zone.
func AccountLockedMessage(lang string, until time.Time, resetPasswordURL string) MessagePage {
	p := message(lang, "message.locked.title", "message.locked.body")
	p.Paragraphs = append(p.Paragraphs, T(lang, "message.locked.until", "time", FormatTimeIn(lang, until)))
	p.LinkText, p.LinkURL = T(lang, "message.locked.reset"), resetPasswordURL
	p.Contact = true
	return p
}

// SessionTimedOutMessage is shown when a journey has expired; startURL
// begins again (usually the online form's own address).
func SessionTimedOutMessage(lang, startURL string) MessagePage {
	if startURL == "" {
		return message(lang, "message.timed-out.title", "message.timed-out.body", "message.timed-out.sign-in-again")
	}
	p := message(lang, "message.timed-out.title", "message.timed-out.body", "message.timed-out.start-again")
	p.ButtonText, p.ButtonURL = T(lang, "common.start-again"), startURL
	return p
}

// NotFoundMessage is the 404 page.
func NotFoundMessage(lang string) MessagePage {
	return message(lang, "message.not-found.title", "message.not-found.typed", "message.not-found.pasted")
}

// ServerErrorMessage is the page for a request the service could not finish
// (a database or the journey store failing: a 503). Nothing the person did
// before this step is lost, so trying the same thing again is the way on.
func ServerErrorMessage(lang string) MessagePage {
	p := message(lang, "message.server-error.title", "message.server-error.body", "message.server-error.next")
	p.Contact = true
	return p
}

// FormatTime writes t, in its own location, in GOV.UK style: "2:05pm on 3 March
// 2026", "midday on 3 March 2026". The journeys' messages use it too
// (journey.Policy.FormatTime), so a time reads the same on every page.
func FormatTime(t time.Time) string { return FormatTimeIn(locale.English, t) }

// FormatTimeIn is FormatTime in lang, from the catalogue's when.* words: in
// Welsh "2:05pm ar 3 Mawrth 2026", "canol dydd ar 3 Mawrth 2026". A message
// written in English with FormatTime is read back by the same words
// (Translate), so the time inside a Welsh error is Welsh too.
func FormatTimeIn(lang string, t time.Time) string {
	clock := strings.ToLower(t.Format("3:04PM"))
	switch {
	case t.Hour() == 12 && t.Minute() == 0:
		clock = T(lang, "when.midday")
	case t.Hour() == 0 && t.Minute() == 0:
		clock = T(lang, "when.midnight")
	}
	month := T(lang, "when.month-"+strings.ToLower(t.Month().String()))
	return T(lang, "when.at", "clock", clock, "day", strconv.Itoa(t.Day()), "month", month, "year", strconv.Itoa(t.Year()))
}

// NoPrivacyNoticeMessage is the footer's 'Privacy' page when the council has
// not configured its privacy notice (IDP_PRIVACY_URL).
func NoPrivacyNoticeMessage(lang, orgName string) MessagePage {
	p := MessagePage{Page: Page{Lang: lang, Title: T(lang, "message.no-privacy.title"), Contact: true}}
	p.Paragraphs = []string{T(lang, "message.no-privacy.body", "org", orgName), T(lang, "message.no-privacy.ask", "org", orgName)}
	return p
}

// NoAccessibilityStatementMessage is the footer's 'Accessibility statement'
// page when the council has not configured one (IDP_ACCESSIBILITY_URL).
func NoAccessibilityStatementMessage(lang, orgName string) MessagePage {
	p := MessagePage{Page: Page{Lang: lang, Title: T(lang, "message.no-accessibility.title"), Contact: true}}
	p.Paragraphs = []string{T(lang, "message.no-accessibility.body"), T(lang, "message.no-accessibility.ask", "org", orgName)}
	return p
}
