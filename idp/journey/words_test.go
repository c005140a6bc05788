package journey

import (
	"testing"
	"time"

	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/idp/password"
	"github.com/councilforms/idp/ui"
)

// TestErrorsHaveTheirWords: every message the journey, the phone rules and
// the password rules write in English is in the pages' catalogue, word for
// word, so a person reading Welsh reads it in Welsh. A message reworded here
// and not there fails this test.
func TestErrorsHaveTheirWords(t *testing.T) {
	msgs := []string{
		MsgEnterEmail, MsgEmailFormat, MsgEmailTooLong, MsgEnterPassword, MsgSignInIncorrect,
		MsgEnterGivenName, MsgEnterFamilyName, MsgGivenNameTooLong, MsgFamilyNameTooLong, MsgNameCharacters,
		MsgCreatePassword, MsgConfirmPassword, MsgPasswordsDontMatch, MsgEnterCode, MsgCodeFormat,
		MsgCodeWrong, MsgCodeExpired, MsgCodeTooManyWrong, MsgLandlineNoText, MsgCallNotAnswered,
		MsgCallBusy, MsgCallFailed,
		password.ErrTooShort.Error(), password.ErrTooLong.Error(), password.ErrCommon.Error(),
		phone.Message(phone.ErrEmpty), phone.Message(phone.ErrFormat), phone.Message(phone.ErrRegion),
		phone.Message(phone.ErrNotPersonal), phone.Message(phone.ErrFreephone), phone.Message(phone.ErrPremiumRate),
		phone.Message(phone.ErrSharedCost), phone.Message(phone.ErrPersonalNumber),
	}
	now := t0
	const contact = "contact the council's customer services"
	for _, wait := range []time.Duration{0, time.Minute, 15 * time.Minute, 3 * time.Hour} {
		if wait > 0 {
			msgs = append(msgs, msgThrottled(wait), msgTooManyResends(wait))
		}
		for _, c := range []string{"", contact} {
			if wait > 0 {
				msgs = append(msgs, msgLocked(now.Add(wait), now, c))
			}
			msgs = append(msgs, msgTooManyNewNumbers(wait, c), msgTooManyEnrolmentSends(wait, c),
				MsgSendCeiling(true, wait, c), MsgSendCeiling(false, wait, c))
		}
		msgs = append(msgs, msgSendRefused(wait))
	}
	for _, c := range []string{"", contact} {
		m := newMachine(t, func(p *Policy) { p.ContactText = c; p.FormatTime = ui.FormatTime })
		for _, step := range []Step{StepSignUpEmailCode, StepChallengeSMSCode} {
			tx := &tx{m: m, s: &State{Step: step}, now: now}
			msgs = append(msgs, tx.msgCodesLocked(now.Add(time.Hour)))
		}
	}
	for _, m := range msgs {
		if !ui.IsCatalogued(m) {
			t.Errorf("not in ui/locales/en.txt: %q", m)
			continue
		}
		if cy := ui.Translate("cy", m); cy == m {
			t.Errorf("no Welsh for %q", m)
		}
	}
}
