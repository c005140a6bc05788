package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/password"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui"
)

// errAccountTaken: 'Create' lost to another request creating the same account.
var errAccountTaken = errors.New("web: an account with this email was created meanwhile")

// Messages for delivery failures, shown on the page the journey moved to.
const (
	msgEmailNotSent   = "We could not send the email just now. Select 'Send a new code' to try again"
	msgTextsDown      = "We cannot send text messages at the moment. Select 'Call Me' and we will call you instead"
	msgTextNotAllowed = "We could not send a text message to this number. Select 'Call Me', or check the number"
	msgAccountTaken   = "An account with this email address has already been created. Sign in instead"
)

// apply runs ev through the journey and answers the browser: the next step's page
// (303 to GET /login), the same page with the mistakes to fix, or the form app's
// redirect when the journey is over. form is what was posted, to put back into the
// page after a mistake.
//
// Nothing a person did is lost to a failing dependency: the step's durable writes
// (the phone, the password, the finished sign-in request) are made before the
// journey is saved as moved on, and each is safe to repeat. When one fails the
// journey stays where it was and the person is told to try again, which then
// works. Messages are sent after the save, so the code a page asks for is the one
// the saved journey expects.
func (h *Handler) apply(w http.ResponseWriter, r *http.Request, j loaded, ev journey.Event, form url.Values) {
	ctx := r.Context()
	res, err := h.Machine.Drive(j.s, ev, h.now(), h.answer(r, j.s))
	switch {
	case errors.Is(err, journey.ErrRefused):
		// A skipped step, a back button, a second tab: show the step reached.
		seeOther(w, r, PathLogin)
		return
	case errors.Is(err, errAccountTaken):
		h.waitForWinner(ctx, j)
		if nj, ok, lerr := h.loadID(ctx, j.s.ID); lerr == nil && ok && nj.version == j.version {
			h.render(w, r, j.s, http.StatusOK, []ui.FieldError{{Message: msgAccountTaken}}, form, "")
			return
		}
		seeOther(w, r, PathLogin)
		return
	case errors.Is(err, password.ErrBusy):
		h.busy(w, r)
		return
	case err != nil:
		h.fail(w, r, "apply "+string(ev.Kind()), err)
		return
	}
	redirect, err := h.performWrites(w, r, res)
	if err != nil {
		h.failFinishing(w, r, res.State, "perform "+string(ev.Kind()), err)
		return
	}
	if res.State.Step == journey.StepDone {
		h.keepFinished(w, r, j, res.State)
		h.Provider.Redirect(w, r, redirect)
		return
	}
	saved, err := h.save(ctx, j, res.State)
	if errors.Is(err, store.ErrConflict) {
		seeOther(w, r, PathLogin)
		return
	} else if errors.Is(err, store.ErrNotFound) {
		h.timedOut(w, r)
		return
	} else if err != nil {
		h.fail(w, r, "save", err)
		return
	}
	problems, notSent, err := h.performSends(r, res)
	if err != nil {
		h.fail(w, r, "perform "+string(ev.Kind()), err)
		return
	}
	if notSent != nil {
		// The journey learns the text did not go: it leaves the code page (which
		// would say a code was sent) for the choice of method, with the reason.
		h.refundText(ctx, r, res.State, notSent)
		if res, err = h.Machine.Drive(saved.s, journey.SMSNotSent{Message: notSent.message}, h.now(), h.answer(r, saved.s)); err != nil {
			h.fail(w, r, "text not sent", err)
			return
		}
		if _, err := h.save(ctx, saved, res.State); err != nil && !errors.Is(err, store.ErrConflict) {
			h.fail(w, r, "save", err)
			return
		}
	}
	errs := append(uiErrors(res.Errors), problems...)
	if len(errs) > 0 {
		h.render(w, r, res.State, http.StatusOK, errs, form, "")
		return
	}
	notice := ""
	if res.Sent != "" && (ev.Kind() == journey.EventResendEmailCode || ev.Kind() == journey.EventResendSMSCode) {
		notice = "code-sent"
	}
	seeOther(w, r, noticeURL(notice))
}

// finishedTTL is how long an ended journey is kept, as StepDone, for a repeated
// last click: at most an authorization code's life.
const finishedTTL = provider.CodeTTL

// keepFinished stores the ended journey as StepDone for finishedTTL, so that a
// second click of its last button (or a reload) ends at the same redirect, and
// removes the browser's cookie. Losing the record only loses that convenience.
func (h *Handler) keepFinished(w http.ResponseWriter, r *http.Request, j loaded, s *journey.State) {
	s.SeenAt = h.now().UTC()
	if b, err := s.Marshal(); err == nil {
		_, err = h.Ephemeral.CompareAndSet(r.Context(), journeyKey(s.ID), j.version, b, finishedTTL)
		if err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
			h.Log.WarnContext(r.Context(), "keep finished journey", "err", err)
		}
	}
	h.clearCookie(w)
}

// repeatFinished answers a request on a journey that has just ended (a double
// click on its last button, a reload): the same redirect the first one got, while
// its code is unused.
func (h *Handler) repeatFinished(w http.ResponseWriter, r *http.Request, s *journey.State) {
	if s.AuthRequestID == "" {
		if s.Kind == journey.KindChangePhone {
			seeOther(w, r, noticeAccount("phone-changed"))
			return
		}
		h.timedOut(w, r)
		return
	}
	to, err := h.Provider.Complete(w, r, s.AuthRequestID, provider.Authentication{UserID: s.UserID, AMR: s.AMR})
	if err != nil {
		h.failFinishing(w, r, s, "repeat finished journey", err)
		return
	}
	h.clearCookie(w)
	h.Provider.Redirect(w, r, to)
}

// failFinishing answers a failure to end a journey: the sign-in request has gone
// (timed out), belongs to another browser, or a dependency failed (try again).
func (h *Handler) failFinishing(w http.ResponseWriter, r *http.Request, s *journey.State, what string, err error) {
	switch {
	case errors.Is(err, provider.ErrUnknownAuthRequest):
		h.finish(w, r, s)
		h.timedOut(w, r)
	case errors.Is(err, provider.ErrOtherBrowser):
		h.finish(w, r, s)
		h.otherBrowser(w, r)
	default:
		h.fail(w, r, what, err)
	}
}

func (h *Handler) audit(ctx context.Context, r *http.Request, kind, userID, detail string) {
	e := &store.AuditEvent{Time: h.now(), Kind: kind, UserID: userID, IP: h.clientIP(r), Detail: detail}
	if err := h.Store.AppendAudit(ctx, e); err != nil {
		h.Log.WarnContext(ctx, "audit", "kind", kind, "err", err)
	}
}

// uiErrors gives the journey's mistakes to the page. Field names are shared
// (journey.Field* are the ui.Field* input ids); a method error has no input to link
// to, so it is listed for the page as a whole.
func uiErrors(errs []journey.FieldError) []ui.FieldError {
	out := make([]ui.FieldError, 0, len(errs))
	for _, e := range errs {
		f := e.Field
		if f == journey.FieldMethod {
			f = ""
		}
		out = append(out, ui.FieldError{Field: f, Message: e.Message})
	}
	return out
}
