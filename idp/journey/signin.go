package journey

import (
	"fmt"

	"github.com/councilforms/idp/factors"
)

// Sign-in page handlers, and the switches to sign-up and password reset.

func submitSignIn(t *tx, e Event) error {
	ev := e.(SubmitSignIn)
	email := t.validEmail(ev.Email)
	if ev.Password == "" {
		t.fieldError(FieldPassword, MsgEnterPassword)
	}
	if t.hasErrors() {
		return nil
	}
	t.s.Email = email
	t.ask(CheckPassword{Email: email, Password: ev.Password, Failures: t.s.PasswordFailures})
	return nil
}

func passwordChecked(t *tx, e Event) error {
	ev := e.(PasswordChecked)
	switch ev.Result {
	case PasswordOK:
		if ev.Account == nil || ev.Account.UserID == "" {
			return fmt.Errorf("journey: %s: password accepted without an account", t.s.ID)
		}
		t.adoptAccount(ev.Account)
		t.s.prove(AMRPassword)
		return t.advance(passwordAccepted)
	case PasswordLocked:
		t.s.PasswordFailures++
		t.fieldError(FieldEmail, msgLocked(ev.LockedUntil, t.now, t.m.policy.ContactText))
	case PasswordThrottled:
		t.fieldError(FieldEmail, msgThrottled(ev.RetryAfter))
	case PasswordUnavailable:
		t.goTo(StepPasswordUnavailable)
	case PasswordNewRequired:
		if ev.Account == nil || ev.Account.UserID == "" {
			return fmt.Errorf("journey: %s: a new password asked for without an account", t.s.ID)
		}
		t.adoptAccount(ev.Account)
		t.goTo(StepNewService)
	default:
		t.s.PasswordFailures++
		t.fieldError(FieldEmail, MsgSignInIncorrect)
	}
	return nil
}

// setNewPassword: 'Continue' on the page saying the council has moved to a new
// sign-in service. The rest is a password reset for the account the sign-in found:
// a code to its email address, the phone challenge on its number (or, without
// one, enrolment after the new password), then the new password.
func setNewPassword(t *tx, _ Event) error {
	s := t.s
	if s.UserID == "" {
		return refuse(s, EventContinue, "no account in this journey")
	}
	s.Kind, s.EmailHasAccount, s.AMR = KindForgotPassword, true, nil
	return t.requestSend(factors.ChannelEmail, StepForgotEmailCode)
}

func startSignUp(t *tx, _ Event) error {
	t.switchKind(KindSignUp)
	t.goTo(StepSignUpEmail)
	return nil
}

func startForgotPassword(t *tx, _ Event) error {
	t.switchKind(KindForgotPassword)
	t.goTo(StepForgotEmail)
	return nil
}

func goToSignIn(t *tx, _ Event) error {
	t.switchKind(KindSignIn)
	t.goTo(StepSignIn)
	return nil
}

// switchKind starts another flow from the sign-in side: nothing proven or learnt about
// an account carries over. The email code is kept, dead, so that the next email counts
// as a resend: going back and forth does not buy free messages.
func (t *tx) switchKind(k Kind) {
	s := t.s
	s.Kind = k
	s.EmailHasAccount = false
	t.adoptAccount(nil)
	s.AMR = nil
	if s.EmailCode != nil {
		s.EmailCode.Hash = ""
	}
}

// adoptAccount records who the account is and its phone for the challenge; nil forgets.
func (t *tx) adoptAccount(a *Account) {
	s := t.s
	s.UserID, s.AccountPhone, s.AccountPhoneType, s.PhoneChangePending = "", "", "", false
	if a == nil {
		return
	}
	s.UserID, s.PhoneChangePending = a.UserID, a.PhoneChangePending
	if a.hasPhone() {
		s.AccountPhone, s.AccountPhoneType = a.Phone, a.PhoneType
	}
}

// startPhoneRecovery: 'Change your phone number yourself' on the lost-phone
// page. Only a sign-in whose password was accepted, and whose account has a
// phone to be challenged on, may take this route, and only when the council
// has turned it on. The code goes to the account's address (the one the
// password was accepted for).
func startPhoneRecovery(t *tx, _ Event) error {
	s := t.s
	if !t.m.policy.PhoneRecovery {
		return refuse(s, EventStartPhoneRecovery, "changing a lost phone number is turned off")
	}
	if s.Kind != KindSignIn || !s.Proved(AMRPassword) || s.UserID == "" || s.AccountPhone == "" {
		return refuse(s, EventStartPhoneRecovery, "not a sign-in whose password was accepted")
	}
	// A code or call of the challenge stays in the state, for the challenge
	// to go on if the email is refused; recovery_email_code accepts neither,
	// and the enrolment after it starts a proof of its own.
	s.Kind, s.EmailHasAccount = KindRecoverPhone, true
	return t.requestSend(factors.ChannelEmail, StepRecoveryEmailCode)
}

// phoneRecoveryRequested: the new number is proven. It is stored as pending
// and announced by email; nothing from this journey signs in, since the
// account's phone was not proven.
func (t *tx) phoneRecoveryRequested() error {
	s := t.s
	s.RecoveryAt = t.now.Add(t.m.policy.PhoneRecoveryWait)
	t.effect(RequestPhoneChange{UserID: s.UserID, Number: s.Phone, Type: s.PhoneType, EffectiveAt: s.RecoveryAt})
	t.resetPhoneProof()
	s.EmailCode, s.AMR = nil, nil
	t.goTo(StepRecoveryPending)
	return nil
}
