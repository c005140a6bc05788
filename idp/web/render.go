package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/server"
	"github.com/councilforms/idp/ui"
)

// Form targets: one per kind of event (see post), and the links of follow.
const (
	actSignIn         = PathLogin + "/sign-in"
	actEmail          = PathLogin + "/email"
	actEmailCode      = PathLogin + "/email-code"
	actResendEmail    = PathLogin + "/resend-email-code"
	actContinue       = PathLogin + "/continue"
	actDetails        = PathLogin + "/details"
	actPhone          = PathLogin + "/phone"
	actMethod         = PathLogin + "/method"
	actSMSCode        = PathLogin + "/sms-code"
	actResendSMS      = PathLogin + "/resend-sms-code"
	actNewPassword    = PathLogin + "/new-password"
	actResume         = PathLogin + "/resume"
	linkSignUp        = PathLogin + "/sign-up"
	linkForgot        = PathLogin + "/forgot-password"
	linkBack          = PathLogin + "/back"
	linkChangeEmail   = PathLogin + "/change-email"
	linkChangeNumber  = PathLogin + "/change-phone-number"
	linkPhoneChoice   = PathLogin + "/phone-choice"
	confirmPhoneTitle = "Confirm your phone number"

	titlePasswordUnavailable = "We cannot check your password right now"
	titleNewService          = "We have moved to a new sign-in service"
)

// render shows the page of the step s has reached. errs are mistakes to show; form,
// when set, is what was posted, so that what the person typed is put back (never
// a password).
func (h *Handler) render(w http.ResponseWriter, r *http.Request, s *journey.State, status int, errs []ui.FieldError, form url.Values, notice string) {
	h.allowReturnToForm(w, r, s)
	page := ui.Page{Errors: errs, Notice: notice}
	h.timeoutFields(&page, s.SeenAt)
	// A refusal that sends the person to a human (journey.Policy.ContactText)
	// shows how to reach one.
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
			SignUpURL: linkSignUp, ForgotPasswordURL: linkForgot}
	case journey.StepSignUpEmail:
		page.BackURL = linkBack
		name, data = ui.PageSignUpEmail, ui.SignUpEmailPage{Page: page, Action: actEmail, Email: typed(ui.FieldEmail, s.Email)}
	case journey.StepForgotEmail:
		page.BackURL = linkBack
		name, data = ui.PageForgotEmail, ui.ForgotEmailPage{Page: page, Action: actEmail, Email: typed(ui.FieldEmail, s.Email)}
	case journey.StepSignUpEmailCode, journey.StepForgotEmailCode:
		page.BackURL = linkChangeEmail
		name, data = ui.PageEmailCode, ui.EmailCodePage{Page: page, Action: actEmailCode, Email: s.Email,
			ResendAction: actResendEmail, ChangeEmailURL: linkChangeEmail}
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
		if s.Step == journey.StepPhoneSMSCode {
			page.BackURL = linkChangeNumber
		}
		name, data = ui.PageSMSCode, ui.SMSCodePage{Page: page, Action: actSMSCode, MaskedPhone: masked,
			ResendAction: actResendSMS, CallAction: actMethod}
	case journey.StepPhoneCallWait, journey.StepPhoneConfirmCallWait, journey.StepChallengeCallWait:
		page.BackURL = linkPhoneChoice
		if s.Step == journey.StepPhoneCallWait {
			page.BackURL = linkChangeNumber
		}
		// A meta refresh counts whole seconds (New keeps it longer than the poll).
		page.RefreshSeconds = int((h.cfg.CallRefresh + time.Second - 1) / time.Second)
		poll := 0 // the script's default
		if h.cfg.CallPoll != DefaultCallPoll {
			poll = int(h.cfg.CallPoll / time.Millisecond)
		}
		name, data = ui.PageCallWait, ui.CallWaitPage{Page: page, Action: actContinue, MaskedPhone: masked,
			StatusURL: PathStatus, Mobile: mobile, RetryAction: actMethod, PollEvery: poll}
	case journey.StepPhoneConfirm:
		page.Title = confirmPhoneTitle
		name, data = ui.PagePhoneChallenge, ui.PhoneChallengePage{Page: page, Action: actMethod, MaskedPhone: masked, Mobile: mobile}
	case journey.StepChallenge:
		name, data = ui.PagePhoneChallenge, ui.PhoneChallengePage{Page: page, Action: actMethod, MaskedPhone: masked, Mobile: mobile,
			LostPhoneURL: ui.PathLostPhone}
	case journey.StepForgotNewPassword:
		name, data = ui.PageForgotNewPassword, ui.ForgotNewPasswordPage{Page: page, Action: actNewPassword}
	case journey.StepPasswordUnavailable:
		page.Title = titlePasswordUnavailable
		name, data = ui.PageMessage, ui.MessagePage{Page: page,
			Paragraphs: []string{
				"Your account was moved here from the council's previous sign-in service, which checks your password the first time you sign in. It is not answering at the moment. Nothing has been changed.",
				"Try again in a few minutes, or set a new password with 'Forgot your password?'.",
			},
			ButtonText: "Try again", ButtonURL: linkBack,
			LinkText: "Forgot your password?", LinkURL: linkForgot}
	case journey.StepNewService:
		page.Title, page.BackURL = titleNewService, linkBack
		next := "Then we will check your phone, as we do every time you sign in, and you can create a new password."
		if s.AccountPhone == "" {
			next = "Then you can create a new password and add the phone number we will use to confirm it is you every time you sign in."
		}
		name, data = ui.PageMessage, ui.MessagePage{Page: page,
			Paragraphs: []string{
				"You need to create a new password the first time you sign in to the new service.",
				"We will send a verification code to " + s.Email + ". " + next,
			},
			Form: &ui.MessageForm{Action: actContinue, Button: "Continue"}}
	default:
		h.timedOut(w)
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
