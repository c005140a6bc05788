package journey

import (
	"log/slog"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/phone"
)

// Effect is something the caller must do for a transition: send a message, write to
// the store, finish the authorization request. Effects carry the only copies of plain
// codes and passwords; their String and LogValue methods leave those out.
type Effect interface {
	isEffect()
}

// Query is an effect whose outcome the machine needs before it can go on. The caller
// performs it and applies the answer event named in its comment before saving the
// state; Drive does exactly that. While a query is unanswered the state awaits it.
type Query interface {
	Effect
	// Answers is the kind of event that answers this query.
	Answers() EventKind
}

// LookUpAccount asks whether an account has this email. Answer: AccountLookedUp.
type LookUpAccount struct{ Email string }

// CheckPassword asks the caller to check a password. Answer: PasswordChecked. The
// caller owns the lockout: it counts consecutive failures (store.Users), locks with
// Policy.LockedUntil, refuses a locked account even with the right password, answers
// PasswordWrong for an unknown or disabled account (after spending the same time
// hashing), and resets the failure count on success. It also owns the throttles
// of idp/limits (per network, per journey: Failures is this journey's count of
// wrong passwords so far), answering PasswordThrottled when one refuses.
type CheckPassword struct {
	Email    string
	Password string
	Failures int
}

// CreateUser asks the caller to create the account (email verified, no phone yet),
// hashing Password. Answer: UserCreated. On store.ErrConflict (a double-submitted
// 'Create' raced another request) the caller discards this state and reloads the
// journey, which the winning request has already moved on.
type CreateUser struct {
	Email      string
	GivenName  string
	FamilyName string
	Password   string
}

// CheckSendBudget asks whether the durable budgets (limits.Sends: per address or
// number, per client network, and per account while it enrols a number) allow one
// more message on Channel to To. The caller counts the message in the same step
// (store.Counters). Answer: SendBudgetChecked.
type CheckSendBudget struct {
	Channel factors.Channel
	To      string
	// UserID is the account, once known; every text and call has one.
	UserID string
	// Enrolment: a text or call to a number that is not the account's verified
	// one (sign-up, an account without a phone, a change of number). The account's
	// enrolment budgets apply.
	Enrolment bool
}

// CodeFactor is what a code proves: Channel (email or sms) to To (the email
// address as typed, or the number in E.164) for the account UserID, empty when
// the journey knows no account (a sign-up before 'Create'). Wrong codes are
// counted against the destination and, when there is one, the account.
type CodeFactor struct {
	Channel factors.Channel
	To      string
	UserID  string
}

// CheckCodeGuesses asks, before a code typed for Factor is checked, whether
// too many wrong codes across journeys have locked the destination or the
// account. Answer: CodeGuessesChecked. The caller owns the count (a durable
// run of consecutive failures per destination and per account, which a
// flush of the ephemeral store does not reset) and the rule (limits.CodeGuesses).
//
// The typed code is not in the query: the caller never sees it. The journey
// keeps it in memory until the answer (State.guess) and checks it only when
// the answer says the factor is not locked.
type CheckCodeGuesses struct{ Factor CodeFactor }

// RecordWrongCode asks the caller to count a wrong code for Factor against
// the destination and the account. Answer: WrongCodeRecorded, saying whether
// this one locked the factor.
type RecordWrongCode struct{ Factor CodeFactor }

// ResetWrongCodes: a right code for Factor ends the runs of wrong codes of the
// destination and the account. A durable write, made before the journey moves on.
type ResetWrongCodes struct{ Factor CodeFactor }

// EmailPurpose says which email a code goes in.
type EmailPurpose string

const (
	EmailVerifyAddress EmailPurpose = "verify_address" // '<Org> account email verification code'
	EmailResetPassword EmailPurpose = "reset_password"
	EmailRecoverPhone  EmailPurpose = "recover_phone" // changing a lost phone number
)

// SendEmailCode: email Code to To.
type SendEmailCode struct {
	To      string
	Code    string
	Purpose EmailPurpose
}

// SendAccountExistsEmail: tell To that it already has an account (with a sign-in and
// password-reset hint) instead of sending a sign-up code. The journey then looks the
// same as for a new address, so the page reveals nothing.
type SendAccountExistsEmail struct{ To string }

// SendSMSCode: text Code to To (E.164). Verified: To is the account's verified
// number (a challenge), so the text counts against the share of the daily ceiling
// kept for verified numbers (factors.SMS.Verified).
type SendSMSCode struct {
	To       string
	Code     string
	Verified bool
}

// PlaceCall: call To (E.164) and ask for #; report the outcome as CallOutcome{CallID}.
// Verified as for SendSMSCode.
type PlaceCall struct {
	To       string
	CallID   string
	Verified bool
}

// SetPhone: store Number as the user's verified phone.
type SetPhone struct {
	UserID string
	Number string
	Type   phone.Type
}

// RequestPhoneChange: store Number as the user's pending phone, taking effect
// at EffectiveAt, with the email that announces it to the account and the
// audit event phone.recovery_requested (store.PendingPhones), before the page
// says so.
type RequestPhoneChange struct {
	UserID      string
	Number      string
	Type        phone.Type
	EffectiveAt time.Time
}

// CancelPhoneChange: drop the user's pending phone change, if any, with the
// audit event phone.recovery_cancelled naming Reason: the person proved the
// account's phone, so they have it.
type CancelPhoneChange struct {
	UserID string
	Reason string
}

// SetPassword: hash Password and store it as the user's password.
type SetPassword struct {
	UserID   string
	Password string
}

// UnlockAccount: reset the user's wrong-password count and lockout.
type UnlockAccount struct{ UserID string }

// RevokeRefreshTokens: revoke every refresh token of the user.
type RevokeRefreshTokens struct{ UserID string }

// CompleteAuth: the journey is over; the person is UserID and proved AMR (RFC 8176
// values: "pwd", "sms", "tel") at AuthTime. AuthRequestID is empty for a journey
// started from the account pages rather than by a relying party.
type CompleteAuth struct {
	AuthRequestID string
	UserID        string
	AMR           []string
	AuthTime      time.Time
}

// Audit: append an audit event. Detail never holds a code or password.
type Audit struct {
	Kind   string
	UserID string
	Detail string
}

func (LookUpAccount) isEffect()          {}
func (CheckPassword) isEffect()          {}
func (CreateUser) isEffect()             {}
func (CheckSendBudget) isEffect()        {}
func (CheckCodeGuesses) isEffect()       {}
func (RecordWrongCode) isEffect()        {}
func (ResetWrongCodes) isEffect()        {}
func (SendEmailCode) isEffect()          {}
func (SendAccountExistsEmail) isEffect() {}
func (SendSMSCode) isEffect()            {}
func (PlaceCall) isEffect()              {}
func (SetPhone) isEffect()               {}
func (RequestPhoneChange) isEffect()     {}
func (CancelPhoneChange) isEffect()      {}
func (SetPassword) isEffect()            {}
func (UnlockAccount) isEffect()          {}
func (RevokeRefreshTokens) isEffect()    {}
func (CompleteAuth) isEffect()           {}
func (Audit) isEffect()                  {}

func (LookUpAccount) Answers() EventKind   { return EventAccountLookedUp }
func (CheckPassword) Answers() EventKind   { return EventPasswordChecked }
func (CreateUser) Answers() EventKind      { return EventUserCreated }
func (CheckSendBudget) Answers() EventKind { return EventSendBudgetChecked }

func (CheckCodeGuesses) Answers() EventKind { return EventCodeGuessesChecked }
func (RecordWrongCode) Answers() EventKind  { return EventWrongCodeRecorded }

// Effects carrying a secret print and log without it.

func (e CheckPassword) String() string { return "CheckPassword{Email:" + e.Email + "}" }
func (e CreateUser) String() string    { return "CreateUser{Email:" + e.Email + "}" }
func (e SendEmailCode) String() string {
	return "SendEmailCode{To:" + e.To + " Purpose:" + string(e.Purpose) + "}"
}
func (e SendSMSCode) String() string { return "SendSMSCode{To:" + e.To + "}" }
func (e SetPassword) String() string { return "SetPassword{UserID:" + e.UserID + "}" }

func (e CheckPassword) LogValue() slog.Value { return slog.StringValue(e.String()) }
func (e CreateUser) LogValue() slog.Value    { return slog.StringValue(e.String()) }
func (e SendEmailCode) LogValue() slog.Value { return slog.StringValue(e.String()) }
func (e SendSMSCode) LogValue() slog.Value   { return slog.StringValue(e.String()) }
func (e SetPassword) LogValue() slog.Value   { return slog.StringValue(e.String()) }
