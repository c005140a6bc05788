package journey

import "testing"

const msgDown = "We cannot send text messages at the moment. Select 'Call Me instead'"

// A text that could not be sent takes the journey back to the stage's choice
// of method with the reason: no page claims a code was sent, the dead code is
// not accepted, and the failed send does not use up the resend budget.
func TestTextNotSentGoesBackToTheChoice(t *testing.T) {
	w := newWorld(t, nil)
	s := w.toPhoneEnter("sam@example.com")
	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
	wantStep(t, s, StepPhoneSMSCode)
	lost := w.lastSMS().Code
	s = w.wantErr(s, SMSNotSent{Message: msgDown}, FieldMethod, msgDown)
	wantStep(t, s, StepPhoneEnter)
	if s.PhoneCode != nil || s.StageSent {
		t.Fatalf("after a failed first text: code %v, stage sent %v", s.PhoneCode, s.StageSent)
	}
	if s.Phone == "" {
		t.Fatal("the number typed was forgotten")
	}

	// Trying again is a first send, not a resend; the lost code never works.
	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
	wantStep(t, s, StepPhoneSMSCode)
	if len(s.PhoneResends) != 0 {
		t.Fatalf("resends %v after a failed first text", s.PhoneResends)
	}
	if lost != w.lastSMS().Code {
		s = w.wantErr(s, SubmitSMSCode{Code: lost}, FieldCode, MsgCodeWrong)
	}
	// A resend that fails is given back.
	s = w.must(s, ResendSMSCode{})
	if len(s.PhoneResends) != 1 {
		t.Fatalf("resends %v after one resend", s.PhoneResends)
	}
	s = w.wantErr(s, SMSNotSent{Message: msgDown}, FieldMethod, msgDown)
	wantStep(t, s, StepPhoneEnter)
	if len(s.PhoneResends) != 0 || !s.StageSent {
		t.Fatalf("after a failed resend: resends %v, stage sent %v", s.PhoneResends, s.StageSent)
	}

	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepPhoneConfirm)
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	s = w.wantErr(s, SMSNotSent{Message: msgDown}, FieldMethod, msgDown)
	wantStep(t, s, StepPhoneConfirm)

	// At sign-in, the challenge.
	w.addUser("ada@example.com", "correct horse", mobile)
	c := w.signIn("ada@example.com", "correct horse")
	c = w.must(c, ChooseMethod{Method: MethodSMS})
	c = w.wantErr(c, SMSNotSent{Message: msgDown}, FieldMethod, msgDown)
	wantStep(t, c, StepChallenge)
	c = w.must(c, ChooseMethod{Method: MethodCall})
	wantStep(t, c, StepChallengeCallWait)
}
