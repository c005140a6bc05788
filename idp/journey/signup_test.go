package journey

import (
	"slices"
	"testing"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/phone"
)

// toDetails runs sign-up from the sign-in page to the details page.
func (w *world) toDetails(email string) *State {
	w.t.Helper()
	s := w.m.NewSignIn("j-1", "ar-1", w.now)
	s = w.must(s, StartSignUp{})
	wantStep(w.t, s, StepSignUpEmail)
	s = w.must(s, SubmitEmail{Email: email})
	wantStep(w.t, s, StepSignUpEmailCode)
	s = w.must(s, SubmitEmailCode{Code: w.lastEmailCode().Code})
	wantStep(w.t, s, StepSignUpEmailVerified)
	s = w.must(s, Continue{})
	wantStep(w.t, s, StepSignUpDetails)
	return s
}

func (w *world) toPhoneEnter(email string) *State {
	w.t.Helper()
	s := w.toDetails(email)
	s = w.must(s, SubmitDetails{GivenName: "Ada", FamilyName: "Lovelace", Password: "correct horse", Confirm: "correct horse"})
	wantStep(w.t, s, StepPhoneEnter)
	return s
}

func TestSignUpBySMSWithConfirmation(t *testing.T) {
	w := newWorld(t, nil)
	s := w.m.NewSignIn("j-1", "ar-1", w.now)
	s = w.must(s, StartSignUp{})
	s = w.must(s, SubmitEmail{Email: "  ada@example.com "})
	wantStep(t, s, StepSignUpEmailCode)
	sent := w.lastEmailCode()
	if sent.To != "ada@example.com" || sent.Purpose != EmailVerifyAddress || len(sent.Code) != 6 {
		t.Fatalf("email code effect %+v", sent)
	}
	if s.EmailCode == nil || s.EmailCode.Hash == "" || s.EmailCode.Hash == sent.Code {
		t.Fatalf("state must keep only a hash of the code: %+v", s.EmailCode)
	}
	// Codes typed with spaces or hyphens are accepted.
	s = w.must(s, SubmitEmailCode{Code: sent.Code[:3] + " - " + sent.Code[3:]})
	wantStep(t, s, StepSignUpEmailVerified)
	s = w.must(s, Continue{})
	s = w.must(s, SubmitDetails{GivenName: " Ada ", FamilyName: "Lovelace", Password: "correct horse", Confirm: "correct horse"})
	wantStep(t, s, StepPhoneEnter)
	if len(w.created) != 1 || w.created[0] != (CreateUser{Email: "ada@example.com", GivenName: "Ada", FamilyName: "Lovelace", Password: "correct horse"}) {
		t.Fatalf("created %+v", w.created)
	}
	if s.UserID == "" {
		t.Fatal("no user id after Create")
	}
	if w.count(func(e Effect) bool { _, ok := e.(CompleteAuth); return ok }) != 0 {
		t.Fatal("completed before a phone was verified")
	}

	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
	wantStep(t, s, StepPhoneSMSCode)
	if sms := w.lastSMS(); sms.To != "+447700900123" {
		t.Fatalf("sms to %s", sms.To)
	}
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepPhoneConfirm)
	// The confirmation sends a fresh code, free of the resend budget.
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	wantStep(t, s, StepPhoneConfirmSMSCode)
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepDone)

	if got := w.effects[len(w.effects)-4]; got != (SetPhone{UserID: s.UserID, Number: "+447700900123", Type: phone.Mobile}) {
		t.Fatalf("want SetPhone before completion, got %#v", got)
	}
	done := w.completion()
	if done.AuthRequestID != "ar-1" || done.UserID != s.UserID || !slices.Equal(done.AMR, []string{"pwd", "sms"}) || !done.AuthTime.Equal(w.now) {
		t.Fatalf("completion %+v", done)
	}
	if len(s.PhoneResends)+len(s.EmailResends) != 0 {
		t.Fatalf("no resend happened, but resends were counted: %v %v", s.EmailResends, s.PhoneResends)
	}
}

func TestSignUpLandlineByCall(t *testing.T) {
	w := newWorld(t, nil)
	s := w.toPhoneEnter("lin@example.com")
	// A text to a landline is refused with a clear message; the number is kept.
	s = w.wantErr(s, SubmitPhone{Number: landline, Method: MethodSMS}, FieldPhone, MsgLandlineNoText)
	wantStep(t, s, StepPhoneEnter)
	if s.Phone != "+442079460123" || s.PhoneType != phone.Landline {
		t.Fatalf("number not kept: %q %q", s.Phone, s.PhoneType)
	}
	s = w.must(s, SubmitPhone{Number: landline, Method: MethodCall})
	wantStep(t, s, StepPhoneCallWait)
	call := w.lastCall()
	if call.To != "+442079460123" || call.CallID != s.Call.ID {
		t.Fatalf("call %+v, state %+v", call, s.Call)
	}
	// The page refreshes while the call rings: nothing changes.
	s = w.must(s, Continue{})
	wantStep(t, s, StepPhoneCallWait)
	// An outcome for another call is refused.
	if _, err := w.apply(s, CallOutcome{CallID: "call-x", Result: factors.CallConfirmed}); err == nil {
		t.Fatal("outcome of another call accepted")
	}
	s = w.must(s, confirmCall(call.CallID))
	wantStep(t, s, StepPhoneConfirm)
	s = w.wantErr(s, ChooseMethod{Method: MethodSMS}, FieldMethod, MsgLandlineNoText)
	wantStep(t, s, StepPhoneConfirm)
	s = w.must(s, ChooseMethod{Method: MethodCall})
	wantStep(t, s, StepPhoneConfirmCallWait)
	s = w.must(s, Continue{})
	s = w.must(s, confirmCall(w.lastCall().CallID))
	wantStep(t, s, StepDone)
	if done := w.completion(); !slices.Equal(done.AMR, []string{"pwd", "tel"}) {
		t.Fatalf("amr %v", done.AMR)
	}
}

func TestSignUpWithoutConfirmation(t *testing.T) {
	w := newWorld(t, func(p *Policy) { p.PhoneConfirmTwice = false })
	s := w.toPhoneEnter("one@example.com")
	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodCall})
	s = w.must(s, confirmCall(w.lastCall().CallID))
	wantStep(t, s, StepDone)

	w2 := newWorld(t, func(p *Policy) { p.PhoneConfirmTwice = false })
	s = w2.toPhoneEnter("two@example.com")
	s = w2.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
	s = w2.must(s, SubmitSMSCode{Code: w2.lastSMS().Code})
	wantStep(t, s, StepDone)
	if done := w2.completion(); !slices.Equal(done.AMR, []string{"pwd", "sms"}) {
		t.Fatalf("amr %v", done.AMR)
	}
}

func TestSignUpMistakes(t *testing.T) {
	w := newWorld(t, nil)
	s := w.m.NewSignIn("j-1", "ar-1", w.now)
	s = w.must(s, StartSignUp{})
	s = w.wantErr(s, SubmitEmail{Email: " "}, FieldEmail, MsgEnterEmail)
	for _, bad := range []string{"ada", "ada@", "@example.com", "ada@example", "ada@@example.com", "a da@example.com", "ada@example..com", "<ada@example.com>"} {
		s = w.wantErr(s, SubmitEmail{Email: bad}, FieldEmail, MsgEmailFormat)
	}
	wantStep(t, s, StepSignUpEmail)
	s = w.must(s, SubmitEmail{Email: "ada@example.com"})
	s = w.wantErr(s, SubmitEmailCode{Code: ""}, FieldCode, MsgEnterCode)
	s = w.wantErr(s, SubmitEmailCode{Code: "12345"}, FieldCode, MsgCodeFormat)
	if s.EmailCode.Attempts != 0 {
		t.Fatal("a malformed code counted as an attempt")
	}
	s = w.must(s, SubmitEmailCode{Code: w.lastEmailCode().Code})
	s = w.must(s, Continue{})

	n, res := w.do(s, SubmitDetails{})
	wantFields(t, res.Errors, FieldGivenName, FieldFamilyName, FieldPassword, FieldConfirm)
	wantStep(t, n, StepSignUpDetails)
	_, res = w.do(s, SubmitDetails{GivenName: "Ada", FamilyName: "L", Password: "short", Confirm: "short"})
	if len(res.Errors) != 1 || res.Errors[0] != (FieldError{FieldPassword, "Password must be 8 characters or more"}) {
		t.Fatalf("short password: errors %v", res.Errors)
	}
	_, res = w.do(s, SubmitDetails{GivenName: "Ada", FamilyName: "L", Password: "Password123!", Confirm: "Password123!"})
	if len(res.Errors) != 1 || res.Errors[0] != (FieldError{FieldPassword, "Choose a password that is harder to guess"}) {
		t.Fatalf("common password: errors %v", res.Errors)
	}
	_, res = w.do(s, SubmitDetails{GivenName: "Ada", FamilyName: "L", Password: "long enough", Confirm: "long enougH"})
	if len(res.Errors) != 1 || res.Errors[0] != (FieldError{FieldConfirm, MsgPasswordsDontMatch}) {
		t.Fatalf("errors %v", res.Errors)
	}
	if len(w.created) != 0 {
		t.Fatal("account created despite mistakes")
	}

	s = w.must(s, SubmitDetails{GivenName: "Ada", FamilyName: "L", Password: "long enough", Confirm: "long enough"})
	// Each number that cannot be used says why, in the phone package's words.
	for _, tc := range []struct{ number, msg string }{
		{" ", "Enter a phone number"},
		{"12345", "Enter a phone number in the correct format, like 01632 960 001 or 07700 900 982"},
		{"0800 123 4567", "Enter a landline or mobile phone number, not a freephone number"},
		{"0901 123 4567", "Enter a landline or mobile phone number, not a premium rate number"},
		{"09098 765432", "Enter a landline or mobile phone number, not a premium rate number"},
		{"+33 6 12 34 56 78", "Enter a UK phone number"},
	} {
		s = w.wantErr(s, SubmitPhone{Number: tc.number, Method: MethodCall}, FieldPhone, tc.msg)
	}
	wantStep(t, s, StepPhoneEnter)
	if _, err := w.apply(s, SubmitPhone{Number: mobile, Method: "pigeon"}); !isRefused(err) {
		t.Fatalf("unknown method: %v", err)
	}
}

func wantFields(t *testing.T, errs []FieldError, fields ...string) {
	t.Helper()
	var got []string
	for _, e := range errs {
		got = append(got, e.Field)
		if e.Message == "" {
			t.Errorf("empty message for %s", e.Field)
		}
	}
	if !slices.Equal(got, fields) {
		t.Fatalf("error fields %v, want %v (%v)", got, fields, errs)
	}
}

// An address that already has an account gets an email saying so, and the journey
// looks exactly as for a new address.
func TestSignUpExistingAddressIsNotRevealed(t *testing.T) {
	w := newWorld(t, nil)
	w.addUser("taken@example.com", "whatever1", mobile)
	s := w.m.NewSignIn("j-1", "ar-1", w.now)
	s = w.must(s, StartSignUp{})
	s, res := w.do(s, SubmitEmail{Email: "Taken@example.com"})
	wantStep(t, s, StepSignUpEmailCode)
	if len(res.Errors) != 0 || len(res.Effects) != 1 || res.Effects[0] != (SendAccountExistsEmail{To: "Taken@example.com"}) || res.Sent != factors.ChannelEmail {
		t.Fatalf("effects %#v errors %v", res.Effects, res.Errors)
	}
	if s.UserID != "" {
		t.Fatal("sign-up adopted the existing account")
	}
	// No code works, with the same message as a wrong code.
	s = w.wantErr(s, SubmitEmailCode{Code: "100001"}, FieldCode, MsgCodeWrong)
	// A resend sends the same notice again.
	s, res = w.do(s, ResendEmailCode{})
	if len(res.Effects) != 1 || res.Effects[0] != (SendAccountExistsEmail{To: "Taken@example.com"}) {
		t.Fatalf("resend effects %#v", res.Effects)
	}
	// Changing to a new address then works normally.
	s = w.must(s, ChangeEmail{})
	wantStep(t, s, StepSignUpEmail)
	s = w.must(s, SubmitEmail{Email: "fresh@example.com"})
	s = w.must(s, SubmitEmailCode{Code: w.lastEmailCode().Code})
	wantStep(t, s, StepSignUpEmailVerified)
}

func TestChangeEmailKillsOldCode(t *testing.T) {
	w := newWorld(t, nil)
	s := w.m.NewSignIn("j-1", "ar-1", w.now)
	s = w.must(s, StartSignUp{})
	s = w.must(s, SubmitEmail{Email: "a@example.com"})
	old := w.lastEmailCode().Code
	s = w.must(s, ChangeEmail{})
	s = w.must(s, SubmitEmail{Email: "b@example.com"})
	s = w.wantErr(s, SubmitEmailCode{Code: old}, FieldCode, MsgCodeWrong)
	if len(s.EmailResends) != 1 {
		t.Fatalf("the second address should count as a resend: %v", s.EmailResends)
	}
	s = w.must(s, SubmitEmailCode{Code: w.lastEmailCode().Code})
	wantStep(t, s, StepSignUpEmailVerified)
}

// A double-submitted 'Create': both requests start from the same state; the second
// CreateUser conflicts and the caller reloads, so one account exists.
func TestDoubleCreate(t *testing.T) {
	w := newWorld(t, nil)
	s := w.toDetails("ada@example.com")
	details := SubmitDetails{GivenName: "Ada", FamilyName: "L", Password: "long enough", Confirm: "long enough"}
	first, err := w.m.Drive(s, details, w.now, w.answer)
	if err != nil || first.State.Step != StepPhoneEnter {
		t.Fatalf("first create: %v %v", first.State, err)
	}
	_, err = w.m.Drive(s, details, w.now, w.answer)
	if err == nil || !errorsIsConflict(err) {
		t.Fatalf("second create: %v, want a wrapped store.ErrConflict", err)
	}
	if len(w.created) != 1 {
		t.Fatalf("%d accounts created", len(w.created))
	}
	// The winner's state refuses a replay of 'Create'.
	if _, err := w.m.Apply(first.State, details, w.now); !isRefused(err) {
		t.Fatalf("Create after Create: %v", err)
	}
}

func TestWrongCodeFiveTimesKillsIt(t *testing.T) {
	w := newWorld(t, nil)
	s := w.toPhoneEnter("ada@example.com")
	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
	right := w.lastSMS().Code
	wrong := "999999"
	for i := 1; i < 5; i++ {
		s = w.wantErr(s, SubmitSMSCode{Code: wrong}, FieldCode, MsgCodeWrong)
		if s.PhoneCode.Attempts != i {
			t.Fatalf("attempts %d, want %d", s.PhoneCode.Attempts, i)
		}
	}
	n, res := w.do(s, SubmitSMSCode{Code: wrong})
	if len(res.Errors) != 1 || res.Errors[0].Message != MsgCodeTooManyWrong {
		t.Fatalf("fifth wrong: %v", res.Errors)
	}
	if !slices.ContainsFunc(res.Effects, func(e Effect) bool { a, ok := e.(Audit); return ok && a.Kind == "code.locked" }) {
		t.Fatal("no audit of the killed code")
	}
	s = n
	// Even the right code is refused now.
	s = w.wantErr(s, SubmitSMSCode{Code: right}, FieldCode, MsgCodeTooManyWrong)
	wantStep(t, s, StepPhoneSMSCode)
	// A new code works.
	s = w.must(s, ResendSMSCode{})
	if w.lastSMS().Code == right {
		t.Fatal("resend reused the old code")
	}
	s = w.wantErr(s, SubmitSMSCode{Code: right}, FieldCode, MsgCodeWrong) // superseded
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepPhoneConfirm)
}

func TestExpiredCode(t *testing.T) {
	w := newWorld(t, nil)
	s := w.m.NewSignIn("j-1", "ar-1", w.now)
	s = w.must(s, StartSignUp{})
	s = w.must(s, SubmitEmail{Email: "ada@example.com"})
	code := w.lastEmailCode().Code
	w.now = w.now.Add(10 * time.Minute)
	s = w.wantErr(s, SubmitEmailCode{Code: code}, FieldCode, MsgCodeExpired)
	s = w.must(s, ResendEmailCode{})
	s = w.must(s, SubmitEmailCode{Code: w.lastEmailCode().Code})
	wantStep(t, s, StepSignUpEmailVerified)

	// Text codes expire too.
	s = w.toPhoneEnter("sms@example.com")
	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
	code = w.lastSMS().Code
	w.now = w.now.Add(9*time.Minute + 59*time.Second)
	s2 := w.must(s, SubmitSMSCode{Code: code})
	wantStep(t, s2, StepPhoneConfirm)
	w.now = w.now.Add(time.Second)
	w.wantErr(s, SubmitSMSCode{Code: code}, FieldCode, MsgCodeExpired)
}

func TestResendBudget(t *testing.T) {
	w := newWorld(t, nil)
	s := w.m.NewSignIn("j-1", "ar-1", w.now)
	s = w.must(s, StartSignUp{})
	s = w.must(s, SubmitEmail{Email: "ada@example.com"}) // the first email is free
	for i := range 5 {
		w.now = w.now.Add(time.Minute)
		s = w.must(s, ResendEmailCode{})
		if len(s.EmailResends) != i+1 {
			t.Fatalf("resends %v", s.EmailResends)
		}
	}
	sentBefore := len(w.effects)
	w.now = w.now.Add(time.Minute) // 5 minutes after the first resend, which leaves the window in 10
	s = w.wantErr(s, ResendEmailCode{}, FieldCode, msgTooManyResends(10*time.Minute))
	if len(w.effects) != sentBefore {
		t.Fatal("a message was sent over budget")
	}
	// The last code still works.
	s2 := w.must(s, SubmitEmailCode{Code: w.lastEmailCode().Code})
	wantStep(t, s2, StepSignUpEmailVerified)
	// Going to sign-in and back does not buy a free email.
	s = w.must(s, ChangeEmail{})
	s = w.must(s, GoToSignIn{})
	s = w.must(s, StartSignUp{})
	s = w.wantErr(s, SubmitEmail{Email: "other@example.com"}, FieldEmail, msgTooManyResends(10*time.Minute))
	wantStep(t, s, StepSignUpEmail)
	// The window slides: after 15 minutes from the first resend, one more is allowed.
	w.now = w.now.Add(10 * time.Minute)
	s = w.must(s, SubmitEmail{Email: "other@example.com"})
	wantStep(t, s, StepSignUpEmailCode)
}

func TestPhoneResendBudget(t *testing.T) {
	w := newWorld(t, nil)
	s := w.toPhoneEnter("ada@example.com")
	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
	// Resends, switches of method and changes of number all count.
	s = w.must(s, ResendSMSCode{})
	s = w.must(s, ChooseMethod{Method: MethodCall})
	wantStep(t, s, StepPhoneCallWait)
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	wantStep(t, s, StepPhoneSMSCode)
	s = w.must(s, ChangePhoneNumber{})
	wantStep(t, s, StepPhoneEnter)
	if s.Phone != "+447700900123" {
		t.Fatal("number not kept for the form")
	}
	s = w.must(s, SubmitPhone{Number: mobile2, Method: MethodSMS})
	s = w.must(s, ResendSMSCode{})
	if len(s.PhoneResends) != 5 {
		t.Fatalf("phone resends %d, want 5", len(s.PhoneResends))
	}
	s = w.wantErr(s, ResendSMSCode{}, FieldCode, msgTooManyResends(15*time.Minute))
	s = w.wantErr(s, ChooseMethod{Method: MethodCall}, FieldCode, msgTooManyResends(15*time.Minute))
	wantStep(t, s, StepPhoneSMSCode)
	// The code of the last message still works, and the confirmation starts afresh.
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	wantStep(t, s, StepPhoneConfirmSMSCode)
}

// The durable budget (per address, number or IP) is the caller's: when it refuses,
// nothing is sent and the person is told.
func TestDurableBudgetRefuses(t *testing.T) {
	w := newWorld(t, nil)
	s := w.m.NewSignIn("j-1", "ar-1", w.now)
	s = w.must(s, StartSignUp{})
	w.deny = true
	s = w.wantErr(s, SubmitEmail{Email: "ada@example.com"}, FieldEmail, msgSendRefused(30*time.Minute))
	wantStep(t, s, StepSignUpEmail)
	if _, res := w.do(s, SubmitEmail{Email: "ada@example.com"}); res.Sent != "" {
		t.Fatalf("Sent %q although nothing was sent", res.Sent)
	}
	w.deny = false
	s = w.must(s, SubmitEmail{Email: "ada@example.com"})
	w.deny = true
	s = w.wantErr(s, ResendEmailCode{}, FieldCode, msgSendRefused(30*time.Minute))
	wantStep(t, s, StepSignUpEmailCode)
	w.deny = false
	s = w.must(s, SubmitEmailCode{Code: w.lastEmailCode().Code}) // the earlier code still works
	s = w.must(s, Continue{})
	s = w.must(s, SubmitDetails{GivenName: "A", FamilyName: "L", Password: "long enough", Confirm: "long enough"})

	w.deny = true
	s = w.wantErr(s, SubmitPhone{Number: mobile, Method: MethodSMS}, FieldPhone, msgSendRefused(30*time.Minute))
	wantStep(t, s, StepPhoneEnter)
	s = w.wantErr(s, SubmitPhone{Number: mobile, Method: MethodCall}, FieldPhone, msgSendRefused(30*time.Minute))
	wantStep(t, s, StepPhoneEnter)
	if w.count(func(e Effect) bool { _, ok := e.(SendSMSCode); return ok }) != 0 {
		t.Fatal("a text went out over the durable budget")
	}
	w.deny = false
	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
	w.deny = true
	s = w.wantErr(s, ResendSMSCode{}, FieldCode, msgSendRefused(30*time.Minute))
	s = w.wantErr(s, ChooseMethod{Method: MethodCall}, FieldCode, msgSendRefused(30*time.Minute))
	wantStep(t, s, StepPhoneSMSCode)
	w.deny = false
	s = w.must(s, ChooseMethod{Method: MethodCall})
	w.deny = true
	s = w.wantErr(s, ChooseMethod{Method: MethodSMS}, FieldMethod, msgSendRefused(30*time.Minute))
	wantStep(t, s, StepPhoneCallWait)
	s = w.wantErr(s, ChooseMethod{Method: MethodCall}, FieldMethod, msgSendRefused(30*time.Minute))
	wantStep(t, s, StepPhoneCallWait)
	s = w.must(s, ChangePhoneNumber{})
	wantStep(t, s, StepPhoneEnter)
}
