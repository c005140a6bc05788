package journey

import (
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/London on a machine without a zoneinfo database

	"github.com/councilforms/idp/factors"
)

// codeStep is a way to reach one of the code steps, with what its right code is
// for and where it leads.
type codeStep struct {
	step   Step
	reach  func(w *world) (s *State, right string, f CodeFactor)
	next   Step
	submit func(code string) Event
}

func emailSubmit(code string) Event { return SubmitEmailCode{Code: code} }
func smsSubmit(code string) Event   { return SubmitSMSCode{Code: code} }

var codeSteps = []codeStep{
	{StepSignUpEmailCode, func(w *world) (*State, string, CodeFactor) {
		s := w.m.NewSignIn("j-1", "ar-1", w.now)
		s = w.must(s, StartSignUp{})
		s = w.must(s, SubmitEmail{Email: "Ada@Example.com"})
		// Sign-up knows no account yet: only the address counts.
		return s, w.lastEmailCode().Code, CodeFactor{Channel: factors.ChannelEmail, To: "Ada@Example.com"}
	}, StepSignUpEmailVerified, emailSubmit},
	{StepForgotEmailCode, func(w *world) (*State, string, CodeFactor) {
		a := w.addUser("ada@example.com", "correct horse", mobile)
		s := w.m.NewSignIn("j-1", "ar-1", w.now)
		s = w.must(s, StartForgotPassword{})
		s = w.must(s, SubmitEmail{Email: "ada@example.com"})
		return s, w.lastEmailCode().Code, CodeFactor{Channel: factors.ChannelEmail, To: "ada@example.com", UserID: a.UserID}
	}, StepChallenge, emailSubmit},
	{StepPhoneSMSCode, func(w *world) (*State, string, CodeFactor) {
		s := w.toPhoneEnter("ada@example.com")
		s = w.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
		return s, w.lastSMS().Code, CodeFactor{Channel: factors.ChannelSMS, To: "+447700900123", UserID: s.UserID}
	}, StepPhoneConfirm, smsSubmit},
	{StepPhoneConfirmSMSCode, func(w *world) (*State, string, CodeFactor) {
		s := w.toPhoneEnter("ada@example.com")
		s = w.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
		s = w.must(s, SubmitSMSCode{Code: w.lastSMS().Code})
		s = w.must(s, ChooseMethod{Method: MethodSMS})
		return s, w.lastSMS().Code, CodeFactor{Channel: factors.ChannelSMS, To: "+447700900123", UserID: s.UserID}
	}, StepDone, smsSubmit},
	{StepChallengeSMSCode, func(w *world) (*State, string, CodeFactor) {
		a := w.addUser("ada@example.com", "correct horse", mobile)
		s := w.signIn("ada@example.com", "correct horse")
		s = w.must(s, ChooseMethod{Method: MethodSMS})
		return s, w.lastSMS().Code, CodeFactor{Channel: factors.ChannelSMS, To: "+447700900123", UserID: a.UserID}
	}, StepDone, smsSubmit},
}

func wrongCode(right string) string {
	if right == "999999" {
		return "999998"
	}
	return "999999"
}

// lockMessage is what the journey says while f's codes are locked until until
// (DefaultFormatTime; rounded up to the minute), with no Policy.ContactText.
func lockMessage(ch factors.Channel, until string) string {
	if ch == factors.ChannelEmail {
		return "Too many wrong codes have been entered for this email address. You can try again after " + until
	}
	return "Too many wrong codes have been entered for this phone number. You can try again after " + until + ", or select 'Call Me instead'"
}

// At every code step, the rule applies the same way: a locked destination or
// account refuses even the right code without checking it (the code keeps its
// tries), a wrong code is counted against the destination and the account, a
// right one ends both counts and moves on.
func TestCodeGuessesAtEveryCodeStep(t *testing.T) {
	for _, cs := range codeSteps {
		t.Run(string(cs.step), func(t *testing.T) {
			for _, lockedBy := range []string{"destination", "account"} {
				w := newWorld(t, nil)
				w.now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
				s, right, f := cs.reach(w)
				wantStep(t, s, cs.step)
				keys := factorKeys(f)
				if lockedBy == "account" {
					if f.UserID == "" {
						continue // no account known at this step
					}
					keys = keys[1:]
				}
				// 20 wrong codes in other journeys, the last half a minute ago: locked until 09:59:30.
				for _, k := range keys {
					w.wrongCodes[k] = codeRun{n: 20, last: w.now.Add(-30 * time.Second)}
				}
				before := len(w.effects)
				s = w.wantErr(s, cs.submit(right), FieldCode, lockMessage(f.Channel, "10:00 on 2 March 2026"))
				wantStep(t, s, cs.step)
				c, _ := (&tx{m: w.m, s: s}).liveCode()
				if c == nil || c.Attempts != 0 {
					t.Fatalf("locked by %s: the code refused unchecked lost a try: %+v", lockedBy, c)
				}
				if w.wrongCodes[keys[0]].n != 20 {
					t.Fatalf("locked by %s: a refused code was counted: %+v", lockedBy, w.wrongCodes)
				}
				if len(w.effects) != before {
					t.Fatalf("locked by %s: a refused right code had effects %#v", lockedBy, w.effects[before:])
				}
				// The lock ends (the caller's rule: here 5 minutes) while the code lives:
				// the same code works, and ends the counts of both.
				w.codeRule.LockFor = 5 * time.Minute
				w.now = w.now.Add(5 * time.Minute)
				s, res := w.do(s, cs.submit(right))
				if len(res.Errors) != 0 {
					t.Fatalf("locked by %s, after the lock: %v", lockedBy, res.Errors)
				}
				wantStep(t, s, cs.next)
				if !slices.Contains(res.Effects, Effect(ResetWrongCodes{Factor: f})) {
					t.Fatalf("locked by %s: no ResetWrongCodes{%+v} in %#v", lockedBy, f, res.Effects)
				}
				if len(w.wrongCodes) != 0 {
					t.Fatalf("locked by %s: counts left after a right code: %+v", lockedBy, w.wrongCodes)
				}
			}

			// Not locked: a wrong code is counted against the destination and the
			// account of this very factor.
			w := newWorld(t, nil)
			s, _, f := cs.reach(w)
			for i := 1; i <= 2; i++ {
				s = w.wantErr(s, cs.submit("999999"), FieldCode, MsgCodeWrong)
				for _, k := range factorKeys(f) {
					if w.wrongCodes[k].n != i {
						t.Fatalf("after %d wrong codes %s counts %d", i, k, w.wrongCodes[k].n)
					}
				}
			}
			if len(w.wrongCodes) != len(factorKeys(f)) {
				t.Fatalf("counted in %+v, want only %v", w.wrongCodes, factorKeys(f))
			}
		})
	}
}

// Fresh journeys get fresh codes, but the wrong ones add up: the twentieth locks
// the address (said at once), and the next journey's right code is refused,
// until an hour after the last wrong one.
func TestWrongCodesAcrossJourneysLock(t *testing.T) {
	w := newWorld(t, nil)
	w.now = time.Date(2026, 3, 2, 9, 0, 20, 0, time.UTC)
	journey := func(id string) (*State, string) {
		s := w.m.NewSignIn(id, "ar", w.now)
		s = w.must(s, StartSignUp{})
		s = w.must(s, SubmitEmail{Email: "ada@example.com"})
		return s, w.lastEmailCode().Code
	}
	for j := 1; j <= 4; j++ {
		s, right := journey("j-" + string(rune('0'+j)))
		for i := 1; i <= 5; i++ {
			want := MsgCodeWrong
			switch {
			case j == 4 && i == 5:
				want = lockMessage(factors.ChannelEmail, "10:01 on 2 March 2026")
			case i == 5:
				want = MsgCodeTooManyWrong
			}
			s = w.wantErr(s, SubmitEmailCode{Code: wrongCode(right)}, FieldCode, want)
		}
	}
	s, right := journey("j-5")
	s = w.wantErr(s, SubmitEmailCode{Code: right}, FieldCode, lockMessage(factors.ChannelEmail, "10:01 on 2 March 2026"))
	// Another spelling of the address is the same address.
	other := w.m.NewSignIn("j-6", "ar", w.now)
	other = w.must(other, StartSignUp{})
	other = w.must(other, SubmitEmail{Email: "ADA@example.com"})
	w.wantErr(other, SubmitEmailCode{Code: w.lastEmailCode().Code}, FieldCode, lockMessage(factors.ChannelEmail, "10:01 on 2 March 2026"))

	// An hour after the last wrong code, a fresh journey's right code works.
	w.now = w.now.Add(time.Hour)
	s, right = journey("j-7")
	s = w.must(s, SubmitEmailCode{Code: right})
	wantStep(t, s, StepSignUpEmailVerified)
}

// The code typed waits for CheckCodeGuesses's answer in memory only: a state
// saved while awaiting it holds no code, and the answer then finds nothing to
// check. Any other event forgets the code.
func TestTypedCodeIsNeverStored(t *testing.T) {
	w := newWorld(t, nil)
	s := w.m.NewSignIn("j-1", "ar-1", w.now)
	s = w.must(s, StartSignUp{})
	s = w.must(s, SubmitEmail{Email: "ada@example.com"})
	right := w.lastEmailCode().Code
	res, err := w.m.Apply(s, SubmitEmailCode{Code: right[:3] + " " + right[3:]}, w.now)
	if err != nil {
		t.Fatal(err)
	}
	if res.State.Awaiting != EventCodeGuessesChecked || len(res.Effects) != 1 ||
		res.Effects[0] != Effect(CheckCodeGuesses{Factor: CodeFactor{Channel: factors.ChannelEmail, To: "ada@example.com"}}) {
		t.Fatalf("submit: awaiting %q, effects %#v", res.State.Awaiting, res.Effects)
	}
	b, err := res.State.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), right) {
		t.Fatalf("the state awaiting the answer holds the code: %s", b)
	}
	back, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.m.Apply(back, CodeGuessesChecked{}, w.now); !isRefused(err) {
		t.Fatalf("answer to a stored state: %v, want refused", err)
	}
	// Resending meanwhile abandons the check: its answer is refused.
	res2, err := w.m.Apply(res.State, ResendEmailCode{}, w.now)
	if err != nil {
		t.Fatal(err)
	}
	if res2.State.guess != "" {
		t.Fatal("another event kept the typed code")
	}
	// Through Drive the same code works.
	res3, err := w.m.Drive(s, SubmitEmailCode{Code: right}, w.now, w.answer)
	if err != nil || res3.State.Step != StepSignUpEmailVerified || res3.State.guess != "" {
		t.Fatalf("Drive: %v, step %s", err, res3.State.Step)
	}
}

// The lock's end is shown rounded up to the minute, in the format Policy gives
// (the app's: the pages' own), with the other ways on: a call for a text code,
// and the contact text.
func TestCodesLockedMessage(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err) // time/tzdata is linked in: this does not depend on the machine
	}
	format := func(p *Policy) { p.FormatTime = func(t time.Time) string { return t.Format("3:04pm, 2 Jan") } }
	for _, tc := range []struct {
		step    Step
		until   time.Time
		contact string
		want    string
	}{
		{StepSignUpEmailCode, time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC), "",
			"Too many wrong codes have been entered for this email address. You can try again after 2:05pm, 2 Mar"},
		{StepForgotEmailCode, time.Date(2026, 3, 2, 14, 5, 0, 1, time.UTC), "contact the council's customer services",
			"Too many wrong codes have been entered for this email address. You can try again after 2:06pm, 2 Mar, or contact the council's customer services"},
		{StepChallengeSMSCode, time.Date(2026, 6, 2, 14, 5, 59, 0, time.UTC).In(london), "",
			"Too many wrong codes have been entered for this phone number. You can try again after 3:06pm, 2 Jun, or select 'Call Me instead'"},
		{StepPhoneSMSCode, time.Date(2026, 3, 2, 23, 59, 30, 0, time.UTC), "call 01632 960 001",
			"Too many wrong codes have been entered for this phone number. You can try again after 12:00am, 3 Mar, select 'Call Me instead', or call 01632 960 001"},
	} {
		m := newMachine(t, func(p *Policy) { format(p); p.ContactText = tc.contact })
		if got := (&tx{m: m, s: &State{Step: tc.step}}).msgCodesLocked(tc.until); got != tc.want {
			t.Errorf("%s until %v:\n got %q\nwant %q", tc.step, tc.until, got, tc.want)
		}
	}
	if got := DefaultFormatTime(time.Date(2026, 3, 2, 9, 5, 0, 0, time.UTC)); got != "09:05 on 2 March 2026" {
		t.Errorf("DefaultFormatTime = %q", got)
	}
}
