package journey

import (
	"fmt"

	"github.com/councilforms/idp/factors"
)

// Email, verification code and details pages of sign-up, and the email pages of a
// password reset, which work the same way.

func submitEmail(t *tx, e Event) error {
	email := t.validEmail(e.(SubmitEmail).Email)
	if t.hasErrors() {
		return nil
	}
	t.s.Email = email
	t.ask(LookUpAccount{Email: email})
	return nil
}

func accountLookedUp(t *tx, e Event) error {
	a := e.(AccountLookedUp).Account
	s := t.s
	s.EmailHasAccount = a != nil
	if s.Kind == KindForgotPassword {
		t.adoptAccount(a)
		return t.requestSend(factors.ChannelEmail, StepForgotEmailCode)
	}
	t.adoptAccount(nil) // sign-up never signs in to an existing account
	return t.requestSend(factors.ChannelEmail, StepSignUpEmailCode)
}

// submitEmailCode starts the check of a typed code (codes.go); a right one
// proves the email address (emailProven).
func submitEmailCode(t *tx, e Event) error {
	return t.submitCode(e.(SubmitEmailCode).Code)
}

func resendEmailCode(t *tx, _ Event) error {
	return t.requestSend(factors.ChannelEmail, t.s.Step)
}

func changeEmail(t *tx, _ Event) error {
	if t.s.EmailCode != nil {
		t.s.EmailCode.Hash = "" // a code for the old address must not verify the new one
	}
	if t.s.Kind == KindForgotPassword {
		t.goTo(StepForgotEmail)
	} else {
		t.goTo(StepSignUpEmail)
	}
	return nil
}

func continueToDetails(t *tx, _ Event) error {
	t.goTo(StepSignUpDetails)
	return nil
}

func submitDetails(t *tx, e Event) error {
	ev := e.(SubmitDetails)
	given := t.validName(FieldGivenName, ev.GivenName, MsgEnterGivenName, MsgGivenNameTooLong)
	family := t.validName(FieldFamilyName, ev.FamilyName, MsgEnterFamilyName, MsgFamilyNameTooLong)
	t.checkNewPassword(ev.Password, ev.Confirm)
	if t.hasErrors() {
		return nil
	}
	t.ask(CreateUser{Email: t.s.Email, GivenName: given, FamilyName: family, Password: ev.Password})
	return nil
}

func userCreated(t *tx, e Event) error {
	id := e.(UserCreated).UserID
	if id == "" {
		return fmt.Errorf("journey: %s: user created without an id", t.s.ID)
	}
	t.s.UserID = id
	t.s.prove(AMRPassword)
	return t.advance(accountCreated)
}

func submitNewPassword(t *tx, e Event) error {
	ev := e.(SubmitNewPassword)
	if t.s.UserID == "" {
		return refuse(t.s, EventSubmitNewPassword, "no account in this journey")
	}
	t.checkNewPassword(ev.Password, ev.Confirm)
	if t.hasErrors() {
		return nil
	}
	id := t.s.UserID
	t.effect(SetPassword{UserID: id, Password: ev.Password},
		UnlockAccount{UserID: id},
		RevokeRefreshTokens{UserID: id},
		Audit{Kind: "password.reset", UserID: id, Detail: "password reset; refresh tokens revoked"})
	t.s.prove(AMRPassword)
	return t.advance(passwordReset)
}
