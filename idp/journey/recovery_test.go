package journey

import (
	"testing"
	"time"
)

func recoveryOn(p *Policy) { p.PhoneRecovery, p.PhoneRecoveryWait = true, 72*time.Hour }

// TestPhoneRecoveryBySMS: a sign-in whose phone is lost changes the number
// itself: a code to the account's address, the new number proven by text
// (twice, as every enrolment), and the change asked for with the wait; the
// sign-in does not complete and the account's phone is not set.
func TestPhoneRecoveryBySMS(t *testing.T) {
	w := newWorld(t, recoveryOn)
	a := w.addUser("ada@example.com", "correct horse", mobile)
	s := w.signIn("Ada@example.com", "correct horse")
	wantStep(t, s, StepChallenge)
	s = w.must(s, StartPhoneRecovery{})
	wantStep(t, s, StepRecoveryEmailCode)
	if s.Kind != KindRecoverPhone {
		t.Fatalf("kind %s", s.Kind)
	}
	sent := w.lastEmailCode()
	if sent.To != "Ada@example.com" || sent.Purpose != EmailRecoverPhone {
		t.Fatalf("email code %+v", sent)
	}
	s = w.wantErr(s, SubmitEmailCode{Code: "000000"}, FieldCode, MsgCodeWrong)
	s, res := w.do(s, ResendEmailCode{})
	if len(res.Errors) > 0 || w.lastEmailCode().Code == "" {
		t.Fatalf("resend: %v", res.Errors)
	}
	wantStep(t, s, StepRecoveryEmailCode)
	s = w.must(s, SubmitEmailCode{Code: w.lastEmailCode().Code})
	wantStep(t, s, StepPhoneEnter)

	// The account's own number is not a change.
	s = w.wantErr(s, SubmitPhone{Number: mobile, Method: MethodSMS}, FieldPhone, MsgPhoneSameNumber)
	s = w.must(s, SubmitPhone{Number: mobile2, Method: MethodSMS})
	wantStep(t, s, StepPhoneSMSCode)
	if got := w.budgets[len(w.budgets)-1]; !got.Enrolment || got.UserID != a.UserID {
		t.Fatalf("the new number's text was budgeted as %+v", got)
	}
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepPhoneConfirm)
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepRecoveryPending)

	var asked []RequestPhoneChange
	for _, e := range w.effects {
		switch e := e.(type) {
		case RequestPhoneChange:
			asked = append(asked, e)
		case SetPhone:
			t.Fatalf("the recovery route set the phone at once: %+v", e)
		case CompleteAuth:
			t.Fatal("the recovery route completed the sign-in")
		}
	}
	want := RequestPhoneChange{UserID: a.UserID, Number: s.Phone, Type: s.PhoneType, EffectiveAt: w.now.Add(72 * time.Hour)}
	if len(asked) != 1 || asked[0] != want || s.Phone == a.Phone {
		t.Fatalf("phone changes asked %+v, want %+v", asked, want)
	}
	if !s.RecoveryAt.Equal(want.EffectiveAt) || len(s.AMR) != 0 {
		t.Fatalf("pending page: RecoveryAt %v, AMR %v", s.RecoveryAt, s.AMR)
	}
	// Nothing more happens here but signing in again, from the start.
	if _, err := w.m.Apply(s, SubmitSMSCode{Code: "123456"}, w.now); !isRefused(err) {
		t.Fatalf("a code on the pending page: %v", err)
	}
	s = w.must(s, GoToSignIn{})
	wantStep(t, s, StepSignIn)
	if s.UserID != "" || s.Kind != KindSignIn {
		t.Fatalf("signing in again kept the account %q (kind %s)", s.UserID, s.Kind)
	}
}

// TestPhoneRecoveryByCall: from a code or a call of the challenge, with a
// landline new number proven by call once (no second proof).
func TestPhoneRecoveryByCall(t *testing.T) {
	for _, twice := range []bool{false, true} {
		w := newWorld(t, func(p *Policy) { recoveryOn(p); p.PhoneConfirmTwice = twice })
		w.addUser("ada@example.com", "correct horse", mobile)
		s := w.signIn("ada@example.com", "correct horse")
		if twice {
			s = w.must(s, ChooseMethod{Method: MethodSMS})
			wantStep(t, s, StepChallengeSMSCode)
		} else {
			s = w.must(s, ChooseMethod{Method: MethodCall})
			wantStep(t, s, StepChallengeCallWait)
		}
		s = w.must(s, StartPhoneRecovery{})
		wantStep(t, s, StepRecoveryEmailCode)
		if _, err := w.m.Apply(s, confirmCall("call-1"), w.now); !isRefused(err) {
			t.Fatalf("a call outcome on the email code page: %v", err)
		}
		s = w.must(s, SubmitEmailCode{Code: w.lastEmailCode().Code})
		s = w.must(s, SubmitPhone{Number: landline, Method: MethodCall})
		wantStep(t, s, StepPhoneCallWait)
		s = w.must(s, confirmCall(w.lastCall().CallID))
		if twice {
			wantStep(t, s, StepPhoneConfirm)
			s = w.must(s, ChooseMethod{Method: MethodCall})
			s = w.must(s, confirmCall(w.lastCall().CallID))
		}
		wantStep(t, s, StepRecoveryPending)
		if w.count(func(e Effect) bool { _, ok := e.(RequestPhoneChange); return ok }) != 1 {
			t.Fatal("no phone change asked for")
		}
	}
}

// TestPhoneRecoveryRefused: off, or outside a sign-in whose password was
// accepted, the route is refused and nothing changes.
func TestPhoneRecoveryRefused(t *testing.T) {
	off := newWorld(t, nil)
	off.addUser("ada@example.com", "correct horse", mobile)
	s := off.signIn("ada@example.com", "correct horse")
	if _, err := off.m.Apply(s, StartPhoneRecovery{}, off.now); !isRefused(err) {
		t.Fatalf("with PhoneRecovery off: %v", err)
	}

	w := newWorld(t, recoveryOn)
	a := w.addUser("ada@example.com", "correct horse", mobile)
	// A change of phone from the account pages is not a sign-in.
	cp, err := w.m.NewChangePhone("j-3", "", *a, w.now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.m.Apply(cp, StartPhoneRecovery{}, w.now); !isRefused(err) {
		t.Fatalf("from a change of phone: %v", err)
	}
	// Before the password, the route is not on offer.
	if _, err := w.m.Apply(w.m.NewSignIn("j-4", "ar", w.now), StartPhoneRecovery{}, w.now); !isRefused(err) {
		t.Fatalf("before the password: %v", err)
	}
}

// TestPhoneRecoveryEmailRefused: when the send budget refuses the first email,
// the sign-in stays at its challenge, still a sign-in, and proving the
// account's phone then signs in.
func TestPhoneRecoveryEmailRefused(t *testing.T) {
	for _, from := range []Method{"", MethodCall} {
		w := newWorld(t, recoveryOn)
		w.addUser("ada@example.com", "correct horse", mobile)
		s := w.signIn("ada@example.com", "correct horse")
		at := StepChallenge
		if from == MethodCall {
			s = w.must(s, ChooseMethod{Method: MethodCall})
			at = StepChallengeCallWait
		}
		w.deny = true
		s, res := w.do(s, StartPhoneRecovery{})
		if len(res.Errors) != 1 {
			t.Fatalf("refused email: errors %v", res.Errors)
		}
		wantStep(t, s, at)
		if s.Kind != KindSignIn {
			t.Fatalf("kind %s after the refused email", s.Kind)
		}
		w.deny = false
		if from == MethodCall {
			s = w.must(s, confirmCall(w.lastCall().CallID))
		} else {
			s = w.must(s, ChooseMethod{Method: MethodSMS})
			s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
		}
		wantStep(t, s, StepDone)
	}
}

// TestPhoneRecoveryCancelledBySignIn: an account with a pending change whose
// owner proves the account's phone cancels it; without one nothing is asked.
func TestPhoneRecoveryCancelledBySignIn(t *testing.T) {
	w := newWorld(t, recoveryOn)
	a := w.addUser("ada@example.com", "correct horse", mobile)
	a.PhoneChangePending = true
	s := w.signIn("ada@example.com", "correct horse")
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepDone)
	cancels := 0
	for _, e := range w.effects {
		if c, ok := e.(CancelPhoneChange); ok {
			cancels++
			if c.UserID != a.UserID {
				t.Fatalf("cancelled for %q", c.UserID)
			}
		}
	}
	if cancels != 1 {
		t.Fatalf("%d cancellations, want 1", cancels)
	}

	b := w.addUser("bob@example.com", "correct horse", mobile2)
	s = w.signIn("bob@example.com", "correct horse")
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepDone)
	if n := w.count(func(e Effect) bool { c, ok := e.(CancelPhoneChange); return ok && c.UserID == b.UserID }); n != 0 {
		t.Fatal("a sign-in without a pending change cancelled one")
	}
}

// TestPhoneRecoveryProvenOnce: with one proof of a new number, a right text
// code ends the route.
func TestPhoneRecoveryProvenOnce(t *testing.T) {
	w := newWorld(t, func(p *Policy) { recoveryOn(p); p.PhoneConfirmTwice = false })
	w.addUser("ada@example.com", "correct horse", landline)
	s := w.signIn("ada@example.com", "correct horse")
	s = w.must(s, StartPhoneRecovery{})
	s = w.must(s, SubmitEmailCode{Code: w.lastEmailCode().Code})
	s = w.must(s, SubmitPhone{Number: mobile2, Method: MethodSMS})
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, s, StepRecoveryPending)
	if w.count(func(e Effect) bool { c, ok := e.(RequestPhoneChange); return ok && c.Type.CanText() }) != 1 {
		t.Fatal("no phone change to the mobile asked for")
	}
}
