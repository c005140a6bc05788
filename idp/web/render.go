package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/server"
	"github.com/councilforms/idp/ui"
	"github.com/councilforms/idp/ui/locale"
)

// Form targets: one per kind of event (see post), and the links of follow.
const (
	actSignIn        = PathLogin + "/sign-in"
	actEmail         = PathLogin + "/email"
	actEmailCode     = PathLogin + "/email-code"
	actResendEmail   = PathLogin + "/resend-email-code"
	actContinue      = PathLogin + "/continue"
	actDetails       = PathLogin + "/details"
	actPhone         = PathLogin + "/phone"
	actMethod        = PathLogin + "/method"
	actSMSCode       = PathLogin + "/sms-code"
	actResendSMS     = PathLogin + "/resend-sms-code"
	actNewPassword   = PathLogin + "/new-password"
	actResume        = PathLogin + "/resume"
	linkSignUp       = PathLogin + "/sign-up"
	linkForgot       = PathLogin + "/forgot-password"
	linkBack         = PathLogin + "/back"
	linkChangeEmail  = PathLogin + "/change-email"
	linkChangeNumber = PathLogin + "/change-phone-number"
	linkPhoneChoice  = PathLogin + "/phone-choice"
)

// render shows the page of the step s has reached. errs are mistakes to show; form,
// when set, is what was posted, so that what the person typed is put back (never
// a password).
func (h *Handler) render(w http.ResponseWriter, r *http.Request, s *journey.State, status int, errs []ui.FieldError, form url.Values, notice string) {
	h.allowReturnToForm(w, r, s)
	lang := pageLang(r, s)
	page := ui.Page{Errors: h.translated(lang, errs), Notice: notice, Lang: lang, LanguageURL: linkLanguage, Service: service(s)}
	h.timeoutFields(&page, s.SeenAt)
	// A refusal that sends the person to a human (journey.Policy.ContactText)
	// shows how to reach one (read in the journey's English, before translation).
	if c := h.Machine.Policy().ContactText; c != "" {
		for _, e := range errs {
			if strings.Contains(e.Message, c) {
				page.Contact = true
			}
		}
	}
	typed := func(field, fallback string) string {
		if form != nil && form.Has(field) {
			return form.Get(field)
		}
		return fallback
	}
	masked := journey.MaskPhone(s.Phone)
	mobile := s.PhoneType.CanText()
	var name string
	var data any
	switch s.Step {
	case journey.StepSignIn:
		name, data = ui.PageSignIn, ui.SignInPage{Page: page, Action: actSignIn, Email: typed(ui.FieldEmail, s.Email),
			SignUpURL: linkSignUp, ForgotPasswordURL: linkForgot, ClientName: s.ClientName}
	case journey.StepSignUpEmail:
		page.BackURL = linkBack
		name, data = ui.PageSignUpEmail, ui.SignUpEmailPage{Page: page, Action: actEmail, Email: typed(ui.FieldEmail, s.Email), ClientName: s.ClientName}
	case journey.StepForgotEmail:
		page.BackURL = linkBack
		name, data = ui.PageForgotEmail, ui.ForgotEmailPage{Page: page, Action: actEmail, Email: typed(ui.FieldEmail, s.Email)}
	case journey.StepRecoveryEmailCode:
		page.BackURL = ui.PathLostPhone
		name, data = ui.PageEmailCode, ui.EmailCodePage{Page: page, Action: actEmailCode, Email: s.Email,
			ResendAction: actResendEmail, ValidMinutes: wholeMinutes(h.Machine.Policy().EmailCodeTTL)}
	case journey.StepRecoveryPending:
		l := page.Lang
		page.Title, page.Contact = ui.T(l, "recovery-pending.title"), true
		name, data = ui.PageMessage, ui.MessagePage{Page: page,
			Paragraphs: []string{ui.T(l, "recovery-pending.when", "when", ui.FormatTimeIn(l, s.RecoveryAt.In(h.cfg.Location))),
				ui.T(l, "recovery-pending.email", "email", s.Email), ui.T(l, "recovery-pending.until")},
			ButtonText: ui.T(l, "recovery-pending.sign-in"), ButtonURL: linkBack}
	case journey.StepSignUpEmailCode, journey.StepForgotEmailCode:
		page.BackURL = linkChangeEmail
		name, data = ui.PageEmailCode, ui.EmailCodePage{Page: page, Action: actEmailCode, Email: s.Email,
			ResendAction: actResendEmail, ChangeEmailURL: linkChangeEmail, ValidMinutes: wholeMinutes(h.Machine.Policy().EmailCodeTTL)}
	case journey.StepSignUpEmailVerified:
		name, data = ui.PageEmailVerified, ui.EmailVerifiedPage{Page: page, Action: actContinue}
	case journey.StepSignUpDetails:
		name, data = ui.PageSignUpDetails, ui.SignUpDetailsPage{Page: page, Action: actDetails,
			GivenName: typed(ui.FieldGivenName, ""), Surname: typed(ui.FieldSurname, "")}
	case journey.StepPhoneEnter:
		name, data = ui.PagePhoneEnter, ui.PhoneEnterPage{Page: page, Action: actPhone,
			PhoneNumber: typed(ui.FieldPhone, nationalOrEmpty(s.Phone))}
	case journey.StepPhoneSMSCode, journey.StepPhoneConfirmSMSCode, journey.StepChallengeSMSCode:
		page.BackURL = linkPhoneChoice
		shown := masked
		if s.Step == journey.StepPhoneSMSCode {
			// The number was typed a moment ago: shown in full, so a typo can
			// be seen and changed with 'Back'.
			page.BackURL, shown = linkChangeNumber, displayNumber(s.Phone)
		}
		name, data = ui.PageSMSCode, ui.SMSCodePage{Page: page, Action: actSMSCode, MaskedPhone: shown,
			ResendAction: actResendSMS, CallAction: actMethod, ValidMinutes: wholeMinutes(h.Machine.Policy().SMSCodeTTL)}
	case journey.StepPhoneCallWait, journey.StepPhoneConfirmCallWait, journey.StepChallengeCallWait:
		page.BackURL = linkPhoneChoice
		if s.Step == journey.StepPhoneCallWait {
			page.BackURL = linkChangeNumber
		}
		poll := 0 // the script's default
		if h.cfg.CallPoll != DefaultCallPoll {
			poll = int(h.cfg.CallPoll / time.Millisecond)
		}
		// The page answering a post of 'Continue' is stillRinging's: nothing
		// has come from the phone yet.
		name, data = ui.PageCallWait, ui.CallWaitPage{Page: page, Action: actContinue, MaskedPhone: masked,
			StatusURL: PathStatus, Mobile: mobile, RetryAction: actMethod, PollEvery: poll,
			NotHeard: r.Method == http.MethodPost && r.URL.Path == actContinue}
	case journey.StepPhoneConfirm:
		page.Title = ui.T(page.Lang, "phone-challenge.confirm-heading")
		name, data = ui.PagePhoneChallenge, ui.PhoneChallengePage{Page: page, Action: actMethod, MaskedPhone: masked, Mobile: mobile}
	case journey.StepChallenge:
		name, data = ui.PagePhoneChallenge, ui.PhoneChallengePage{Page: page, Action: actMethod, MaskedPhone: masked, Mobile: mobile,
			LostPhoneURL: ui.PathLostPhone}
	case journey.StepForgotNewPassword:
		name, data = ui.PageForgotNewPassword, ui.ForgotNewPasswordPage{Page: page, Action: actNewPassword}
	case journey.StepPasswordUnavailable:
		l := page.Lang
		page.Title = ui.T(l, "web.password-unavailable.title")
		name, data = ui.PageMessage, ui.MessagePage{Page: page,
			Paragraphs: []string{ui.T(l, "web.password-unavailable.body"), ui.T(l, "web.password-unavailable.next")},
			ButtonText: ui.T(l, "web.try-again"), ButtonURL: linkBack,
			LinkText: ui.T(l, "sign-in.forgot-password"), LinkURL: linkForgot}
	case journey.StepNewService:
		l := page.Lang
		page.Title, page.BackURL = ui.T(l, "web.new-service.title"), linkBack
		next := ui.T(l, "web.new-service.then-phone")
		if s.AccountPhone == "" {
			next = ui.T(l, "web.new-service.then-add-phone")
		}
		name, data = ui.PageMessage, ui.MessagePage{Page: page,
			Paragraphs: []string{ui.T(l, "web.new-service.body"), ui.T(l, "web.new-service.code", "email", s.Email) + " " + next},
			Form:       &ui.MessageForm{Action: actContinue, Button: ui.T(l, "common.continue")}}
	default:
		h.timedOut(w, r)
		return
	}
	h.Pages.Render(w, status, name, data)
}

// allowReturnToForm lets this page's forms end at the form app: the post that
// completes the journey (a code, 'Continue' on a call) is redirected to the form
// app's redirect URI, which form-action 'self' would stop (server.AllowFormTarget).
func (h *Handler) allowReturnToForm(w http.ResponseWriter, r *http.Request, s *journey.State) {
	if s.AuthRequestID == "" {
		return
	}
	origin := s.ReturnOrigin
	if origin == "" {
		// A journey saved before ReturnOrigin existed: read the request.
		lr, err := h.Provider.LoginRequest(r, s.AuthRequestID)
		if err != nil {
			return
		}
		origin = returnOrigin(lr.RedirectURI)
	}
	if origin != "" {
		server.AllowFormTarget(w, origin)
	}
}

// returnOrigin is the scheme://host[:port] of a registered redirect URI, or ""
// when it is not one a policy can name safely.
func returnOrigin(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		strings.ContainsAny(u.Host, " ;,'\"*") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// nationalOrEmpty refills the number box with a number already given (going back to
// change it). The E.164 form is what the store keeps; people typed it without +44.
func nationalOrEmpty(e164 string) string {
	if len(e164) > 3 && e164[:3] == "+44" {
		return "0" + e164[3:]
	}
	return e164
}

// translated is errs in lang: the journey and the rules write English, with
// the council's contact text (IDP_CONTACT_TEXT) in English inside some.
func (h *Handler) translated(lang string, errs []ui.FieldError) []ui.FieldError {
	if len(errs) == 0 {
		return errs
	}
	contact := h.Pages.Contact(locale.English)
	out := make([]ui.FieldError, len(errs))
	for i, e := range errs {
		out[i] = ui.FieldError{Field: e.Field, Message: contact.Localize(lang, e.Message)}
	}
	return out
}

// service is the header's name for the service on the journey's pages.
func service(s *journey.State) string {
	switch s.Kind {
	case journey.KindSignUp:
		return ui.ServiceSignUp
	case journey.KindChangePhone:
		return ui.ServiceAccount
	}
	return ui.ServiceSignIn
}

// wholeMinutes is a code's lifetime as the pages say it, rounded up.
func wholeMinutes(d time.Duration) int {
	return int((d + time.Minute - 1) / time.Minute)
}

// displayNumber is an E.164 number as the person wrote it: a UK number in
// its national form ("07700 900123"), any other as it is.
func displayNumber(e164 string) string {
	n := nationalOrEmpty(e164)
	if len(n) == 11 && strings.HasPrefix(n, "07") {
		return n[:5] + " " + n[5:]
	}
	return n
}
