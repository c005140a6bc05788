package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui"
)

// notSignedIn is the account page for a browser without an IdP session.
func notSignedIn() ui.MessagePage {
	return ui.MessagePage{
		Page: ui.Page{Title: "You are not signed in"},
		Paragraphs: []string{
			"To see or change your account, sign in from the online form you are filling in, then come back to this page.",
		},
	}
}

// signedInUser is the person signed in to the IdP in this browser.
func (h *Handler) signedInUser(w http.ResponseWriter, r *http.Request) (*store.User, bool) {
	uid, ok := h.Provider.SessionUser(r)
	if !ok {
		h.Pages.Render(w, http.StatusOK, ui.PageMessage, notSignedIn())
		return nil, false
	}
	u, err := h.Store.UserByID(r.Context(), uid)
	if errors.Is(err, store.ErrNotFound) {
		h.Pages.Render(w, http.StatusOK, ui.PageMessage, notSignedIn())
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
	masked := "Not set"
	if u.Phone != "" {
		masked = journey.MaskPhone(u.Phone)
	}
	h.Pages.Render(w, http.StatusOK, ui.PageAccount, ui.AccountPage{
		Page: ui.Page{SignedInAs: fullName(u), Notice: notices[r.URL.Query().Get("notice")]},
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
	a := journey.AccountFrom(u)
	cookie, id, err := newJourney()
	if err != nil {
		h.fail(w, r, "journey id", err)
		return
	}
	s, err := h.Machine.NewChangePhone(id, "", *a, h.now())
	if err != nil {
		// No verified phone to challenge: nothing to change yet.
		h.Pages.Render(w, http.StatusOK, ui.PageMessage, ui.MessagePage{
			Page:       ui.Page{Title: "You cannot change your phone number here", SignedInAs: fullName(u)},
			Paragraphs: []string{"Your account has no confirmed phone number. Sign in from your online form to add one."},
			LinkText:   "Back to your account", LinkURL: PathAccount,
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
	h.Pages.Render(w, http.StatusOK, ui.PageMessage, ui.MessagePage{
		Page: ui.Page{Title: "Sign in to an online form"},
		Paragraphs: []string{
			"This service signs you in to the council's online forms, such as a safeguarding concern or a social care referral.",
			"To sign in or create an account, start from the online form you want to fill in and select 'Login or Register'.",
		},
		LinkText: "See your account", LinkURL: PathAccount,
	})
}

// logout serves the header's 'Sign out' link: the provider's end-session endpoint
// ends the IdP session in this browser.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	seeOther(w, r, "/end_session")
}
