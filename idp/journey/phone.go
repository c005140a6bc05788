package journey

import (
	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/idp/limits"
)

// Phone pages: enter a number, choose 'Send Code' or 'Call Me', type the code, wait
// for the call. The same handlers serve enrolment, confirmation and challenge; the
// stage of the current step says which code and call steps to use.

func submitPhone(t *tx, e Event) error {
	ev := e.(SubmitPhone)
	if !ev.Method.valid() {
		return refuse(t.s, EventSubmitPhone, "unknown method "+string(ev.Method))
	}
	n, err := t.m.policy.Phone.Parse(ev.Number)
	if err != nil {
		// The phone package's own message: a freephone number, a country the
		// council does not accept, a mistyped number each say so.
		t.fieldError(FieldPhone, phone.Message(err))
		return nil
	}
	e164, typ := n.E164, n.Type
	s := t.s
	if s.Kind == KindRecoverPhone && e164 == s.AccountPhone {
		// The route is for a number the person has lost; proving the old one
		// is signing in.
		t.fieldError(FieldPhone, MsgPhoneSameNumber)
		return nil
	}
	if e164 != s.Phone {
		s.PhoneCode, s.Call = nil, nil // a proof in flight belongs to the old number
	}
	s.Phone, s.PhoneType = e164, typ
	if ev.Method == MethodSMS && !typ.CanText() {
		t.fieldError(FieldPhone, MsgLandlineNoText)
		return nil
	}
	return t.startProof(ev.Method)
}

func chooseMethod(t *tx, e Event) error {
	m := e.(ChooseMethod).Method
	if !m.valid() {
		return refuse(t.s, EventChooseMethod, "unknown method "+string(m))
	}
	if m == MethodSMS && !t.s.PhoneType.CanText() {
		t.fieldError(FieldMethod, MsgLandlineNoText)
		return nil
	}
	return t.startProof(m)
}

// startProof asks for a text or a call in the current stage.
func (t *tx) startProof(m Method) error {
	steps := stageSteps[stageOf(t.s.Step)]
	if m == MethodSMS {
		return t.requestSend(factors.ChannelSMS, steps.smsCode)
	}
	return t.requestSend(factors.ChannelVoice, steps.callWait)
}

// submitSMSCode starts the check of a typed code (codes.go); a right one
// proves the phone of the current stage (phoneProven).
func submitSMSCode(t *tx, e Event) error {
	return t.submitCode(e.(SubmitSMSCode).Code)
}

func resendSMSCode(t *tx, _ Event) error {
	return t.requestSend(factors.ChannelSMS, t.s.Step)
}

func changePhoneNumber(t *tx, _ Event) error {
	t.s.PhoneCode, t.s.Call = nil, nil
	t.goTo(StepPhoneEnter) // the number stays in the state to fill the field
	return nil
}

// backToPhoneChoice leaves a code or a call of a known number for its stage's
// 'Send Code' / 'Call Me' page. The code sent and the call in flight stop counting:
// a code typed later, or '#' pressed on that call, proves nothing.
func backToPhoneChoice(t *tx, _ Event) error {
	t.s.PhoneCode, t.s.Call = nil, nil
	t.goTo(stageSteps[stageOf(t.s.Step)].choose)
	return nil
}

func callOutcome(t *tx, e Event) error {
	ev := e.(CallOutcome)
	if t.s.Call == nil || ev.CallID != t.s.Call.ID {
		return refuse(t.s, EventCallOutcome, "not the call in progress")
	}
	t.s.Call = nil
	if ev.Result == factors.CallConfirmed {
		t.s.prove(AMRTel)
		return t.advance(phoneProven)
	}
	t.callFailed(ev.Result)
	return nil
}

// waitForCall is the 'Continue' or reload of a page waiting for a call: it notices a
// call that was never answered and otherwise changes nothing.
func waitForCall(t *tx, _ Event) error {
	switch {
	case t.s.Call == nil:
		t.callFailed(factors.CallFailed)
	case !t.now.Before(t.s.Call.ExpiresAt):
		t.s.Call = nil
		t.callFailed(factors.CallUnanswered)
	}
	return nil
}

// callFailed goes back to where the method was chosen, saying what happened.
func (t *tx) callFailed(r factors.CallResult) {
	msg := MsgCallFailed
	switch r {
	case factors.CallUnanswered, factors.CallTimedOut:
		msg = MsgCallNotAnswered
	case factors.CallBusy:
		msg = MsgCallBusy
	case factors.CallCeilingReached:
		msg = MsgSendCeiling(t.s.toVerifiedNumber(), limits.WindowLeft(limits.Day, t.now), t.m.policy.ContactText)
	}
	t.goTo(stageSteps[stageOf(t.s.Step)].choose)
	t.fieldError(fieldFor(t.s.Step), msg)
}

func (m Method) valid() bool { return m == MethodSMS || m == MethodCall }
