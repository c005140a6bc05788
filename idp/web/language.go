package web

import (
	"errors"
	"net/http"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui/locale"
)

// LangCookie remembers the language toggle's choice in this browser, for
// pages outside a journey and the next journey. It holds "en" or "cy" only.
const LangCookie = "idp_lang"

// linkLanguage is the language toggle ('English | Cymraeg'): a GET of
// ?lang=cy switches the journey and the browser to Welsh and shows the step
// reached again, so nothing typed into the journey is lost.
const linkLanguage = PathLogin + "/language"

// browserLang is the language of a page outside a journey: the toggle's
// choice in this browser, then Accept-Language, then English.
func browserLang(r *http.Request) string {
	if c, err := r.Cookie(LangCookie); err == nil && locale.IsSupported(c.Value) {
		return c.Value
	}
	lang, _ := locale.FromAcceptLanguage(r.Header.Get("Accept-Language"))
	return lang
}

// startLang is the language a new journey begins in: the sign-in request's
// ui_locales when it names one spoken here, else browserLang.
func startLang(r *http.Request, uiLocales string) string {
	if lang, ok := locale.FromUILocales(uiLocales); ok {
		return lang
	}
	return browserLang(r)
}

// RequestLang is the language of a page shown for a request outside the
// journey, such as the provider's own error pages: the form app's ui_locales
// on the request when it names one spoken here, else browserLang.
func RequestLang(r *http.Request) string {
	return startLang(r, r.URL.Query().Get("ui_locales"))
}

// pageLang is the language of a journey's page.
func pageLang(r *http.Request, s *journey.State) string {
	if s != nil && locale.IsSupported(s.Lang) {
		return s.Lang
	}
	return browserLang(r)
}

// switchLanguage serves the language toggle. An unknown language is a 404;
// with a journey the choice is saved on it (its emails, texts and calls
// follow, and the account keeps it), then the step reached is shown again.
func (h *Handler) switchLanguage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	lang := r.URL.Query().Get("lang")
	if !locale.IsSupported(lang) {
		h.notFound(w, r)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 60 * 60,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	back := PathLogin
	from := r.URL.Query().Get("from")
	if from == "account" {
		back = PathAccount
	} else if p, ok := servicePages[from]; ok {
		back = p // a help page: the same page again, in the new language
	}
	j, ok, err := h.load(r)
	if err != nil {
		h.fail(w, r, "load", err)
		return
	}
	if ok && j.s.Lang != lang {
		s := *j.s
		s.Lang = lang
		if _, err := h.save(r.Context(), j, &s); err != nil && !errors.Is(err, store.ErrConflict) {
			h.fail(w, r, "language", err)
			return
		}
	}
	if back == PathAccount {
		// The account keeps the choice too, for its notices and the locale claim.
		if uid, signedIn := h.Provider.SessionUser(r); signedIn {
			if err := h.rememberLocale(r.Context(), uid, lang); err != nil {
				h.fail(w, r, "language", err)
				return
			}
		}
	}
	if !ok && back == PathLogin {
		// No journey: the toggle on a page that ends one (timed out, not found).
		h.timedOut(w, r)
		return
	}
	seeOther(w, r, back)
}

// accountLang is the language of the account pages: the toggle's choice in
// this browser, then the account's own, then Accept-Language.
func accountLang(r *http.Request, u *store.User) string {
	if c, err := r.Cookie(LangCookie); err == nil && locale.IsSupported(c.Value) {
		return c.Value
	}
	if locale.IsSupported(u.Locale) {
		return u.Locale
	}
	return browserLang(r)
}
