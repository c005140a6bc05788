package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui"
)

// notSignedIn is the account page for a browser without an IdP session.
func notSignedIn(lang string) ui.MessagePage {
	return ui.MessagePage{
		Page:       ui.Page{Lang: lang, LanguageURL: linkLanguage + "?from=account", Title: ui.T(lang, "web.not-signed-in.title")},
		Paragraphs: []string{ui.T(lang, "web.not-signed-in.body")},
	}
}

// signedInUser is the person signed in to the IdP in this browser.
func (h *Handler) signedInUser(w http.ResponseWriter, r *http.Request) (*store.User, bool) {
	uid, ok := h.Provider.SessionUser(r)
	if !ok {
		h.Pages.Render(w, http.StatusOK, ui.PageMessage, notSignedIn(browserLang(r)))
		return nil, false
	}
	u, err := h.Store.UserByID(r.Context(), uid)
	if errors.Is(err, store.ErrNotFound) {
		h.Pages.Render(w, http.StatusOK, ui.PageMessage, notSignedIn(browserLang(r)))
		return nil, false
	}
	if err != nil {
		h.fail(w, r, "account", err)
		return nil, false
	}
	return u, true
}

func fullName(u *store.User) string {
	return strings.TrimSpace(u.GivenName + " " + u.FamilyName)
}

// account serves GET /account: the signed-in person's details and 'Change phone number'.
func (h *Handler) account(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	u, ok := h.signedInUser(w, r)
	if !ok {
		return
	}
	lang := accountLang(r, u)
	masked := ui.T(lang, "web.account.phone-not-set")
	if u.Phone != "" {
		masked = journey.MaskPhone(u.Phone)
	}
	h.Pages.Render(w, http.StatusOK, ui.PageAccount, ui.AccountPage{
		Page: ui.Page{Lang: lang, LanguageURL: linkLanguage + "?from=account", SignedInAs: fullName(u),
			Notice: notice(lang, r.URL.Query().Get("notice"))},
		Name: fullName(u), Email: u.Email, MaskedPhone: masked,
		ChangePhoneURL: PathAccount + "/change-phone",
	})
}

// changePhone starts a change of phone number: a fresh challenge on the current
// number, then enrolment of the new one, on the login pages.
func (h *Handler) changePhone(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	u, ok := h.signedInUser(w, r)
	if !ok {
		return
	}
	a := accountOf(u)
	cookie, id, err := newJourney()
	if err != nil {
		h.fail(w, r, "journey id", err)
		return
	}
	s, err := h.Machine.NewChangePhone(id, "", *a, h.now())
	if err == nil {
		s.Lang = accountLang(r, u)
	}
	if err != nil {
		// No verified phone to challenge: nothing to change yet.
		lang := accountLang(r, u)
		h.Pages.Render(w, http.StatusOK, ui.PageMessage, ui.MessagePage{
			Page:       ui.Page{Lang: lang, Title: ui.T(lang, "web.no-phone.title"), SignedInAs: fullName(u)},
			Paragraphs: []string{ui.T(lang, "web.no-phone.body")},
			LinkText:   ui.T(lang, "web.no-phone.back"), LinkURL: PathAccount,
		})
		return
	}
	if err := h.create(w, r, cookie, s); err != nil {
		h.fail(w, r, "create", err)
		return
	}
	seeOther(w, r, PathLogin)
}

// home serves GET /: people arrive here by typing the address; forms link to the
// sign-in pages themselves.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.Provider.SessionUser(r); ok {
		seeOther(w, r, PathAccount)
		return
	}
	lang := browserLang(r)
	h.Pages.Render(w, http.StatusOK, ui.PageMessage, ui.MessagePage{
		Page:       ui.Page{Lang: lang, LanguageURL: linkLanguage + "?from=account", Title: ui.T(lang, "web.home.title")},
		Paragraphs: []string{ui.T(lang, "web.home.body"), ui.T(lang, "web.home.start")},
		LinkText:   ui.T(lang, "web.home.account"), LinkURL: PathAccount,
	})
}

// logout serves GET /logout: the question the provider's end-session endpoint
// sends a person to when a form app asked to sign them out without proving who
// they are (no id_token_hint, or another person's), and what an old link or a
// bookmark of /logout gets. It only asks; 'Sign out' posts the answer to
// signOut, a same-site form like every other (the header's 'Sign out' is one
// too), so a link or an image on another site cannot sign a person out.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	lr, ok := h.logoutRequest(w, r)
	if !ok {
		return
	}
	cancel := lr.Cancel
	if cancel == "" {
		cancel = PathAccount
	}
	var hidden []ui.HiddenField
	for _, f := range []struct{ name, value string }{
		{"client_id", lr.ClientID}, {"post_logout_redirect_uri", lr.PostLogoutRedirectURI}, {"state", lr.State},
	} {
		if f.value != "" {
			hidden = append(hidden, ui.HiddenField{Name: f.name, Value: f.value})
		}
	}
	lang := browserLang(r)
	title := ui.T(lang, "web.logout.title")
	if h.cfg.OrgName != "" {
		title = ui.T(lang, "web.logout.title-org", "org", h.cfg.OrgName)
	}
	w.Header().Set("Cache-Control", "no-store")
	h.Pages.Render(w, http.StatusOK, ui.PageMessage, ui.MessagePage{
		Page:       ui.Page{Lang: lang, Title: title},
		Paragraphs: []string{ui.T(lang, "web.logout.body")},
		Form:       &ui.MessageForm{Action: PathLogout, Button: ui.T(lang, "layout.sign-out"), Hidden: hidden},
		LinkText:   ui.T(lang, "web.logout.cancel"), LinkURL: cancel,
	})
}

// signOut serves POST /logout, the question's or the header's 'Sign out'
// (cross-origin protection has refused it from another site): it ends the IdP
// session in this browser, revokes the person's tokens for the form app that
// asked, and goes on to its post-logout URI (with state) or "You have signed out".
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	lr, ok := h.logoutRequest(w, r)
	if !ok {
		return
	}
	to, err := h.Provider.SignOut(w, r, lr)
	if err != nil {
		h.fail(w, r, "sign out", err)
		return
	}
	h.Provider.Redirect(w, r, to)
}

func (h *Handler) logoutRequest(w http.ResponseWriter, r *http.Request) (*provider.LogoutRequest, bool) {
	lr, err := h.Provider.LogoutRequest(r)
	if errors.Is(err, provider.ErrBadLogout) {
		h.Log.InfoContext(r.Context(), "logout request refused", "err", err)
		w.Header().Set("Cache-Control", "no-store")
		lang := browserLang(r)
		h.Pages.Render(w, http.StatusBadRequest, ui.PageMessage, ui.MessagePage{
			Page:       ui.Page{Lang: lang, Title: ui.T(lang, "web.bad-logout.title")},
			Paragraphs: []string{ui.T(lang, "web.bad-logout.body")},
		})
		return nil, false
	}
	if err != nil {
		h.fail(w, r, "logout request", err)
		return nil, false
	}
	return lr, true
}
