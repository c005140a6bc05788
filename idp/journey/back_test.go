package journey

import (
	"errors"
	"testing"
)

// Issue 19: 'Back' from the code or the call of a known number (the check at
// sign-in, the confirmation after enrolment) returns to 'Send Code' / 'Call Me';
// the code sent and the call in flight then prove nothing.
func TestBackToPhoneChoice(t *testing.T) {
	w := newWorld(t, nil)
	w.addUser("ada@example.com", "correct horse", mobile)
	s := w.signIn("ada@example.com", "correct horse")
	wantStep(t, s, StepChallenge)

	s = w.must(s, ChooseMethod{Method: MethodSMS})
	wantStep(t, s, StepChallengeSMSCode)
	oldCode := w.lastSMS().Code
	s = w.must(s, BackToPhoneChoice{})
	wantStep(t, s, StepChallenge)
	if s.PhoneCode != nil {
		t.Fatal("the code sent still counts after 'Back'")
	}
	if _, err := w.apply(s, SubmitSMSCode{Code: oldCode}); err == nil {
		t.Fatal("a code typed at the choice page was accepted")
	}

	s = w.must(s, ChooseMethod{Method: MethodCall})
	wantStep(t, s, StepChallengeCallWait)
	oldCall := w.lastCall().CallID
	s = w.must(s, BackToPhoneChoice{})
	wantStep(t, s, StepChallenge)
	var refused *Refused
	if _, err := w.apply(s, confirmCall(oldCall)); !errors.As(err, &refused) {
		t.Fatalf("'#' on the call left behind: %v, want refused", err)
	}
	s = w.must(s, ChooseMethod{Method: MethodCall})
	if _, err := w.apply(s, confirmCall(oldCall)); !errors.As(err, &refused) {
		t.Fatalf("'#' on the call left behind, during a new call: %v, want refused", err)
	}
	s = w.must(s, confirmCall(w.lastCall().CallID))
	wantStep(t, s, StepDone)

	// The confirmation after enrolment.
	s = w.toPhoneEnter("lin@example.com")
	s = w.must(s, SubmitPhone{Number: mobile2, Method: MethodSMS})
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepPhoneConfirm)
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	wantStep(t, s, StepPhoneConfirmSMSCode)
	s = w.must(s, BackToPhoneChoice{})
	wantStep(t, s, StepPhoneConfirm)
	s = w.must(s, ChooseMethod{Method: MethodCall})
	wantStep(t, s, StepPhoneConfirmCallWait)
	s = w.must(s, BackToPhoneChoice{})
	wantStep(t, s, StepPhoneConfirm)
	if s.Phone == "" || s.Call != nil {
		t.Fatalf("after 'Back' the number is %q and the call %v", s.Phone, s.Call)
	}

	// Not from the number's own enrolment (that 'Back' changes the number) nor
	// from a page without a code or a call.
	for _, at := range []*State{w.toPhoneEnter("sam@example.com"), w.signIn("ada@example.com", "correct horse")} {
		if _, err := w.apply(at, BackToPhoneChoice{}); !errors.As(err, &refused) {
			t.Errorf("BackToPhoneChoice at %s: %v, want refused", at.Step, err)
		}
	}
}
