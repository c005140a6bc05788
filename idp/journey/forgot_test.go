package journey

import (
	"slices"

	"testing"
	"time"

	"github.com/councilforms/idp/factors"
)

func TestForgotPassword(t *testing.T) {
	w := newWorld(t, nil)
	a := w.addUser("ada@example.com", "old password", mobile)
	s := w.m.NewSignIn("j-3", "ar-3", w.now)
	s = w.must(s, StartForgotPassword{})
	wantStep(t, s, StepForgotEmail)
	s = w.wantErr(s, SubmitEmail{Email: "ada@"}, FieldEmail, MsgEmailFormat)
	s = w.must(s, SubmitEmail{Email: "ada@example.com"})
	wantStep(t, s, StepForgotEmailCode)
	sent := w.lastEmailCode()
	if sent.Purpose != EmailResetPassword || sent.To != "ada@example.com" {
		t.Fatalf("reset email %+v", sent)
	}
	s = w.wantErr(s, SubmitEmailCode{Code: "000000"}, FieldCode, MsgCodeWrong)
	s = w.must(s, ResendEmailCode{})
	s = w.must(s, SubmitEmailCode{Code: w.lastEmailCode().Code})
	wantStep(t, s, StepChallenge)
	if s.Phone != a.Phone {
		t.Fatal("challenge not on the account's phone")
	}
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepForgotNewPassword)
	n, res := w.do(s, SubmitNewPassword{Password: "new password", Confirm: "new passwort"})
	wantFields(t, res.Errors, FieldConfirm)
	wantStep(t, n, StepForgotNewPassword)
	_, res = w.do(s, SubmitNewPassword{})
	wantFields(t, res.Errors, FieldPassword, FieldConfirm)
	if w.count(func(e Effect) bool { _, ok := e.(SetPassword); return ok }) != 0 {
		t.Fatal("password set despite mistakes")
	}
	s, res = w.do(s, SubmitNewPassword{Password: "new password", Confirm: "new password"})
	wantStep(t, s, StepDone)
	want := []Effect{
		SetPassword{UserID: a.UserID, Password: "new password"},
		UnlockAccount{UserID: a.UserID},
		RevokeRefreshTokens{UserID: a.UserID},
	}
	if !slices.Equal(res.Effects[:3], want) {
		t.Fatalf("effects %#v", res.Effects)
	}
	if done := w.completion(); done.UserID != a.UserID || !slices.Equal(done.AMR, []string{"pwd", "sms"}) {
		t.Fatalf("completion %+v", done)
	}
}

func TestForgotPasswordByCall(t *testing.T) {
	w := newWorld(t, nil)
	w.addUser("lin@example.com", "old password", landline)
	s := w.m.NewSignIn("j-3", "ar-3", w.now)
	s = w.must(s, StartForgotPassword{})
	s = w.must(s, SubmitEmail{Email: "lin@example.com"})
	s = w.must(s, SubmitEmailCode{Code: w.lastEmailCode().Code})
	s = w.must(s, ChooseMethod{Method: MethodCall})
	s = w.must(s, confirmCall(w.lastCall().CallID))
	wantStep(t, s, StepForgotNewPassword)
	s = w.must(s, SubmitNewPassword{Password: "new password", Confirm: "new password"})
	wantStep(t, s, StepDone)
	if done := w.completion(); !slices.Equal(done.AMR, []string{"pwd", "tel"}) {
		t.Fatalf("amr %v", done.AMR)
	}
}

// An account that never enrolled a phone: the reset sets the password, then enrols.
func TestForgotPasswordWithoutPhone(t *testing.T) {
	w := newWorld(t, func(p *Policy) { p.PhoneConfirmTwice = false })
	a := w.addUser("ada@example.com", "old password", "")
	s := w.m.NewSignIn("j-3", "ar-3", w.now)
	s = w.must(s, StartForgotPassword{})
	s = w.must(s, SubmitEmail{Email: "ada@example.com"})
	s = w.must(s, SubmitEmailCode{Code: w.lastEmailCode().Code})
	wantStep(t, s, StepForgotNewPassword)
	s = w.must(s, SubmitNewPassword{Password: "new password", Confirm: "new password"})
	wantStep(t, s, StepPhoneEnter)
	if w.count(func(e Effect) bool { _, ok := e.(CompleteAuth); return ok }) != 0 {
		t.Fatal("completed without a phone")
	}
	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepDone)
	if done := w.completion(); done.UserID != a.UserID {
		t.Fatalf("completion %+v", done)
	}
}

// An unknown address: nothing is sent, and the pages are the same.
func TestForgotPasswordUnknownAddress(t *testing.T) {
	w := newWorld(t, nil)
	s := w.m.NewSignIn("j-3", "ar-3", w.now)
	s = w.must(s, StartForgotPassword{})
	s, res := w.do(s, SubmitEmail{Email: "nobody@example.com"})
	wantStep(t, s, StepForgotEmailCode)
	if len(res.Effects) != 0 || len(res.Errors) != 0 || res.Sent != factors.ChannelEmail {
		t.Fatalf("effects %#v errors %v sent %q: must look like a sent code", res.Effects, res.Errors, res.Sent)
	}
	s = w.wantErr(s, SubmitEmailCode{Code: "100001"}, FieldCode, MsgCodeWrong)
	wantStep(t, s, StepForgotEmailCode)
	// Changing the address, going back to sign in.
	s = w.must(s, ChangeEmail{})
	wantStep(t, s, StepForgotEmail)
	s = w.must(s, GoToSignIn{})
	wantStep(t, s, StepSignIn)
	if s.Kind != KindSignIn {
		t.Fatalf("kind %s", s.Kind)
	}
}

func TestForgotPasswordBudgets(t *testing.T) {
	w := newWorld(t, nil)
	w.addUser("ada@example.com", "old password", mobile)
	s := w.m.NewSignIn("j-3", "ar-3", w.now)
	s = w.must(s, StartForgotPassword{})
	w.deny = true
	s = w.wantErr(s, SubmitEmail{Email: "ada@example.com"}, FieldEmail, msgSendRefused(30*time.Minute))
	wantStep(t, s, StepForgotEmail)
	w.deny = false
	s = w.must(s, SubmitEmail{Email: "ada@example.com"})
	w.deny = true
	s = w.wantErr(s, ResendEmailCode{}, FieldCode, msgSendRefused(30*time.Minute))
	wantStep(t, s, StepForgotEmailCode)
	for range 5 {
		w.deny = false
		s = w.must(s, ResendEmailCode{})
	}
	s = w.wantErr(s, ResendEmailCode{}, FieldCode, msgTooManyResends(15*time.Minute))
	s = w.must(s, ChangeEmail{})
	s = w.wantErr(s, SubmitEmail{Email: "ada@example.com"}, FieldEmail, msgTooManyResends(15*time.Minute))
	wantStep(t, s, StepForgotEmail)
	w.now = w.now.Add(15 * time.Minute)
	s = w.must(s, SubmitEmail{Email: "ada@example.com"})
	s = w.must(s, SubmitEmailCode{Code: w.lastEmailCode().Code})

	// Challenge stage budgets.
	refused := msgSendRefused(30 * time.Minute)
	w.deny = true
	s = w.wantErr(s, ChooseMethod{Method: MethodSMS}, FieldMethod, refused)
	s = w.wantErr(s, ChooseMethod{Method: MethodCall}, FieldMethod, refused)
	wantStep(t, s, StepChallenge)
	w.deny = false
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	w.deny = true
	s = w.wantErr(s, ResendSMSCode{}, FieldCode, refused)
	s = w.wantErr(s, ChooseMethod{Method: MethodCall}, FieldCode, refused)
	wantStep(t, s, StepChallengeSMSCode)
	w.deny = false
	s = w.must(s, ChooseMethod{Method: MethodCall})
	w.deny = true
	s = w.wantErr(s, ChooseMethod{Method: MethodCall}, FieldMethod, refused)
	s = w.wantErr(s, ChooseMethod{Method: MethodSMS}, FieldMethod, refused)
	wantStep(t, s, StepChallengeCallWait)
	w.deny = false
	for range 4 {
		s = w.must(s, ChooseMethod{Method: MethodCall})
	}
	s = w.wantErr(s, ChooseMethod{Method: MethodCall}, FieldMethod, msgTooManyResends(15*time.Minute))
	w.now = w.now.Add(15 * time.Minute)
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepForgotNewPassword)
}

func TestChangePhone(t *testing.T) {
	w := newWorld(t, nil)
	a := w.addUser("ada@example.com", "correct horse", mobile)
	if _, err := w.m.NewChangePhone("j-4", "", Account{UserID: "u"}, w.now); err == nil {
		t.Fatal("change of phone without a verified phone accepted")
	}
	s, err := w.m.NewChangePhone("j-4", "", *a, w.now)
	if err != nil {
		t.Fatal(err)
	}
	wantStep(t, s, StepChallenge)
	// Challenge on the old number by call.
	s = w.must(s, ChooseMethod{Method: MethodCall})
	s = w.must(s, confirmCall(w.lastCall().CallID))
	wantStep(t, s, StepPhoneEnter)
	if s.Phone != "" {
		t.Fatal("old number left in the enrolment form")
	}
	// Enrol the new number, then confirm it.
	s = w.must(s, SubmitPhone{Number: mobile2, Method: MethodSMS})
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	s, res := w.do(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepDone)
	// The right code ends the count of wrong codes for the new number, then the
	// number is stored.
	if res.Effects[0] != (ResetWrongCodes{Factor: CodeFactor{Channel: factors.ChannelSMS, To: "+447700900456", UserID: a.UserID}}) {
		t.Fatalf("effects %#v", res.Effects)
	}
	if res.Effects[1] != (SetPhone{UserID: a.UserID, Number: "+447700900456", Type: "mobile"}) {
		t.Fatalf("effects %#v", res.Effects)
	}
	if res.Effects[2].(Audit).Kind != "phone.changed" {
		t.Fatalf("audit %#v", res.Effects[2])
	}
	if done := w.completion(); done.AuthRequestID != "" || !slices.Equal(done.AMR, []string{"sms", "tel"}) {
		t.Fatalf("completion %+v", done)
	}

	// By text on the old number this time.
	s, _ = w.m.NewChangePhone("j-5", "ar-5", *a, w.now)
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepPhoneEnter)
}
