package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/councilforms/idp/factors"
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
	"code-sent":     "web.notice.code-sent",
	"phone-changed": "web.notice.phone-changed",
}

// notice is the words of the notice named in a redirect's query, or "".
func notice(lang, name string) string {
	key, ok := notices[name]
	if !ok {
		return ""
	}
	return ui.T(lang, key)
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
	if !ok {
		h.timedOut(w, r)
		return
	}
	if j.s.Step == journey.StepDone {
		h.repeatFinished(w, r, j.s)
		return
	}
	// A waiting page reloads itself: it moves on when the call has ended.
	if ev := h.callEvent(r.Context(), j.s, false); ev != nil {
		h.apply(w, r, j, ev, nil)
		return
	}
	h.render(w, r, j.s, http.StatusOK, nil, nil, notice(pageLang(r, j.s), r.URL.Query().Get("notice")))
}

// begin starts the journey for a sign-in request, or resumes the browser's
// unfinished one: closing the page and following the form's sign-in link again
// comes back to the step reached. A journey that holds something proven (a
// password, a phone, a verified email address) is not carried to the new
// request silently: the page says whose journey it is and offers 'Continue' or
// 'Start again', and one idle longer than Config.ResumeIdle starts again, so
// the next person at a shared computer inherits nothing.
func (h *Handler) begin(w http.ResponseWriter, r *http.Request, authRequestID string) {
	lr, j, ok, handled := h.requestAndJourney(w, r, authRequestID)
	if handled {
		return
	}
	// A change of phone number started from the account pages never turns into a
	// sign-in: it has not checked a password.
	if ok && j.s.Step != journey.StepDone && j.s.Kind != journey.KindChangePhone {
		switch {
		case j.s.AuthRequestID == lr.ID:
			seeOther(w, r, PathLogin)
			return
		case h.now().Sub(j.s.SeenAt) > h.cfg.ResumeIdle:
			// Too long ago to be this person's: start again below.
		case j.s.HoldsProof():
			h.Pages.Render(w, http.StatusOK, ui.PageResume, ui.ResumePage{
				Page:   ui.Page{Lang: pageLang(r, j.s)},
				Action: actResume, Request: lr.ID, MaskedEmail: journey.MaskEmail(j.s.Email),
			})
			return
		default:
			h.attach(w, r, j, lr)
			return
		}
	}
	h.start(w, r, lr)
}

// requestAndJourney reads the sign-in request for this browser and the
// browser's journey (ok: it has one), or answers the request itself (handled).
func (h *Handler) requestAndJourney(w http.ResponseWriter, r *http.Request, authRequestID string) (lr *provider.LoginRequest, j loaded, ok, handled bool) {
	lr, found := h.loginRequest(w, r, authRequestID)
	if !found {
		return nil, loaded{}, false, true
	}
	j, ok, err := h.load(r)
	if err != nil {
		h.fail(w, r, "load", err)
		return nil, loaded{}, false, true
	}
	return lr, j, ok, false
}

// loginRequest reads the sign-in request for this browser, or answers the
// request itself: 'session has timed out' for an unknown or finished request,
// the other-browser page for one started elsewhere.
func (h *Handler) loginRequest(w http.ResponseWriter, r *http.Request, authRequestID string) (*provider.LoginRequest, bool) {
	lr, err := h.Provider.LoginRequest(r, authRequestID)
	switch {
	case errors.Is(err, provider.ErrUnknownAuthRequest):
		h.timedOut(w, r)
	case errors.Is(err, provider.ErrOtherBrowser):
		h.otherBrowser(w, r)
	case err != nil:
		h.fail(w, r, "sign-in request", err)
	default:
		return lr, true
	}
	return nil, false
}

// attach moves the browser's journey on to a new sign-in request (the form's
// sign-in link followed again) and shows the step reached.
func (h *Handler) attach(w http.ResponseWriter, r *http.Request, j loaded, lr *provider.LoginRequest) {
	s := *j.s
	s.AuthRequestID, s.ReturnOrigin, s.ClientName, s.ClientID = lr.ID, returnOrigin(lr.RedirectURI), lr.ClientName, lr.ClientID
	if _, err := h.save(r.Context(), j, &s); err != nil && !errors.Is(err, store.ErrConflict) {
		h.fail(w, r, "resume", err)
		return
	}
	seeOther(w, r, PathLogin)
}

// start begins a new journey at the Sign In page, replacing any the browser had.
func (h *Handler) start(w http.ResponseWriter, r *http.Request, lr *provider.LoginRequest) {
	cookie, id, err := newJourney()
	if err != nil {
		h.fail(w, r, "journey id", err)
		return
	}
	if old, ok, err := h.load(r); err == nil && ok {
		h.discard(r, old.s)
	}
	s := h.Machine.NewSignIn(id, lr.ID, h.now())
	s.ReturnOrigin = returnOrigin(lr.RedirectURI)
	s.Lang = startLang(r, lr.UILocales)
	s.ClientName, s.ClientID = lr.ClientName, lr.ClientID
	// login_hint pre-fills the email address: a suggestion, checked like any input
	// when the person signs in.
	if hint := strings.TrimSpace(lr.LoginHint); len(hint) <= 254 && strings.Count(hint, "@") == 1 {
		s.Email = hint
	}
	if err := h.create(w, r, cookie, s); err != nil {
		h.fail(w, r, "create", err)
		return
	}
	h.metrics.started.Inc()
	// The first page in this response, not after a redirect to /login: one round
	// trip fewer on a phone. Reloading this address resumes the journey above.
	h.render(w, r, s, http.StatusOK, nil, nil, "")
}

// discard deletes a journey that a new one replaces.
func (h *Handler) discard(r *http.Request, s *journey.State) {
	if err := h.Ephemeral.Delete(r.Context(), journeyKey(s.ID)); err != nil {
		h.Log.WarnContext(r.Context(), "delete replaced journey", "err", err)
	}
}

// resume answers the 'Continue' / 'Start again' question begin asked about an
// unfinished journey.
func (h *Handler) resume(w http.ResponseWriter, r *http.Request, f url.Values) {
	lr, j, ok, handled := h.requestAndJourney(w, r, f.Get(ui.FieldRequest))
	if handled {
		return
	}
	if f.Get(ui.FieldChoice) == ui.ChoiceContinue && ok && j.s.Step != journey.StepDone &&
		j.s.Kind != journey.KindChangePhone && h.now().Sub(j.s.SeenAt) <= h.cfg.ResumeIdle {
		h.attach(w, r, j, lr)
		return
	}
	h.start(w, r, lr)
}

// otherBrowser is the page for a sign-in request started in another browser.
func (h *Handler) otherBrowser(w http.ResponseWriter, r *http.Request) {
	h.Log.WarnContext(r.Context(), "sign-in request refused: started in another browser")
	lang := browserLang(r)
	h.Pages.Render(w, http.StatusBadRequest, ui.PageMessage, ui.MessagePage{
		Page:       ui.Page{Lang: lang, Title: ui.T(lang, "web.other-browser.title")},
		Paragraphs: []string{ui.T(lang, "web.other-browser.body")},
	})
}

// Links that move the journey. They are GETs because the council's guide prints
// them as links; each only switches between pages and sends nothing.
var links = map[string]journey.Event{
	"sign-up":             journey.StartSignUp{},
	"forgot-password":     journey.StartForgotPassword{},
	"back":                journey.GoToSignIn{},
	"change-email":        journey.ChangeEmail{},
	"change-phone-number": journey.ChangePhoneNumber{},
	"phone-choice":        journey.BackToPhoneChoice{},
}

func (h *Handler) follow(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	ev, ok := links[r.PathValue("link")]
	if !ok {
		h.Pages.Render(w, http.StatusNotFound, ui.PageMessage, ui.NotFoundMessage(browserLang(r)))
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
		h.timedOut(w, r)
		return j, false
	}
	if j.s.Step == journey.StepDone {
		h.repeatFinished(w, r, j.s)
		return j, false
	}
	return j, true
}

// post serves the forms: one action per kind of event.
func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		lang := browserLang(r)
		h.Pages.Render(w, http.StatusBadRequest, ui.PageMessage, ui.MessagePage{
			Page:       ui.Page{Lang: lang, Title: ui.T(lang, "message.server-error.title")},
			Paragraphs: []string{ui.T(lang, "web.unreadable-form")},
		})
		return
	}
	f := r.PostForm
	if r.PathValue("action") == "resume" {
		h.resume(w, r, f)
		return
	}
	j, ok := h.mustLoad(w, r)
	if !ok {
		return
	}
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
	case "phone-recovery":
		ev = journey.StartPhoneRecovery{} // refused unless the route is on and offered
	case "new-password":
		ev = journey.SubmitNewPassword{Password: f.Get(ui.FieldPassword), Confirm: f.Get(ui.FieldConfirmPassword)}
	default:
		h.Pages.Render(w, http.StatusNotFound, ui.PageMessage, ui.NotFoundMessage(browserLang(r)))
		return
	}
	h.apply(w, r, j, ev, f)
}

// status answers the call-waiting page's poll: done once the call has ended (or the
// journey is no longer waiting), so the page continues by itself.
func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	// Once done, confirmed says the call proved the phone and failed that it ended
	// without the hash key: the page announces either in its status region
	// without reloading. Neither (no journey, a call overdue): the page moves on.
	var st struct {
		Done      bool `json:"done"`
		Confirmed bool `json:"confirmed"`
		Failed    bool `json:"failed"`
	}
	st.Done = true
	if j, ok, err := h.load(r); err == nil && ok && j.s.Step.IsCallWaitStep() {
		ev := h.callEvent(r.Context(), j.s, false)
		st.Done = ev != nil
		if o, isOutcome := ev.(journey.CallOutcome); isOutcome {
			st.Confirmed = o.Result == factors.CallConfirmed
			st.Failed = !st.Confirmed
		}
	}
	_ = json.NewEncoder(w).Encode(st)
}

// noticeURL is the page of the step reached, with a notice.
func noticeURL(name string) string {
	if name == "" {
		return PathLogin
	}
	return PathLogin + "?notice=" + url.QueryEscape(name)
}
