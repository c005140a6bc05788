package journey

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/factors"
)

func (w *world) signIn(email, password string) *State {
	w.t.Helper()
	s := w.m.NewSignIn("j-2", "ar-2", w.now)
	s = w.must(s, SubmitSignIn{Email: email, Password: password})
	return s
}

func TestSignInWithSMS(t *testing.T) {
	w := newWorld(t, nil)
	a := w.addUser("ada@example.com", "correct horse", mobile)
	s := w.signIn("ADA@example.com", "correct horse")
	wantStep(t, s, StepChallenge)
	if s.Phone != a.Phone || MaskPhone(s.Phone) != "07*** ***123" {
		t.Fatalf("challenge phone %q", s.Phone)
	}
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	wantStep(t, s, StepChallengeSMSCode)
	s = w.wantErr(s, SubmitSMSCode{Code: "000000"}, FieldCode, MsgCodeWrong)
	s, res := w.do(s, ResendSMSCode{})
	if res.Sent != factors.ChannelSMS {
		t.Fatalf("Sent %q after a resend", res.Sent)
	}
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepDone)
	done := w.completion()
	if done.UserID != a.UserID || done.AuthRequestID != "ar-2" || !slices.Equal(done.AMR, []string{"pwd", "sms"}) {
		t.Fatalf("completion %+v", done)
	}
	if w.count(func(e Effect) bool { _, ok := e.(SetPhone); return ok }) != 0 {
		t.Fatal("sign-in must not set the phone")
	}
}

func TestSignInWithCall(t *testing.T) {
	w := newWorld(t, nil)
	w.addUser("lin@example.com", "correct horse", landline)
	s := w.signIn("lin@example.com", "correct horse")
	wantStep(t, s, StepChallenge)
	s = w.wantErr(s, ChooseMethod{Method: MethodSMS}, FieldMethod, MsgLandlineNoText)
	s = w.must(s, ChooseMethod{Method: MethodCall})
	wantStep(t, s, StepChallengeCallWait)
	s = w.must(s, Continue{})
	wantStep(t, s, StepChallengeCallWait)
	s = w.must(s, confirmCall(w.lastCall().CallID))
	wantStep(t, s, StepDone)
	if done := w.completion(); !slices.Equal(done.AMR, []string{"pwd", "tel"}) {
		t.Fatalf("amr %v", done.AMR)
	}
}

func TestSignInMistakesAndLockout(t *testing.T) {
	w := newWorld(t, nil)
	a := w.addUser("ada@example.com", "correct horse", mobile)
	s := w.m.NewSignIn("j-2", "ar-2", w.now)
	n, res := w.do(s, SubmitSignIn{})
	wantFields(t, res.Errors, FieldEmail, FieldPassword)
	if res.Errors[0].Message != MsgEnterEmail || res.Errors[1].Message != MsgEnterPassword {
		t.Fatalf("errors %v", res.Errors)
	}
	wantStep(t, n, StepSignIn)
	s = w.wantErr(s, SubmitSignIn{Email: "ada", Password: "x"}, FieldEmail, MsgEmailFormat)
	// Unknown address and wrong password read the same.
	s = w.wantErr(s, SubmitSignIn{Email: "nobody@example.com", Password: "correct horse"}, FieldEmail, MsgSignInIncorrect)
	s = w.wantErr(s, SubmitSignIn{Email: "ada@example.com", Password: "wrong"}, FieldEmail, MsgSignInIncorrect)
	wantStep(t, s, StepSignIn)
	if s.UserID != "" || len(s.AMR) != 0 {
		t.Fatal("a failed sign-in left an account in the state")
	}
	w.locked[a.UserID] = w.now.Add(4 * time.Minute)
	s = w.wantErr(s, SubmitSignIn{Email: "ada@example.com", Password: "correct horse"}, FieldEmail, msgLocked(w.now.Add(4*time.Minute), w.now, w.m.Policy().ContactText))
	if !strings.Contains(msgLocked(w.now.Add(4*time.Minute), w.now, w.m.Policy().ContactText), "4 minutes") {
		t.Fatal(msgLocked(w.now.Add(4*time.Minute), w.now, w.m.Policy().ContactText))
	}
	w.now = w.now.Add(4 * time.Minute)
	s = w.must(s, SubmitSignIn{Email: "ada@example.com", Password: "correct horse"})
	wantStep(t, s, StepChallenge)
}

// An account created without finishing enrolment resumes at the phone number after
// its password, and completes only after enrolment and confirmation.
func TestSignInResumesUnfinishedEnrolment(t *testing.T) {
	w := newWorld(t, nil)
	a := w.addUser("ada@example.com", "correct horse", "")
	s := w.signIn("ada@example.com", "correct horse")
	wantStep(t, s, StepPhoneEnter)
	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodCall})
	s = w.must(s, confirmCall(w.lastCall().CallID))
	wantStep(t, s, StepPhoneConfirm)
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepDone)
	if !slices.Contains(w.effects, Effect(SetPhone{UserID: a.UserID, Number: "+447700900123", Type: "mobile"})) {
		t.Fatal("phone not stored")
	}
	if done := w.completion(); !slices.Equal(done.AMR, []string{"pwd", "sms", "tel"}) {
		t.Fatalf("amr %v", done.AMR)
	}
}

func TestCallFailures(t *testing.T) {
	for _, tc := range []struct {
		result factors.CallResult
		msg    string
	}{
		{factors.CallUnanswered, MsgCallNotAnswered},
		{factors.CallTimedOut, MsgCallNotAnswered},
		{factors.CallBusy, MsgCallBusy},
		{factors.CallRejected, MsgCallFailed},
		{factors.CallFailed, MsgCallFailed},
	} {
		t.Run(string(tc.result), func(t *testing.T) {
			w := newWorld(t, nil)
			// Enrolment: back to the number page, number kept.
			s := w.toPhoneEnter("ada@example.com")
			s = w.must(s, SubmitPhone{Number: mobile, Method: MethodCall})
			s = w.wantErr(s, CallOutcome{CallID: w.lastCall().CallID, Result: tc.result}, FieldPhone, tc.msg)
			wantStep(t, s, StepPhoneEnter)
			if s.Phone == "" || s.Call != nil {
				t.Fatalf("after a failed call: phone %q call %v", s.Phone, s.Call)
			}
			// A late confirmation of the failed call is refused.
			if _, err := w.apply(s, confirmCall(w.lastCall().CallID)); !isRefused(err) {
				t.Fatalf("late outcome: %v", err)
			}
			// Confirmation: back to the choice.
			s = w.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
			s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
			s = w.must(s, ChooseMethod{Method: MethodCall})
			s = w.wantErr(s, CallOutcome{CallID: w.lastCall().CallID, Result: tc.result}, FieldMethod, tc.msg)
			wantStep(t, s, StepPhoneConfirm)

			// Challenge: back to the choice.
			w.addUser("lin@example.com", "correct horse", landline)
			c := w.signIn("lin@example.com", "correct horse")
			c = w.must(c, ChooseMethod{Method: MethodCall})
			c = w.wantErr(c, CallOutcome{CallID: w.lastCall().CallID, Result: tc.result}, FieldMethod, tc.msg)
			wantStep(t, c, StepChallenge)
		})
	}
}

// A call nobody answers: the waiting page notices after the call timeout.
func TestCallNeverAnswered(t *testing.T) {
	w := newWorld(t, nil)
	s := w.toPhoneEnter("ada@example.com")
	s = w.must(s, SubmitPhone{Number: landline, Method: MethodCall})
	w.now = w.now.Add(2*time.Minute - time.Second)
	s = w.must(s, Continue{})
	wantStep(t, s, StepPhoneCallWait)
	w.now = w.now.Add(time.Second)
	s = w.wantErr(s, Continue{}, FieldPhone, MsgCallNotAnswered)
	wantStep(t, s, StepPhoneEnter)

	s = w.must(s, SubmitPhone{Number: landline, Method: MethodCall})
	s = w.must(s, confirmCall(w.lastCall().CallID))
	s = w.must(s, ChooseMethod{Method: MethodCall})
	w.now = w.now.Add(3 * time.Minute)
	s = w.wantErr(s, Continue{}, FieldMethod, MsgCallNotAnswered)
	wantStep(t, s, StepPhoneConfirm)

	w.addUser("lin@example.com", "correct horse", landline)
	c := w.signIn("lin@example.com", "correct horse")
	c = w.must(c, ChooseMethod{Method: MethodCall})
	w.now = w.now.Add(3 * time.Minute)
	c = w.wantErr(c, Continue{}, FieldMethod, MsgCallNotAnswered)
	wantStep(t, c, StepChallenge)
}

// Switching between 'Send Code' and 'Call Me' from the code and waiting pages, in
// every stage; the earlier proof stops working.
func TestSwitchMethods(t *testing.T) {
	w := newWorld(t, nil)
	s := w.toPhoneEnter("ada@example.com")
	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodCall})
	call := w.lastCall().CallID
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	wantStep(t, s, StepPhoneSMSCode)
	if _, err := w.apply(s, confirmCall(call)); !isRefused(err) {
		t.Fatal("a superseded call still counts")
	}
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})

	w.now = w.now.Add(15 * time.Minute) // the enrolment's resend has left the window
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	wantStep(t, s, StepPhoneConfirmSMSCode)
	code := w.lastSMS().Code
	s = w.must(s, ChooseMethod{Method: MethodSMS}) // 'Send Code' again from the code page
	s = w.wantErr(s, SubmitSMSCode{Code: code}, FieldCode, MsgCodeWrong)
	s = w.must(s, ResendSMSCode{})
	s = w.must(s, ChooseMethod{Method: MethodCall})
	wantStep(t, s, StepPhoneConfirmCallWait)
	s = w.must(s, ChooseMethod{Method: MethodCall}) // 'Call Me' again
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	wantStep(t, s, StepPhoneConfirmSMSCode)
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepDone)

	w.addUser("b@example.com", "correct horse", mobile)
	c := w.signIn("b@example.com", "correct horse")
	c = w.must(c, ChooseMethod{Method: MethodSMS})
	c = w.must(c, ChooseMethod{Method: MethodSMS})
	c = w.must(c, ChooseMethod{Method: MethodCall})
	wantStep(t, c, StepChallengeCallWait)
	c = w.must(c, ChooseMethod{Method: MethodCall})
	c = w.must(c, ChooseMethod{Method: MethodSMS})
	wantStep(t, c, StepChallengeSMSCode)
	c = w.must(c, ChooseMethod{Method: MethodCall})
	c = w.must(c, confirmCall(w.lastCall().CallID))
	wantStep(t, c, StepDone)
}

// Budgets refusing in the confirmation and challenge stages send the person back to
// the page they came from.
func TestBudgetsInLaterStages(t *testing.T) {
	w := newWorld(t, nil)
	s := w.toPhoneEnter("ada@example.com")
	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	// Journey budget: phone_confirm refuses in place after 5 resends.
	refused := msgSendRefused(30 * time.Minute)
	w.deny = true
	s = w.wantErr(s, ChooseMethod{Method: MethodSMS}, FieldMethod, refused)
	wantStep(t, s, StepPhoneConfirm)
	s = w.wantErr(s, ChooseMethod{Method: MethodCall}, FieldMethod, refused)
	wantStep(t, s, StepPhoneConfirm)
	w.deny = false
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	w.deny = true
	s = w.wantErr(s, ResendSMSCode{}, FieldCode, refused)
	wantStep(t, s, StepPhoneConfirmSMSCode)
	s = w.wantErr(s, ChooseMethod{Method: MethodCall}, FieldCode, refused)
	wantStep(t, s, StepPhoneConfirmSMSCode)
	w.deny = false
	s = w.must(s, ChooseMethod{Method: MethodCall})
	w.deny = true
	s = w.wantErr(s, ChooseMethod{Method: MethodCall}, FieldMethod, refused)
	wantStep(t, s, StepPhoneConfirmCallWait)
	s = w.wantErr(s, ChooseMethod{Method: MethodSMS}, FieldMethod, refused)
	wantStep(t, s, StepPhoneConfirmCallWait)
	for range 2 {
		w.deny = false
		s = w.must(s, ChooseMethod{Method: MethodSMS})
		s = w.must(s, ChooseMethod{Method: MethodCall})
	}
	wantStep(t, s, StepPhoneConfirmCallWait)
	s = w.wantErr(s, ChooseMethod{Method: MethodSMS}, FieldMethod, msgTooManyResends(15*time.Minute))
	if _, err := w.apply(s, ResendSMSCode{}); !isRefused(err) {
		t.Fatalf("a text resend from a call page: %v", err)
	}
}
