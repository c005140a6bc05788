package journey

import (
	"slices"
	"testing"
)

// Accounts imported from Azure AD B2C (or another instance's export) at their
// first sign-in here: the caller answers the password check, and the journey
// shows what follows.

// B2C could not be asked: a page of its own, nothing proven, nothing counted;
// 'Try again' goes back to the sign-in page with the address kept, 'Forgot your
// password?' to the reset.
func TestImportedPasswordUnavailable(t *testing.T) {
	w := newWorld(t, nil)
	a := w.addUser("ada@example.com", "", mobile)
	w.imported[a.UserID] = PasswordUnavailable
	s := w.m.NewSignIn("j-1", "ar-1", w.now)
	s = w.must(s, SubmitSignIn{Email: "ada@example.com", Password: "her B2C password"})
	wantStep(t, s, StepPasswordUnavailable)
	if s.UserID != "" || len(s.AMR) != 0 || s.PasswordFailures != 0 {
		t.Fatalf("unavailable check left state behind: user %q amr %v failures %d", s.UserID, s.AMR, s.PasswordFailures)
	}
	for _, e := range []Event{SubmitSignIn{Email: "ada@example.com", Password: "x"}, Continue{}, SubmitNewPassword{Password: "a", Confirm: "a"}} {
		if _, err := w.m.Apply(s, e, w.now); !isRefused(err) {
			t.Errorf("%s at password_unavailable: %v, want refused", e.Kind(), err)
		}
	}
	back := w.must(s, GoToSignIn{})
	wantStep(t, back, StepSignIn)
	if back.Email != "ada@example.com" {
		t.Errorf("sign-in page lost the address: %q", back.Email)
	}
	s = w.must(s, StartForgotPassword{})
	wantStep(t, s, StepForgotEmail)
	if s.Kind != KindForgotPassword {
		t.Errorf("kind %s", s.Kind)
	}
}

// No service to check the password with: the council has moved, so the person
// sets a new one after proving the imported address and then the imported phone.
func TestImportedSetsNewPassword(t *testing.T) {
	w := newWorld(t, nil)
	a := w.addUser("ada@example.com", "", mobile)
	w.imported[a.UserID] = PasswordNewRequired
	s := w.m.NewSignIn("j-1", "ar-1", w.now)
	s = w.must(s, SubmitSignIn{Email: "Ada@Example.com", Password: "anything at all"})
	wantStep(t, s, StepNewService)
	if len(s.AMR) != 0 {
		t.Fatalf("nothing is proven by a password nobody checked: amr %v", s.AMR)
	}
	if w.count(func(e Effect) bool { _, ok := e.(SendEmailCode); return ok }) != 0 {
		t.Fatal("a code went out before 'Continue'")
	}
	// Back to the sign-in page forgets the account.
	back := w.must(s, GoToSignIn{})
	wantStep(t, back, StepSignIn)
	if back.UserID != "" || back.Kind != KindSignIn {
		t.Fatalf("back at sign-in: user %q kind %s", back.UserID, back.Kind)
	}

	s = w.must(s, Continue{})
	wantStep(t, s, StepForgotEmailCode)
	if sent := w.lastEmailCode(); sent.To != "Ada@Example.com" || sent.Purpose != EmailResetPassword {
		t.Fatalf("email %+v", sent)
	}
	if s.Kind != KindForgotPassword {
		t.Fatalf("kind %s", s.Kind)
	}
	s = w.must(s, SubmitEmailCode{Code: w.lastEmailCode().Code})
	wantStep(t, s, StepChallenge)
	if s.Phone != a.Phone {
		t.Fatalf("challenge on %q, want the imported %q", s.Phone, a.Phone)
	}
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepForgotNewPassword)
	s, res := w.do(s, SubmitNewPassword{Password: "a new password", Confirm: "a new password"})
	wantStep(t, s, StepDone)
	if !slices.Contains(res.Effects, Effect(SetPassword{UserID: a.UserID, Password: "a new password"})) {
		t.Fatalf("effects %v", res.Effects)
	}
	if done := w.completion(); done.UserID != a.UserID || done.AuthRequestID != "ar-1" || !slices.Equal(done.AMR, []string{"pwd", "sms"}) {
		t.Fatalf("completion %+v", done)
	}
}

// An imported account without a usable phone enrols one after its new password.
func TestImportedWithoutPhoneEnrols(t *testing.T) {
	w := newWorld(t, func(p *Policy) { p.PhoneConfirmTwice = false })
	a := w.addUser("lin@example.com", "", "")
	w.imported[a.UserID] = PasswordNewRequired
	s := w.m.NewSignIn("j-1", "ar-1", w.now)
	s = w.must(s, SubmitSignIn{Email: "lin@example.com", Password: "anything"})
	s = w.must(s, Continue{})
	s = w.must(s, SubmitEmailCode{Code: w.lastEmailCode().Code})
	wantStep(t, s, StepForgotNewPassword)
	s = w.must(s, SubmitNewPassword{Password: "a new password", Confirm: "a new password"})
	wantStep(t, s, StepPhoneEnter)
	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepDone)
	if done := w.completion(); done.UserID != a.UserID {
		t.Fatalf("completion %+v", done)
	}
}

// The first email is counted like any: a refused budget comes back to the page
// saying the service has moved, with the reason.
func TestImportedNewPasswordBudgetRefused(t *testing.T) {
	w := newWorld(t, nil)
	a := w.addUser("ada@example.com", "", mobile)
	w.imported[a.UserID] = PasswordNewRequired
	s := w.m.NewSignIn("j-1", "ar-1", w.now)
	s = w.must(s, SubmitSignIn{Email: "ada@example.com", Password: "anything"})
	w.deny = true
	s = w.wantErr(s, Continue{}, FieldMethod, msgSendRefused(30*60e9))
	wantStep(t, s, StepNewService)
	if n := len(w.budgets); n != 1 || w.budgets[0].To != "ada@example.com" || w.budgets[0].UserID != a.UserID {
		t.Fatalf("budgets asked %+v", w.budgets)
	}
}
