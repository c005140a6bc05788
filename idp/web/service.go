package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui"
)

// PathKeepAlive is where the timeout warning's 'Continue' posts: it starts the
// journey's lifetime again and answers JSON {"timeout": seconds}.
const PathKeepAlive = PathLogin + "/keep-alive"

// timeoutWarning is how long before a journey is cleared the page warns (GOV.UK's
// timeout warning: two minutes).
const timeoutWarning = 2 * time.Minute

// serviceRoutes are the pages every footer links to, which need no journey.
func (h *Handler) serviceRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+ui.PathHelp, h.help)
	mux.HandleFunc("GET "+ui.PathLostPhone, h.lostPhone)
	mux.HandleFunc("GET "+ui.PathCookies, h.cookies)
	mux.HandleFunc("GET "+ui.PathContact, h.contact)
	mux.HandleFunc("GET "+ui.PathPrivacy, h.privacy)
	mux.HandleFunc("GET "+ui.PathAccessibility, h.accessibility)
	mux.HandleFunc("POST "+PathKeepAlive, h.keepAlive)
}

func (h *Handler) help(w http.ResponseWriter, r *http.Request) {
	minutes := int(h.Machine.Policy().EmailCodeTTL / time.Minute)
	if sms := int(h.Machine.Policy().SMSCodeTTL / time.Minute); sms < minutes {
		minutes = sms
	}
	page := ui.HelpPage{Page: h.servicePage(r, "help"), CodeMinutes: minutes}
	if step, ok := h.journeyStep(r); ok && step == journey.StepSignIn {
		page.ResetPasswordURL = linkForgot // starts a reset from this journey
	}
	h.Pages.Render(w, http.StatusOK, ui.PageHelp, page)
}

func (h *Handler) lostPhone(w http.ResponseWriter, r *http.Request) {
	page := ui.LostPhonePage{Page: h.servicePage(r, "lost-phone")}
	if h.offersPhoneRecovery(r) {
		page.RecoveryAction = actPhoneRecovery
		page.RecoveryWait = ui.T(page.Lang, "wait.hours", "count", int(h.Machine.Policy().PhoneRecoveryWait/time.Hour))
	}
	h.Pages.Render(w, http.StatusOK, ui.PageLostPhone, page)
}

// servicePage is the frame of a help page: the language of the browser's
// journey (or the browser's), the language toggle coming back to this page
// (from is its name in servicePages), and 'Back' into the journey when it
// has one.
func (h *Handler) servicePage(r *http.Request, from string) ui.Page {
	var s *journey.State
	if j, ok, err := h.load(r); err == nil && ok {
		s = j.s
	}
	return ui.Page{Lang: pageLang(r, s), LanguageURL: linkLanguage + "?from=" + from, BackURL: h.backToJourney(r)}
}

// servicePages are the pages the language toggle comes back to (its from),
// besides the journey's and the account's.
var servicePages = map[string]string{
	"help":          ui.PathHelp,
	"lost-phone":    ui.PathLostPhone,
	"cookies":       ui.PathCookies,
	"contact":       ui.PathContact,
	"privacy":       ui.PathPrivacy,
	"accessibility": ui.PathAccessibility,
}

// journeyStep is the step of the browser's unfinished journey, if it has one.
func (h *Handler) journeyStep(r *http.Request) (journey.Step, bool) {
	j, ok, err := h.load(r)
	if err != nil || !ok || j.s.Step == journey.StepDone {
		return "", false
	}
	return j.s.Step, true
}

// backToJourney is the 'Back' of a help page: the journey's page when the
// browser has one unfinished, else none (the 'session has timed out' page would
// be no way back).
func (h *Handler) backToJourney(r *http.Request) string {
	if _, ok := h.journeyStep(r); ok {
		return PathLogin
	}
	return ""
}

func (h *Handler) contact(w http.ResponseWriter, r *http.Request) {
	h.Pages.Render(w, http.StatusOK, ui.PageContact, ui.ContactPage{Page: h.servicePage(r, "contact")})
}

// Cookies lists every cookie the service sets, in lang;
// TestCookiesPageListsEveryCookie walks the journeys and fails on a Set-Cookie
// this list does not name.
func Cookies(lang string) []ui.CookieInfo {
	return []ui.CookieInfo{
		{Name: JourneyCookie, Expires: ui.T(lang, "cookies.expires.browser-closes"), Purpose: ui.T(lang, "cookies.journey.purpose")},
		{Name: provider.BrowserCookie, Expires: ui.T(lang, "cookies.expires.browser-closes"), Purpose: ui.T(lang, "cookies.browser.purpose")},
		{Name: provider.SessionCookie, Expires: ui.T(lang, "cookies.expires.sign-out"), Purpose: ui.T(lang, "cookies.session.purpose")},
		{Name: DeviceCookie, Expires: ui.T(lang, "cookies.expires.year"), Purpose: ui.T(lang, "cookies.device.purpose")},
		{Name: LangCookie, Expires: ui.T(lang, "cookies.expires.year"), Purpose: ui.T(lang, "cookies.language.purpose")},
	}
}

func (h *Handler) cookies(w http.ResponseWriter, r *http.Request) {
	page := h.servicePage(r, "cookies")
	page.BackURL = ""
	h.Pages.Render(w, http.StatusOK, ui.PageCookies, ui.CookiesPage{Page: page, Cookies: Cookies(page.Lang)})
}

// privacy and accessibility are the footer's links when the council has named no
// page of its own; when it has, the address goes there.
func (h *Handler) privacy(w http.ResponseWriter, r *http.Request) {
	if u := h.cfg.PrivacyURL; u != "" {
		http.Redirect(w, r, u, http.StatusSeeOther)
		return
	}
	page := h.servicePage(r, "privacy")
	m := ui.NoPrivacyNoticeMessage(page.Lang, h.orgName(page.Lang))
	m.LanguageURL = page.LanguageURL
	h.Pages.Render(w, http.StatusOK, ui.PageMessage, m)
}

func (h *Handler) accessibility(w http.ResponseWriter, r *http.Request) {
	if u := h.cfg.AccessibilityURL; u != "" {
		http.Redirect(w, r, u, http.StatusSeeOther)
		return
	}
	page := h.servicePage(r, "accessibility")
	m := ui.NoAccessibilityStatementMessage(page.Lang, h.orgName(page.Lang))
	m.LanguageURL = page.LanguageURL
	h.Pages.Render(w, http.StatusOK, ui.PageMessage, m)
}

func (h *Handler) orgName(lang string) string {
	if h.cfg.OrgName != "" {
		return h.cfg.OrgName
	}
	return ui.T(lang, "web.the-council")
}

// keepAlive is the timeout warning's 'Continue': the journey is saved unchanged,
// which starts its lifetime again. A journey that has gone answers 410 with
// timeout 0 (the page then reloads and says so). The server's cross-origin check
// refuses a POST from another site, as for every form.
func (h *Handler) keepAlive(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	answer := func(status int, seconds int) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(struct {
			Timeout int `json:"timeout"`
		}{seconds})
	}
	for range 3 {
		j, ok, err := h.load(r)
		if err != nil {
			h.Log.ErrorContext(r.Context(), "keep journey alive", "err", err)
			w.Header().Set("Retry-After", "10")
			answer(http.StatusServiceUnavailable, 0)
			return
		}
		if !ok || j.s.Step == journey.StepDone {
			answer(http.StatusGone, 0)
			return
		}
		if _, err := h.save(r.Context(), j, j.s); err != nil {
			if errors.Is(err, store.ErrConflict) {
				continue // another tab moved it on: it is kept alive all the same; read again
			}
			if errors.Is(err, store.ErrNotFound) {
				answer(http.StatusGone, 0)
				return
			}
			h.Log.ErrorContext(r.Context(), "keep journey alive", "err", err)
			w.Header().Set("Retry-After", "10")
			answer(http.StatusServiceUnavailable, 0)
			return
		}
		answer(http.StatusOK, int(h.cfg.JourneyTTL/time.Second))
		return
	}
	answer(http.StatusOK, int(h.cfg.JourneyTTL/time.Second))
}

// timeoutFields fill a journey page's timeout warning: the seconds left of the
// journey saved at seenAt, and when to warn (two minutes before, or half the
// lifetime when it is shorter, as in tests).
func (h *Handler) timeoutFields(page *ui.Page, seenAt time.Time) {
	left := h.cfg.JourneyTTL
	if !seenAt.IsZero() {
		left = seenAt.Add(h.cfg.JourneyTTL).Sub(h.now())
	}
	if left <= 0 {
		return
	}
	warn := min(timeoutWarning, h.cfg.JourneyTTL/2)
	page.TimeoutSeconds = int((left + time.Second/2) / time.Second) // milliseconds since the step do not count
	page.TimeoutWarnSeconds = max(1, int(warn/time.Second))
	page.KeepAliveURL = PathKeepAlive
}
