package journey

import (
	"fmt"
	"strings"
	"time"

	"github.com/councilforms/idp/factors"
)

// Sending codes and placing calls, with the two budgets: the journey's own resend
// budget (in the state) and the durable budgets the caller keeps (CheckSendBudget).
// Checking them is codes.go's.

// requestSend moves to target and asks the caller's durable budget for one message
// on ch; the code or call is issued when the answer allows it (sendBudgetChecked).
// When the journey's own resend budget is spent it says so and stays put.
func (t *tx) requestSend(ch factors.Channel, target Step) error {
	s := t.s
	if t.isResend(ch) {
		list := t.recentResends(ch)
		if len(list) >= t.m.policy.ResendLimit {
			wait := time.Unix(list[0], 0).Add(t.m.policy.ResendWindow).Sub(t.now)
			t.fieldError(fieldFor(s.Step), msgTooManyResends(wait))
			return nil
		}
	}
	from := s.Step
	t.goTo(target)
	s.SendFrom = from
	q := CheckSendBudget{Channel: ch, To: s.Email, UserID: s.UserID}
	if ch != factors.ChannelEmail {
		q.To, q.Enrolment = s.Phone, !s.toVerifiedNumber()
		if s.UserID == "" {
			return fmt.Errorf("journey: %s: a %s to a number without an account", s.ID, ch)
		}
	}
	t.ask(q)
	return nil
}

// toVerifiedNumber reports whether the number being proven is the account's
// verified one (a challenge), not one being enrolled.
func (s *State) toVerifiedNumber() bool { return s.AccountPhone != "" && s.Phone == s.AccountPhone }

func sendBudgetChecked(t *tx, e Event) error {
	ev := e.(SendBudgetChecked)
	s := t.s
	from := s.SendFrom
	s.SendFrom = ""
	if !ev.Allowed {
		if from != "" {
			t.goTo(from)
		}
		if s.Kind == KindRecoverPhone && stageOf(from) == stageChallenge {
			// The route's first email was refused: it has not started, and
			// the sign-in goes on at its challenge.
			s.Kind, s.EmailHasAccount = KindSignIn, false
		}
		msg := msgSendRefused(ev.RetryAfter)
		switch ev.Reason {
		case RefusedNewNumbers:
			msg = msgTooManyNewNumbers(ev.RetryAfter, t.m.policy.ContactText)
		case RefusedEnrolmentSends:
			msg = msgTooManyEnrolmentSends(ev.RetryAfter, t.m.policy.ContactText)
		}
		t.fieldError(fieldFor(s.Step), msg)
		return nil
	}
	ch := channelOf(s.Step)
	if t.isResend(ch) {
		list := append(t.recentResends(ch), t.now.Unix())
		if ch == factors.ChannelEmail {
			s.EmailResends = list
		} else {
			s.PhoneResends = list
		}
	}
	t.sent = ch
	switch ch {
	case factors.ChannelEmail:
		return t.issueEmailCode()
	case factors.ChannelSMS:
		return t.issueSMSCode()
	default:
		return t.placeCall()
	}
}

// isResend: the first email of the journey and the first message of each phone proof
// are free; every later one is a resend.
func (t *tx) isResend(ch factors.Channel) bool {
	if ch == factors.ChannelEmail {
		return t.s.EmailCode != nil
	}
	return t.s.StageSent
}

// recentResends returns the channel's resend times within the window, oldest first.
func (t *tx) recentResends(ch factors.Channel) []int64 {
	list := t.s.PhoneResends
	if ch == factors.ChannelEmail {
		list = t.s.EmailResends
	}
	cutoff := t.now.Add(-t.m.policy.ResendWindow).Unix()
	var out []int64
	for _, at := range list {
		if at > cutoff {
			out = append(out, at)
		}
	}
	return out
}

// issueEmailCode sends a new code, superseding any earlier one. An address that
// already has an account gets SendAccountExistsEmail at sign-up, and an address with
// no account gets nothing in a password reset; both journeys look the same as the
// real one, and their code accepts nothing.
func (t *tx) issueEmailCode() error {
	s := t.s
	c := &Code{ExpiresAt: t.now.Add(t.m.policy.EmailCodeTTL)}
	switch {
	case s.Kind == KindSignUp && s.EmailHasAccount:
		t.effect(SendAccountExistsEmail{To: s.Email})
	case s.Kind == KindForgotPassword && !s.EmailHasAccount:
	default:
		code, err := t.newCode()
		if err != nil {
			return err
		}
		c.Hash = t.m.hasher.Hash(t.emailPurpose(), code)
		purpose := EmailVerifyAddress
		switch s.Kind {
		case KindForgotPassword:
			purpose = EmailResetPassword
		case KindRecoverPhone:
			purpose = EmailRecoverPhone
		}
		t.effect(SendEmailCode{To: s.Email, Code: code, Purpose: purpose})
	}
	s.EmailCode = c
	return nil
}

func (t *tx) issueSMSCode() error {
	code, err := t.newCode()
	if err != nil {
		return err
	}
	s := t.s
	s.PhoneCode = &Code{Hash: t.m.hasher.Hash(t.smsPurpose(), code), ExpiresAt: t.now.Add(t.m.policy.SMSCodeTTL)}
	s.Call = nil // one proof in flight at a time
	s.StageSent = true
	t.effect(SendSMSCode{To: s.Phone, Code: code, Verified: s.toVerifiedNumber()})
	return nil
}

// smsNotSent undoes a text that could not be sent: no code is in flight, the
// journey goes back to the stage's choice of method with the reason (so the page
// never says a code was sent), and the send does not count as a resend.
func smsNotSent(t *tx, e Event) error {
	ev := e.(SMSNotSent)
	s := t.s
	s.PhoneCode = nil
	if n := len(s.PhoneResends); s.StageSent && n > 0 && s.PhoneResends[n-1] >= t.now.Add(-time.Minute).Unix() {
		s.PhoneResends = s.PhoneResends[:n-1]
	} else {
		s.StageSent = false
	}
	t.goTo(stageSteps[stageOf(s.Step)].choose)
	t.fieldError(FieldMethod, ev.Message)
	return nil
}

func (t *tx) placeCall() error {
	id, err := t.m.policy.NewCallID()
	if err != nil {
		return fmt.Errorf("journey: %s: call id: %w", t.s.ID, err)
	}
	s := t.s
	s.Call = &Call{ID: id, ExpiresAt: t.now.Add(t.m.policy.CallTimeout)}
	s.PhoneCode = nil
	s.StageSent = true
	t.effect(PlaceCall{To: s.Phone, CallID: id, Verified: s.toVerifiedNumber()})
	return nil
}

func (t *tx) newCode() (string, error) {
	code, err := t.m.policy.NewCode()
	if err != nil {
		return "", fmt.Errorf("journey: %s: new code: %w", t.s.ID, err)
	}
	return code, nil
}

// Code hashes are bound to the journey, the channel and the destination, so a code
// never verifies for another journey, channel or address.
func (t *tx) emailPurpose() string { return t.s.ID + "|email|" + strings.ToLower(t.s.Email) }
func (t *tx) smsPurpose() string   { return t.s.ID + "|sms|" + t.s.Phone }

// channelOf is the channel a code or call step receives on.
func channelOf(s Step) factors.Channel {
	switch {
	case s.IsEmailCodeStep():
		return factors.ChannelEmail
	case s.IsSMSCodeStep():
		return factors.ChannelSMS
	}
	return factors.ChannelVoice
}

// fieldFor is the field a page-level message belongs to on step s.
func fieldFor(s Step) string {
	switch {
	case s == StepSignUpEmail || s == StepForgotEmail || s == StepSignIn:
		return FieldEmail
	case s == StepPhoneEnter:
		return FieldPhone
	case s.IsEmailCodeStep() || s.IsSMSCodeStep():
		return FieldCode
	}
	return FieldMethod
}
