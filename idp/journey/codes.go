package journey

import (
	"fmt"
	"strings"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/otp"
)

// Checking a typed code (email or text message). Each code has its own few
// tries (Policy.MaxAttempts, kept in the state), but a fresh journey gets a
// fresh code, so wrong codes are also counted by the caller across journeys,
// per destination and per account, in the durable store. A check is three
// moves:
//
//  1. submitCode checks the shape of what was typed, keeps the code in memory
//     (State.guess) and asks CheckCodeGuesses: is this factor locked?
//  2. codeGuessesChecked: a locked factor refuses the code without checking
//     it, even a right one. Otherwise the live code is compared: a right one
//     ends the runs of wrong codes (ResetWrongCodes) and proves the factor; a
//     wrong one uses up one of the code's tries and is counted
//     (RecordWrongCode).
//  3. wrongCodeRecorded shows the lock when that wrong code locked the factor,
//     else the usual message.
//
// Why queries of the journey rather than a check and a count around it in the
// web layer: the machine already decides everything else about a code (which
// code is live, expiry, its tries, what a right one proves), and this is one
// more such rule, with its messages; as queries it sits in the transition
// table, Drive answers it like CheckPassword's lockout, and the journey's table
// tests see every outcome. The caller only counts and applies the numbers
// (limits.CodeGuesses). The cost is that the typed code must wait for the
// first answer: it waits in memory only, never in the stored state.

// submitCode starts the check of input at a code step.
func (t *tx) submitCode(input string) error {
	if strings.TrimSpace(input) == "" {
		t.fieldError(FieldCode, MsgEnterCode)
		return nil
	}
	code, ok := otp.Normalize(input)
	if !ok {
		t.fieldError(FieldCode, MsgCodeFormat)
		return nil
	}
	t.s.guess = code
	t.ask(CheckCodeGuesses{Factor: t.codeFactor()})
	return nil
}

func codeGuessesChecked(t *tx, e Event) error {
	ev := e.(CodeGuessesChecked)
	code := t.s.guess
	t.s.guess = ""
	if code == "" {
		// The state was saved while it awaited the answer (not through Drive):
		// the code typed is gone, so there is nothing to check.
		return refuse(t.s, EventCodeGuessesChecked, "no typed code is waiting for it")
	}
	if t.now.Before(ev.LockedUntil) {
		t.fieldError(FieldCode, t.msgCodesLocked(ev.LockedUntil))
		return nil
	}
	c, purpose := t.liveCode()
	switch {
	case c == nil:
		t.fieldError(FieldCode, MsgCodeWrong)
		return nil
	case c.Attempts >= t.m.policy.MaxAttempts:
		t.fieldError(FieldCode, MsgCodeTooManyWrong)
		return nil
	case !t.now.Before(c.ExpiresAt):
		t.fieldError(FieldCode, MsgCodeExpired)
		return nil
	}
	f := t.codeFactor()
	if !t.m.hasher.Verify(purpose, code, c.Hash) {
		c.Attempts++
		t.ask(RecordWrongCode{Factor: f})
		return nil
	}
	t.effect(ResetWrongCodes{Factor: f})
	if f.Channel == factors.ChannelEmail {
		t.s.EmailCode = nil // single use
		return t.advance(emailProven)
	}
	t.s.PhoneCode = nil // single use
	t.s.prove(AMRSMS)
	return t.advance(phoneProven)
}

func wrongCodeRecorded(t *tx, e Event) error {
	ev := e.(WrongCodeRecorded)
	c, _ := t.liveCode()
	dead := c != nil && c.Attempts >= t.m.policy.MaxAttempts
	if dead {
		t.effect(Audit{Kind: "code.locked", UserID: t.s.UserID, Detail: fmt.Sprintf("%d wrong entries at %s", c.Attempts, t.s.Step)})
	}
	switch {
	case t.now.Before(ev.LockedUntil):
		t.fieldError(FieldCode, t.msgCodesLocked(ev.LockedUntil))
	case dead:
		t.fieldError(FieldCode, MsgCodeTooManyWrong)
	default:
		t.fieldError(FieldCode, MsgCodeWrong)
	}
	return nil
}

// codeFactor is what the code of the current step proves.
func (t *tx) codeFactor() CodeFactor {
	s := t.s
	if s.Step.IsEmailCodeStep() {
		return CodeFactor{Channel: factors.ChannelEmail, To: s.Email, UserID: s.UserID}
	}
	return CodeFactor{Channel: factors.ChannelSMS, To: s.Phone, UserID: s.UserID}
}

// liveCode is the code the current step accepts, and the purpose its hash is
// bound to.
func (t *tx) liveCode() (*Code, string) {
	if t.s.Step.IsEmailCodeStep() {
		return t.s.EmailCode, t.emailPurpose()
	}
	return t.s.PhoneCode, t.smsPurpose()
}

// msgCodesLocked tells the person that the codes of this email address or
// number are locked, until when (rounded up to the minute, so that the time
// shown is never early), and what else they can do: a text-message code page
// offers a call, which has no code to guess; and a human (Policy.ContactText).
func (t *tx) msgCodesLocked(until time.Time) string {
	if r := until.Truncate(time.Minute); r.Before(until) {
		until = r.Add(time.Minute)
	}
	what, options := "email address", []string{"You can try again after " + t.m.policy.FormatTime(until)}
	if !t.s.Step.IsEmailCodeStep() {
		what, options = "phone number", append(options, "select 'Call Me instead'")
	}
	if c := t.m.policy.ContactText; c != "" {
		options = append(options, c)
	}
	msg := "Too many wrong codes have been entered for this " + what + ". " + options[0]
	for i, o := range options[1:] {
		if i == len(options)-2 {
			msg += ", or " + o
		} else {
			msg += ", " + o
		}
	}
	return msg
}
