package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui"
)

// maxForm bounds a posted form: the longest legitimate one is a few hundred bytes.
const maxForm = 64 << 10

// Notices shown after a redirect, named in the query so a refresh shows them again
// and nothing else can be injected.
var notices = map[string]string{
	"code-sent":     "We have sent you a new code",
	"phone-changed": "Your phone number has been changed",
}

// showLogin serves GET /login: the start of a journey from the provider
// (?authRequestID=), or the page of the step reached.
func (h *Handler) showLogin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if id := r.URL.Query().Get("authRequestID"); id != "" {
		h.begin(w, r, id)
		return
	}
	j, ok, err := h.load(r)
	if err != nil {
		h.fail(w, r, "load", err)
		return
	}
	if !ok || j.s.Step == journey.StepDone {
		h.timedOut(w)
		return
	}
	// A waiting page reloads itself: it moves on when the call has ended.
	if ev := h.callEvent(r.Context(), j.s, false); ev != nil {
		h.apply(w, r, j, ev, nil)
		return
	}
	h.render(w, r, j.s, http.StatusOK, nil, nil, notices[r.URL.Query().Get("notice")])
}

// begin starts the journey for a sign-in request, or resumes the browser's
// unfinished one: closing the page and following the form's sign-in link again
// comes back to the step reached.
func (h *Handler) begin(w http.ResponseWriter, r *http.Request, authRequestID string) {
	ctx := r.Context()
	lr, err := h.Provider.LoginRequest(ctx, authRequestID)
	if errors.Is(err, provider.ErrUnknownAuthRequest) {
		h.timedOut(w)
		return
	}
	if err != nil {
		h.fail(w, r, "sign-in request", err)
		return
	}
	j, ok, err := h.load(r)
	if err != nil {
		h.fail(w, r, "load", err)
		return
	}
	// A change of phone number started from the account pages never turns into a
	// sign-in: it has not checked a password.
	if ok && j.s.Step != journey.StepDone && j.s.Kind != journey.KindChangePhone {
		if j.s.AuthRequestID != lr.ID {
			s := *j.s
			s.AuthRequestID, s.ReturnOrigin = lr.ID, returnOrigin(lr.RedirectURI)
			if _, err := h.save(ctx, j, &s); err != nil && !errors.Is(err, store.ErrConflict) {
				h.fail(w, r, "resume", err)
				return
			}
		}
		seeOther(w, r, PathLogin)
		return
	}
	id, err := journey.NewID()
	if err != nil {
		h.fail(w, r, "journey id", err)
		return
	}
	s := h.Machine.NewSignIn(id, lr.ID, h.now())
	s.ReturnOrigin = returnOrigin(lr.RedirectURI)
	// login_hint pre-fills the email address: a suggestion, checked like any input
	// when the person signs in.
	if hint := strings.TrimSpace(lr.LoginHint); len(hint) <= 254 && strings.Count(hint, "@") == 1 {
		s.Email = hint
	}
	if err := h.create(w, r, s); err != nil {
		h.fail(w, r, "create", err)
		return
	}
	h.metrics.started.Inc()
	// The first page in this response, not after a redirect to /login: one round
	// trip fewer on a phone. Reloading this address resumes the journey above.
	h.render(w, r, s, http.StatusOK, nil, nil, "")
}

// Links that move the journey. They are GETs because the council's guide prints
// them as links; each only switches between pages and sends nothing.
var links = map[string]journey.Event{
	"sign-up":             journey.StartSignUp{},
	"forgot-password":     journey.StartForgotPassword{},
	"back":                journey.GoToSignIn{},
	"change-email":        journey.ChangeEmail{},
	"change-phone-number": journey.ChangePhoneNumber{},
}

func (h *Handler) follow(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	ev, ok := links[r.PathValue("link")]
	if !ok {
		h.Pages.Render(w, http.StatusNotFound, ui.PageMessage, ui.NotFoundMessage())
		return
	}
	j, ok := h.mustLoad(w, r)
	if !ok {
		return
	}
	h.apply(w, r, j, ev, nil)
}

// mustLoad loads the browser's journey, or answers the request itself: the 'session
// has timed out' page when there is none, the 500 page when the store fails.
func (h *Handler) mustLoad(w http.ResponseWriter, r *http.Request) (loaded, bool) {
	j, ok, err := h.load(r)
	if err != nil {
		h.fail(w, r, "load", err)
		return loaded{}, false
	}
	if !ok {
		h.timedOut(w)
	}
	return j, ok
}

// post serves the forms: one action per kind of event.
func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.Pages.Render(w, http.StatusBadRequest, ui.PageMessage, ui.MessagePage{
			Page:       ui.Page{Title: "Sorry, there is a problem with the service"},
			Paragraphs: []string{"What you sent could not be read. Go back and try again."},
		})
		return
	}
	j, ok := h.mustLoad(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	var ev journey.Event
	switch r.PathValue("action") {
	case "sign-in":
		ev = journey.SubmitSignIn{Email: f.Get(ui.FieldEmail), Password: f.Get(ui.FieldPassword)}
	case "email":
		ev = journey.SubmitEmail{Email: f.Get(ui.FieldEmail)}
	case "email-code":
		ev = journey.SubmitEmailCode{Code: f.Get(ui.FieldCode)}
	case "resend-email-code":
		ev = journey.ResendEmailCode{}
	case "continue":
		ev = h.callEvent(r.Context(), j.s, true)
		if ev == nil {
			ev = journey.Continue{}
		}
	case "details":
		ev = journey.SubmitDetails{GivenName: f.Get(ui.FieldGivenName), FamilyName: f.Get(ui.FieldSurname),
			Password: f.Get(ui.FieldPassword), Confirm: f.Get(ui.FieldConfirmPassword)}
	case "phone":
		ev = journey.SubmitPhone{Number: f.Get(ui.FieldPhone), Method: journey.Method(f.Get(ui.FieldMethod))}
	case "method":
		ev = journey.ChooseMethod{Method: journey.Method(f.Get(ui.FieldMethod))}
	case "sms-code":
		ev = journey.SubmitSMSCode{Code: f.Get(ui.FieldCode)}
	case "resend-sms-code":
		ev = journey.ResendSMSCode{}
	case "new-password":
		ev = journey.SubmitNewPassword{Password: f.Get(ui.FieldPassword), Confirm: f.Get(ui.FieldConfirmPassword)}
	default:
		h.Pages.Render(w, http.StatusNotFound, ui.PageMessage, ui.NotFoundMessage())
		return
	}
	h.apply(w, r, j, ev, f)
}

// status answers the call-waiting page's poll: done once the call has ended (or the
// journey is no longer waiting), so the page continues by itself.
func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	done := true
	if j, ok, err := h.load(r); err == nil && ok && j.s.Step.IsCallWaitStep() {
		done = h.callEvent(r.Context(), j.s, false) != nil
	}
	_ = json.NewEncoder(w).Encode(struct {
		Done bool `json:"done"`
	}{done})
}

// noticeURL is the page of the step reached, with a notice.
func noticeURL(name string) string {
	if name == "" {
		return PathLogin
	}
	return PathLogin + "?notice=" + url.QueryEscape(name)
}
