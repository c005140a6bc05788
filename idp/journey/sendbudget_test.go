package journey

import (
	"testing"
	"time"

	"github.com/councilforms/idp/factors"
)

// lastBudget is the last CheckSendBudget the journey asked.
func (w *world) lastBudget() CheckSendBudget {
	w.t.Helper()
	if len(w.budgets) == 0 {
		w.t.Fatal("no send budget asked")
	}
	return w.budgets[len(w.budgets)-1]
}

// Every send budget query says whose account it is and whether the number is
// being enrolled; every text and call says whether its number is verified (the
// delivery's share of the daily ceiling).
func TestSendBudgetSaysWhoAndWhetherEnrolment(t *testing.T) {
	w := newWorld(t, nil)
	s := w.m.NewSignIn("j-1", "ar-1", w.now)
	s = w.must(s, StartSignUp{})
	s = w.must(s, SubmitEmail{Email: "ada@example.com"})
	if q := w.lastBudget(); q != (CheckSendBudget{Channel: factors.ChannelEmail, To: "ada@example.com"}) {
		t.Fatalf("sign-up email: %+v", q)
	}
	s = w.must(s, SubmitEmailCode{Code: w.lastEmailCode().Code})
	s = w.must(s, Continue{})
	s = w.must(s, SubmitDetails{GivenName: "Ada", FamilyName: "L", Password: "correct horse", Confirm: "correct horse"})
	user := s.UserID

	// Enrolment of a new number, by text and by call, then its confirmation.
	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
	if q := w.lastBudget(); q != (CheckSendBudget{Channel: factors.ChannelSMS, To: "+447700900123", UserID: user, Enrolment: true}) {
		t.Fatalf("enrolment text: %+v", q)
	}
	if w.lastSMS().Verified {
		t.Fatal("a text to a number being enrolled is marked verified")
	}
	s = w.must(s, ChooseMethod{Method: MethodCall})
	if q := w.lastBudget(); !q.Enrolment || q.Channel != factors.ChannelVoice || q.UserID != user {
		t.Fatalf("enrolment call: %+v", q)
	}
	if w.lastCall().Verified {
		t.Fatal("a call to a number being enrolled is marked verified")
	}
	s = w.must(s, confirmCall(w.lastCall().CallID))
	wantStep(t, s, StepPhoneConfirm)
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	if q := w.lastBudget(); !q.Enrolment || w.lastSMS().Verified {
		t.Fatalf("confirmation of the new number: %+v, %+v", q, w.lastSMS())
	}
	w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	w.accounts["ada@example.com"].Phone = "+447700900123"
	w.accounts["ada@example.com"].PhoneType = "mobile"
	w.accounts["ada@example.com"].PhoneVerified = true

	// A sign-in challenges the verified number.
	s = w.signIn("ada@example.com", "correct horse")
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	if q := w.lastBudget(); q.Enrolment || q.UserID != user || !w.lastSMS().Verified {
		t.Fatalf("challenge text: %+v, %+v", q, w.lastSMS())
	}
	s = w.must(s, ChooseMethod{Method: MethodCall})
	if q := w.lastBudget(); q.Enrolment || !w.lastCall().Verified {
		t.Fatalf("challenge call: %+v, %+v", q, w.lastCall())
	}

	// A change of number: the old one is challenged, the new one enrolled.
	a := *w.accounts["ada@example.com"]
	s, err := w.m.NewChangePhone("j-3", "", a, w.now)
	if err != nil {
		t.Fatal(err)
	}
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	if q := w.lastBudget(); q.Enrolment || !w.lastSMS().Verified {
		t.Fatalf("change of number, old number: %+v", q)
	}
	s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
	w.must(s, SubmitPhone{Number: mobile2, Method: MethodSMS})
	if q := w.lastBudget(); !q.Enrolment || q.To != "+447700900456" || w.lastSMS().Verified {
		t.Fatalf("change of number, new number: %+v, %+v", q, w.lastSMS())
	}
	// Typing the verified number again is no enrolment.
	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
	if q := w.lastBudget(); q.Enrolment || !w.lastSMS().Verified {
		t.Fatalf("change of number to the same number: %+v", q)
	}
}

// An account without a phone enrols at every sign-in: its texts are enrolments.
func TestSignInWithoutPhoneIsEnrolment(t *testing.T) {
	w := newWorld(t, nil)
	a := w.addUser("ada@example.com", "correct horse", "")
	s := w.signIn("ada@example.com", "correct horse")
	wantStep(t, s, StepPhoneEnter)
	w.must(s, SubmitPhone{Number: mobile, Method: MethodCall})
	if q := w.lastBudget(); !q.Enrolment || q.UserID != a.UserID || w.lastCall().Verified {
		t.Fatalf("phoneless sign-in: %+v, %+v", q, w.lastCall())
	}
}

// The account's enrolment budgets send the person to the council; the others say
// how long to wait.
func TestSendRefusalMessages(t *testing.T) {
	for _, tc := range []struct {
		reason  SendRefusal
		contact string
		wait    time.Duration
		want    string
	}{
		{RefusedBusy, "contact us", 30 * time.Minute, "We cannot send any more messages right now. Wait 30 minutes, then try again"},
		{RefusedNewNumbers, "contact the council's customer services", 5 * time.Hour,
			"You have tried too many different phone numbers today. Try again in 5 hours, or contact the council's customer services"},
		{RefusedEnrolmentSends, "call 01632 960 001", 90 * time.Minute,
			"We have sent too many codes to new phone numbers for this account today. Try again in 90 minutes, or call 01632 960 001"},
		{RefusedNewNumbers, "", 0, "You have tried too many different phone numbers today. Try again later"},
	} {
		t.Run(string(tc.reason)+" "+tc.contact, func(t *testing.T) {
			w := newWorld(t, func(p *Policy) { p.ContactText = tc.contact })
			s := w.toPhoneEnter("ada@example.com")
			// 'Send Code', and the caller's answer.
			res, err := w.m.Apply(s, SubmitPhone{Number: mobile, Method: MethodSMS}, w.now)
			if err != nil {
				t.Fatal(err)
			}
			res, err = w.m.Apply(res.State, SendBudgetChecked{RetryAfter: tc.wait, Reason: tc.reason}, w.now)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Errors) != 1 || res.Errors[0] != (FieldError{Field: FieldPhone, Message: tc.want}) {
				t.Fatalf("errors %+v, want %q", res.Errors, tc.want)
			}
			wantStep(t, res.State, StepPhoneEnter)
			if len(res.Effects) != 0 {
				t.Fatalf("a refused send has effects %+v", res.Effects)
			}
		})
	}
}

// A call the daily ceiling stopped says so, and until when: for a number being
// enrolled that its share is spent, for a verified number that nothing can go.
func TestCallStoppedByTheCeiling(t *testing.T) {
	w := newWorld(t, func(p *Policy) { p.ContactText = "call 01632 960 001" })
	w.now = time.Date(2026, 3, 2, 17, 0, 0, 0, time.UTC) // 7 hours to the UTC day's end
	s := w.toPhoneEnter("ada@example.com")
	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodCall})
	s = w.wantErr(s, CallOutcome{CallID: w.lastCall().CallID, Result: factors.CallCeilingReached}, FieldPhone,
		"We cannot send codes to new phone numbers at the moment. Try again in 7 hours, or call 01632 960 001")
	wantStep(t, s, StepPhoneEnter)

	w.addUser("grace@example.com", "correct horse", mobile2)
	s = w.signIn("grace@example.com", "correct horse")
	s = w.must(s, ChooseMethod{Method: MethodCall})
	s = w.wantErr(s, CallOutcome{CallID: w.lastCall().CallID, Result: factors.CallCeilingReached}, FieldMethod,
		"We cannot send text messages or make calls at the moment. Try again in 7 hours, or call 01632 960 001")
	wantStep(t, s, StepChallenge)
}
