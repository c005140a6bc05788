package journey

import (
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/phone"
)

// EventKind names an event; the transition table is keyed by it.
type EventKind string

const (
	// Built from what the person did on a page.
	EventStartSignUp         EventKind = "start_sign_up"
	EventStartForgotPassword EventKind = "start_forgot_password"
	EventStartPhoneRecovery  EventKind = "start_phone_recovery"
	EventGoToSignIn          EventKind = "go_to_sign_in"
	EventSubmitSignIn        EventKind = "submit_sign_in"
	EventSubmitEmail         EventKind = "submit_email"
	EventSubmitEmailCode     EventKind = "submit_email_code"
	EventResendEmailCode     EventKind = "resend_email_code"
	EventChangeEmail         EventKind = "change_email"
	EventContinue            EventKind = "continue"
	EventSubmitDetails       EventKind = "submit_details"
	EventSubmitPhone         EventKind = "submit_phone"
	EventChooseMethod        EventKind = "choose_method"
	EventSubmitSMSCode       EventKind = "submit_sms_code"
	EventResendSMSCode       EventKind = "resend_sms_code"
	EventChangePhoneNumber   EventKind = "change_phone_number"
	EventBackToPhoneChoice   EventKind = "back_to_phone_choice"
	EventSubmitNewPassword   EventKind = "submit_new_password"

	// Answers to Query effects, fed back by the caller (Drive does it). Never build
	// these from form input.
	EventAccountLookedUp   EventKind = "account_looked_up"
	EventPasswordChecked   EventKind = "password_checked"
	EventUserCreated       EventKind = "user_created"
	EventSendBudgetChecked EventKind = "send_budget_checked"
	// The two answers of a code's check: is the factor locked, and did this
	// wrong code lock it.
	EventCodeGuessesChecked EventKind = "code_guesses_checked"
	EventWrongCodeRecorded  EventKind = "wrong_code_recorded"

	// Reported by the call simulator or the voice provider's webhook.
	EventCallOutcome EventKind = "call_outcome"

	// Reported by the caller when the text a SendSMSCode asked for could not be
	// sent (the provider refused it, or the daily ceiling stopped it).
	EventSMSNotSent EventKind = "sms_not_sent"
)

// EventKinds lists every event kind.
var EventKinds = []EventKind{
	EventStartSignUp, EventStartForgotPassword, EventStartPhoneRecovery, EventGoToSignIn, EventSubmitSignIn,
	EventSubmitEmail, EventSubmitEmailCode, EventResendEmailCode, EventChangeEmail,
	EventContinue, EventSubmitDetails, EventSubmitPhone, EventChooseMethod,
	EventSubmitSMSCode, EventResendSMSCode, EventChangePhoneNumber, EventBackToPhoneChoice, EventSubmitNewPassword,
	EventAccountLookedUp, EventPasswordChecked, EventUserCreated, EventSendBudgetChecked,
	EventCodeGuessesChecked, EventWrongCodeRecorded,
	EventCallOutcome, EventSMSNotSent,
}

// isAnswer reports whether k answers a Query: such events are accepted only while the
// state awaits exactly that answer.
func isAnswer(k EventKind) bool {
	switch k {
	case EventAccountLookedUp, EventPasswordChecked, EventUserCreated, EventSendBudgetChecked,
		EventCodeGuessesChecked, EventWrongCodeRecorded:
		return true
	}
	return false
}

// Event is something that happened to a journey. The concrete types below are the
// only implementations.
type Event interface {
	Kind() EventKind
}

// Method is how a phone proves itself: a code by text or a call answered with #.
type Method string

const (
	MethodSMS  Method = "sms"  // 'Send Code'
	MethodCall Method = "call" // 'Call Me'
)

// StartSignUp: 'Sign up now' on the sign-in page.
type StartSignUp struct{}

// StartForgotPassword: 'Forgot your password?' on the sign-in page.
type StartForgotPassword struct{}

// StartPhoneRecovery: 'Change your phone number yourself' on the lost-phone
// page, reached from the phone challenge of a sign-in after the password.
type StartPhoneRecovery struct{}

// GoToSignIn: the back link from the first sign-up or password-reset page.
type GoToSignIn struct{}

// SubmitSignIn: 'Sign in' with an email address and password.
type SubmitSignIn struct {
	Email    string
	Password string
}

// SubmitEmail: 'Send verification code' (sign-up) or the email page of a password reset.
type SubmitEmail struct{ Email string }

// SubmitEmailCode: 'Verify code' with what was typed in 'Verification code'.
type SubmitEmailCode struct{ Code string }

// ResendEmailCode: 'Send a new code' on the email code page.
type ResendEmailCode struct{}

// ChangeEmail: 'Change email address' on the email code page.
type ChangeEmail struct{}

// Continue: 'Continue' after the email is verified, and the 'Continue' (or a
// reload) of a page waiting for a call (it notices a call that was never answered).
type Continue struct{}

// SubmitDetails: 'Create' with the person's names and chosen password.
type SubmitDetails struct {
	GivenName  string
	FamilyName string
	Password   string
	Confirm    string
}

// SubmitPhone: a phone number with 'Send Code' (MethodSMS) or 'Call Me' (MethodCall).
type SubmitPhone struct {
	Number string // as typed; Policy.Phone parses it
	Method Method
}

// ChooseMethod: 'Send Code' or 'Call Me' on a challenge or confirmation page, or a
// switch of method from a code or call page ('Call me instead').
type ChooseMethod struct{ Method Method }

// SubmitSMSCode: the code from a text message.
type SubmitSMSCode struct{ Code string }

// ResendSMSCode: 'Send a new code' on a text-message code page.
type ResendSMSCode struct{}

// ChangePhoneNumber: 'Change phone number' during enrolment: back to the number page.
type ChangePhoneNumber struct{}

// BackToPhoneChoice: 'Back' from a code or a call of a known number (the
// confirmation after enrolment, the check at sign-in or reset) to the page that
// offers 'Send Code' and 'Call Me'.
type BackToPhoneChoice struct{}

// SubmitNewPassword: the new password at the end of a password reset.
type SubmitNewPassword struct {
	Password string
	Confirm  string
}

// Account is what the store knows about a person, as far as journeys need it; the
// caller fills it from its own record of the account.
type Account struct {
	UserID        string
	Phone         string // E.164; empty when none
	PhoneType     phone.Type
	PhoneVerified bool
	// PhoneChangePending: a number the person changed themselves waits to
	// replace Phone (Policy.PhoneRecovery); proving Phone cancels it.
	PhoneChangePending bool
}

// hasPhone reports whether the account has a verified phone to challenge.
func (a *Account) hasPhone() bool {
	return a != nil && a.Phone != "" && a.PhoneVerified
}

// AccountLookedUp answers LookUpAccount. Account is nil when no account has that email.
type AccountLookedUp struct{ Account *Account }

// PasswordResult is the outcome of a password check.
type PasswordResult string

const (
	PasswordOK     PasswordResult = "ok"
	PasswordWrong  PasswordResult = "wrong"  // or no such account, or a disabled one
	PasswordLocked PasswordResult = "locked" // too many wrong passwords; see LockedUntil
	// PasswordThrottled: too many wrong passwords from this network; nothing was
	// checked. See RetryAfter.
	PasswordThrottled PasswordResult = "throttled"
	// PasswordUnavailable: the account was imported from Azure AD B2C and has no
	// password here yet, and B2C, which must check this first password, could not
	// be asked (unreachable, slow, an error). Nothing was counted or stored.
	PasswordUnavailable PasswordResult = "unavailable"
	// PasswordNewRequired: the account was imported and has no password here,
	// and its old service cannot check one (no B2C settings, or an account from
	// another instance's export): the person sets a new password, proving the
	// imported email address and phone first. Account is set.
	PasswordNewRequired PasswordResult = "new_password"
)

// PasswordChecked answers CheckPassword.
type PasswordChecked struct {
	Result      PasswordResult
	Account     *Account      // set when Result is PasswordOK or PasswordNewRequired
	LockedUntil time.Time     // set when Result is PasswordLocked
	RetryAfter  time.Duration // set when Result is PasswordThrottled
}

// UserCreated answers CreateUser with the new account's id.
type UserCreated struct{ UserID string }

// SendBudgetChecked answers CheckSendBudget: whether the durable budgets allow one
// more message, and if not, which one refused it and when to retry.
type SendBudgetChecked struct {
	Allowed    bool
	RetryAfter time.Duration
	Reason     SendRefusal
}

// SendRefusal says which budget refused a message.
type SendRefusal string

const (
	// RefusedBusy: a budget of the email address or number, or of the client
	// network: the person waits RetryAfter.
	RefusedBusy SendRefusal = ""
	// RefusedNewNumbers: the account tried too many different numbers not yet
	// verified today; the person is told to contact the council.
	RefusedNewNumbers SendRefusal = "new_numbers"
	// RefusedEnrolmentSends: the account was sent too many codes to numbers not
	// yet verified today; the person is told to contact the council.
	RefusedEnrolmentSends SendRefusal = "enrolment_sends"
)

// CodeGuessesChecked answers CheckCodeGuesses. LockedUntil is when the factor
// unlocks (in the time zone people read, as it is shown to them), the zero
// time when it is not locked; while it is, the code typed is not checked.
type CodeGuessesChecked struct{ LockedUntil time.Time }

// WrongCodeRecorded answers RecordWrongCode. LockedUntil is set when this
// wrong code locked the factor, as for CodeGuessesChecked.
type WrongCodeRecorded struct{ LockedUntil time.Time }

// CallOutcome is how a call placed by PlaceCall ended.
type CallOutcome struct {
	CallID string
	Result factors.CallResult
}

func (StartSignUp) Kind() EventKind         { return EventStartSignUp }
func (StartForgotPassword) Kind() EventKind { return EventStartForgotPassword }
func (StartPhoneRecovery) Kind() EventKind  { return EventStartPhoneRecovery }
func (GoToSignIn) Kind() EventKind          { return EventGoToSignIn }
func (SubmitSignIn) Kind() EventKind        { return EventSubmitSignIn }
func (SubmitEmail) Kind() EventKind         { return EventSubmitEmail }
func (SubmitEmailCode) Kind() EventKind     { return EventSubmitEmailCode }
func (ResendEmailCode) Kind() EventKind     { return EventResendEmailCode }
func (ChangeEmail) Kind() EventKind         { return EventChangeEmail }
func (Continue) Kind() EventKind            { return EventContinue }
func (SubmitDetails) Kind() EventKind       { return EventSubmitDetails }
func (SubmitPhone) Kind() EventKind         { return EventSubmitPhone }
func (ChooseMethod) Kind() EventKind        { return EventChooseMethod }
func (SubmitSMSCode) Kind() EventKind       { return EventSubmitSMSCode }
func (ResendSMSCode) Kind() EventKind       { return EventResendSMSCode }
func (ChangePhoneNumber) Kind() EventKind   { return EventChangePhoneNumber }
func (BackToPhoneChoice) Kind() EventKind   { return EventBackToPhoneChoice }
func (SubmitNewPassword) Kind() EventKind   { return EventSubmitNewPassword }
func (AccountLookedUp) Kind() EventKind     { return EventAccountLookedUp }
func (PasswordChecked) Kind() EventKind     { return EventPasswordChecked }
func (UserCreated) Kind() EventKind         { return EventUserCreated }
func (SendBudgetChecked) Kind() EventKind   { return EventSendBudgetChecked }
func (CodeGuessesChecked) Kind() EventKind  { return EventCodeGuessesChecked }
func (WrongCodeRecorded) Kind() EventKind   { return EventWrongCodeRecorded }
func (CallOutcome) Kind() EventKind         { return EventCallOutcome }

// SMSNotSent: the text message of the current code step was not sent. Message
// says why and what to do instead ("Select 'Call Me'"), in GOV.UK style.
type SMSNotSent struct{ Message string }

func (SMSNotSent) Kind() EventKind { return EventSMSNotSent }

// Events carrying a password print without it.
func (e SubmitSignIn) String() string      { return "SubmitSignIn{Email:" + e.Email + "}" }
func (e SubmitDetails) String() string     { return "SubmitDetails{}" }
func (e SubmitNewPassword) String() string { return "SubmitNewPassword{}" }
