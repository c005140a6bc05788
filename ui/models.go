package ui

import (
	"reflect"
	"time"

	"github.com/councilforms/idp/ui/locale"
)

// Page names accepted by Templates.Render. Each has one template file,
// templates/pages/<name>.html, and one view model type.
const (
	PageSignIn            = "sign-in"             // SignInPage
	PageSignUpEmail       = "signup-email"        // SignUpEmailPage
	PageEmailCode         = "email-code"          // EmailCodePage
	PageEmailVerified     = "email-verified"      // EmailVerifiedPage
	PageSignUpDetails     = "signup-details"      // SignUpDetailsPage
	PagePhoneEnter        = "phone-enter"         // PhoneEnterPage
	PagePhoneChallenge    = "phone-challenge"     // PhoneChallengePage
	PageSMSCode           = "sms-code"            // SMSCodePage
	PageCallWait          = "call-wait"           // CallWaitPage
	PageForgotEmail       = "forgot-email"        // ForgotEmailPage
	PageForgotNewPassword = "forgot-new-password" // ForgotNewPasswordPage
	PageAccount           = "account"             // AccountPage
	PageMessage           = "message"             // MessagePage
	PageDevInbox          = "dev-inbox"           // DevInboxPage
	PageResume            = "resume"              // ResumePage
	PageHelp              = "help"                // HelpPage
	PageCookies           = "cookies"             // CookiesPage
	PageContact           = "contact"             // ContactPage
	PageLostPhone         = "lost-phone"          // LostPhonePage
)

// pageModels maps each page to its view model type; Render refuses any other.
var pageModels = map[string]reflect.Type{
	PageSignIn:            reflect.TypeFor[SignInPage](),
	PageSignUpEmail:       reflect.TypeFor[SignUpEmailPage](),
	PageEmailCode:         reflect.TypeFor[EmailCodePage](),
	PageEmailVerified:     reflect.TypeFor[EmailVerifiedPage](),
	PageSignUpDetails:     reflect.TypeFor[SignUpDetailsPage](),
	PagePhoneEnter:        reflect.TypeFor[PhoneEnterPage](),
	PagePhoneChallenge:    reflect.TypeFor[PhoneChallengePage](),
	PageSMSCode:           reflect.TypeFor[SMSCodePage](),
	PageCallWait:          reflect.TypeFor[CallWaitPage](),
	PageForgotEmail:       reflect.TypeFor[ForgotEmailPage](),
	PageForgotNewPassword: reflect.TypeFor[ForgotNewPasswordPage](),
	PageAccount:           reflect.TypeFor[AccountPage](),
	PageMessage:           reflect.TypeFor[MessagePage](),
	PageDevInbox:          reflect.TypeFor[DevInboxPage](),
	PageResume:            reflect.TypeFor[ResumePage](),
	PageHelp:              reflect.TypeFor[HelpPage](),
	PageCookies:           reflect.TypeFor[CookiesPage](),
	PageContact:           reflect.TypeFor[ContactPage](),
	PageLostPhone:         reflect.TypeFor[LostPhonePage](),
}

// Form field names. Each is both the name a form posts and the id of its
// input, so a FieldError's Field is one of these and the error summary links
// to the input (#email). Handlers read posted values with the same names.
const (
	FieldEmail           = "email"
	FieldPassword        = "password"         // current password on sign-in; new password elsewhere
	FieldConfirmPassword = "confirm-password" // repeat of a new password
	FieldCode            = "code"             // a 6-digit code from an email or a text message
	FieldGivenName       = "given-name"
	FieldSurname         = "surname"
	FieldPhone           = "phone"
	// FieldMethod is posted by the 'Send Code' and 'Call Me' buttons with
	// the value MethodSMS or MethodCall.
	FieldMethod = "method"
	// FieldDigits is posted by the dev inbox's keypress button ("#").
	FieldDigits = "digits"
	// FieldRequest (hidden) names the sign-in request a ResumePage answers.
	FieldRequest = "request"
	// FieldChoice is posted by the ResumePage's buttons: ChoiceContinue or
	// ChoiceRestart.
	FieldChoice = "choice"
)

// Values of FieldChoice.
const (
	ChoiceContinue = "continue"
	ChoiceRestart  = "restart"
)

// Values of FieldMethod.
const (
	MethodSMS  = "sms"
	MethodCall = "call"
)

// FieldError is one problem with what a person entered. Field is the
// input's id (one of the Field constants); an empty Field is a problem with
// the page as a whole, listed in the error summary without a link.
// Message is shown as written, so it follows the GOV.UK error message
// style ("Enter your email address").
type FieldError struct {
	Field   string
	Message string
}

// Page is what every page shows around its own content. Every view model
// embeds it.
type Page struct {
	// Lang is the page's language, one of locale.Supported ("en", "cy");
	// empty is English. Every word of the page, and <html lang>, follow it.
	Lang string
	// Title is the heading of pages whose heading the handler chooses
	// (PhoneChallengePage, MessagePage). Pages whose heading the council's
	// guide names keep their own and ignore Title.
	Title string
	// Errors lead to the error summary ('There is a problem'), an inline
	// message at each field and "Error: " before the page title.
	Errors []FieldError
	// SignedInAs is the signed-in person's name; when set the header shows
	// it with a 'Sign out' button (a POST form).
	SignedInAs string
	// BackURL, when set, shows a 'Back' link above the content.
	BackURL string
	// Notice confirms something that has just happened ("We have sent a
	// new code"), shown in a success notification banner.
	Notice string
	// LanguageURL, when set, shows the language toggle ('English |
	// Cymraeg'): links to LanguageURL?lang=<tag>.
	LanguageURL string
	// Service is what the header names the service for this page: one of
	// ServiceSignIn, ServiceSignUp, ServiceAccount, ServiceConsole. Empty:
	// ServiceAccount for a signed-in person, else ServiceSignIn.
	Service string
	// Nav, when set, is the service navigation shown in the header (the
	// operators' console: the pages the operator's roles allow).
	Nav []NavItem
	// Contact shows the council's contact details (Options.Contact) after
	// the content: on pages that say to contact the council.
	Contact bool
	// TimeoutSeconds, when above zero, is how long the journey on this page
	// is kept if the person does nothing. Without JavaScript the page says
	// so; with it, a modal dialog warns TimeoutWarnSeconds before (GOV.UK's
	// timeout warning) and its 'Continue' posts to KeepAliveURL, which
	// answers JSON {"timeout": seconds} with the journey's new lifetime.
	TimeoutSeconds     int
	TimeoutWarnSeconds int
	KeepAliveURL       string
}

// NavItem is one link of the header's service navigation.
type NavItem struct {
	Text, Href string
	Current    bool // the page shown is this item's (or under it)
}

// Base is the Page of a model that embeds it (the console's render helper
// fills the header through it).
func (p *Page) Base() *Page { return p }

// Language is the page's language: Lang, or English when Lang is not one
// the service speaks.
func (p Page) Language() string { return locale.Or(p.Lang) }

// The header's service names (Page.Service).
const (
	ServiceSignIn  = "sign-in"
	ServiceSignUp  = "sign-up"
	ServiceAccount = "account"
	ServiceConsole = "console" // every page of the operators' console (idp/admin)
)

// ServiceKey is the header's service name for this page (see Service).
func (p Page) ServiceKey() string {
	switch p.Service {
	case ServiceSignIn, ServiceSignUp, ServiceAccount, ServiceConsole:
		return p.Service
	}
	if p.SignedInAs != "" {
		return ServiceAccount
	}
	return ServiceSignIn
}

// ErrorFor returns the message for field, or "" when it has none.
func (p Page) ErrorFor(field string) string {
	for _, e := range p.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// HasErrors reports whether the page shows any error; it decides the
// "Error: " title prefix.
func (p Page) HasErrors() bool { return len(p.Errors) > 0 }

// SignInPage is the 'Sign In' form: email address and password.
type SignInPage struct {
	Page
	Action            string // POST target of the form
	Email             string // kept after a failed attempt; the password never is
	SignUpURL         string // 'Sign up now'
	ForgotPasswordURL string // 'Forgot your password?'
	// ClientName is the online form the person is signing in to, from its
	// registration ("to continue to Make a social care referral"); empty: not said.
	ClientName string
}

// SignUpEmailPage asks for the email address to verify ('Sign up').
type SignUpEmailPage struct {
	Page
	Action     string
	Email      string
	ClientName string // as SignInPage's
}

// EmailCodePage asks for the code sent to Email ('Check your email').
// It serves sign-up and password reset alike.
type EmailCodePage struct {
	Page
	Action string // posts FieldCode
	Email  string // where the code went
	// ResendAction receives the 'Send a new code' button's own small form
	// (no fields).
	ResendAction string
	// ChangeEmailURL is the 'Change email address' link (back to the address form).
	ChangeEmailURL string
	// ValidMinutes is how long the code lasts (the code TTL setting); the
	// page says so when it is above zero.
	ValidMinutes int
}

// EmailVerifiedPage confirms the email address; 'Continue' posts to Action.
type EmailVerifiedPage struct {
	Page
	Action string
}

// SignUpDetailsPage is 'Create your account': name and new password.
// Passwords are never put back into the form.
type SignUpDetailsPage struct {
	Page
	Action    string
	GivenName string
	Surname   string
}

// PhoneEnterPage asks for the phone number to enrol. Its two buttons post
// FieldMethod = MethodSMS ('Send Code') or MethodCall ('Call Me').
type PhoneEnterPage struct {
	Page
	Action      string
	PhoneNumber string // as the person typed it, kept after an error
}

// PhoneChallengePage asks how to confirm a known number: at sign-in, on
// password reset and for the "confirm once more" step after enrolment.
// Title is the heading ('Confirm it is you', 'Confirm your phone number');
// empty means 'Confirm it is you'. The buttons post FieldMethod.
type PhoneChallengePage struct {
	Page
	Action      string
	MaskedPhone string // e.g. "07*** ***789"
	// Mobile shows 'Send Code'; a landline offers only 'Call Me'.
	Mobile bool
	// LostPhoneURL, when set, is the 'I cannot use this phone number' link
	// (the phone check of an account; not the check of a number just added).
	LostPhoneURL string
}

// SMSCodePage asks for the code sent by text message ('Check your phone').
type SMSCodePage struct {
	Page
	Action string // posts FieldCode
	// MaskedPhone is where the code went: masked, except for a number the
	// person has just typed (so a typo can be seen).
	MaskedPhone string
	// ResendAction receives 'Send a new code' (FieldMethod=MethodSMS) and
	// CallAction 'Call Me instead' (FieldMethod=MethodCall); both may be the
	// phone challenge's Action.
	ResendAction string
	CallAction   string
	// ValidMinutes is how long the code lasts; shown when above zero.
	ValidMinutes int
}

// CallWaitPage waits while an automated call asks the person to press #
// ('We are calling you'). It never reloads itself (a meta refresh sends focus
// and the screen reader back to the top, WCAG 2.2.1): without JavaScript it
// says to select 'Continue' once # is pressed, and 'Continue' posts to Action,
// which asks once how the call went; with JavaScript it also polls StatusURL.
type CallWaitPage struct {
	Page
	Action      string
	MaskedPhone string
	// StatusURL, optional, answers JSON {"done": bool}; with JavaScript the
	// page polls it and continues as soon as the call reports '#'.
	StatusURL string
	// PollEvery is the milliseconds between the script's polls of StatusURL;
	// zero leaves the script's default (2000). Tests shorten it.
	PollEvery int
	// Failure says why the call did not confirm the number ("The call was
	// not answered"). It is shown as an error with 'Call Me' (and 'Send
	// Code' when Mobile) posting FieldMethod to RetryAction; the heading
	// becomes 'We could not confirm your phone number'.
	Failure string
	Mobile  bool
	// NotHeard: 'Continue' was selected while the call had not reported
	// anything yet; the status says so ("We have not heard from your phone
	// yet") instead of that it is waiting.
	NotHeard bool
	// RetryAction receives FieldMethod: while waiting, from 'Not received a
	// call?' ('Call Me again', and 'Send Code instead' when Mobile); after a
	// failure, from 'Call Me' and 'Send Code'. Empty: no such buttons while
	// waiting.
	RetryAction string
}

// HasErrors includes the call failure, so the title says "Error: ".
func (p CallWaitPage) HasErrors() bool { return p.Failure != "" || p.Page.HasErrors() }

// ForgotEmailPage starts a password reset ('Reset your password').
type ForgotEmailPage struct {
	Page
	Action string
	Email  string
}

// ForgotNewPasswordPage sets the new password ('Create a new password') at
// the end of a reset, once the email code and the phone are confirmed.
type ForgotNewPasswordPage struct {
	Page
	Action string
}

// AccountPage shows the signed-in person's details. Set Page.SignedInAs
// too, for the header.
type AccountPage struct {
	Page
	Name           string
	Email          string
	MaskedPhone    string
	ChangePhoneURL string // 'Change phone number'
}

// ResumePage asks, when a sign-in link finds an unfinished journey in this
// browser, whether it is the person's own ('Continue') or not ('Start again'):
// on a shared computer it may be someone else's.
type ResumePage struct {
	Page
	Action      string
	Request     string // the new sign-in request, posted back as FieldRequest
	MaskedEmail string // whose journey it is, masked
}

// MessagePage is a page of text with an optional way on: errors that end
// a journey (an unknown client or redirect URI, a locked account, a timed
// out session, a page not found). Title is the heading. The constructors
// below hold the standard wordings.
type MessagePage struct {
	Page
	Paragraphs []string
	// ButtonText and ButtonURL give a button link (a GET) when both are set.
	ButtonText string
	ButtonURL  string
	// Form, when set, is a POST form with one button, shown before the link
	// (a question such as "Do you want to sign out?" with 'Cancel' as the link).
	Form *MessageForm
	// LinkText and LinkURL give a plain link when both are set.
	LinkText string
	LinkURL  string
}

// MessageForm is the one-button form of a MessagePage.
type MessageForm struct {
	Action string
	Button string
	Hidden []HiddenField
}

// HiddenField is a hidden input of a form.
type HiddenField struct {
	Name, Value string
}

// DevInboxPage lists the messages captured in development mode, newest
// first.
type DevInboxPage struct {
	Page
	Items []DevItem
}

// DevItem is one captured email, text message or voice call.
type DevItem struct {
	ID        string
	Channel   string // "email", "sms" or "voice"
	To        string
	Subject   string // empty for sms and voice
	Body      string
	Code      string // the one-time code in the message, if any
	CreatedAt time.Time
	// CallPending shows the 'Press # on the call' button, which posts
	// FieldDigits="#" to /dev/calls/{ID}/keypress.
	CallPending bool
}

// HelpPage is 'Problems signing in': what to do when codes or calls do not
// arrive, a phone is lost, an account is locked or an email address has
// changed. The contact details come from Options.Contact.
type HelpPage struct {
	Page
	// CodeMinutes is how long a code sent by email or text message works.
	CodeMinutes int
	// ResetPasswordURL, when set, links 'reset your password' (for a locked
	// account); empty points to the Sign In page's 'Forgot your password?'.
	ResetPasswordURL string
}

// CookiesPage lists every cookie the service sets. They are all strictly
// necessary, so there is nothing to accept or refuse and no banner.
type CookiesPage struct {
	Page
	Cookies []CookieInfo
}

// CookieInfo is one row of the cookies page.
type CookieInfo struct {
	Name    string // as the browser shows it: "__Host-idp_journey"
	Purpose string
	Expires string // "When you close your browser", "1 year"
}

// ContactPage shows the council's help desk (Options.Contact).
type ContactPage struct {
	Page
}

// LostPhonePage is reached from 'I cannot use this phone number' on the
// phone check: what to do without the phone, and what the help desk will
// check before it resets the account's phone.
type LostPhonePage struct {
	Page
	// RecoveryAction, when set, is where 'Change your phone number yourself'
	// posts (the council allows it, in a sign-in after the password), and
	// RecoveryWait how long the new number waits ("72 hours").
	RecoveryAction string
	RecoveryWait   string
}
