package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/limits"
	"github.com/councilforms/idp/store/memory"
	"github.com/councilforms/idp/store/storetest"
	"github.com/councilforms/idp/ui"
)

// Wrong codes across fresh journeys: each journey's code allows 5 tries, but a
// fresh journey (a new browser) gets a fresh code. The wrong ones add up in the
// database per email address and number (and account), so the twentieth locks
// that address's or number's codes for an hour: even the right code is refused,
// with a message saying until when, and a flush of Redis (or of the embedded
// journey store) changes nothing.

// flushEphemeral loses the journey store: Redis flushed (the keys of this idp's
// prefix), or the embedded store emptied, as a restart would.
func (d *idp) flushEphemeral() {
	d.t.Helper()
	if eph, ok := d.app.Ephemeral.(*memory.Store); ok {
		eph.Flush()
		return
	}
	storetest.FlushRedis(d.t, d.app.Config.RedisURL, d.app.Config.RedisPrefix)
}

func wrongFor(code string) string { return fmt.Sprintf("%06d", (atoi(code)+1)%1000000) }

// codesLockedShown is the lock's end as the page may show it, for a wrong code
// sent between before and after (server clock): an hour on, rounded up to the
// minute, in the council's time zone and the pages' format.
func codesLockedShown(t *testing.T, before, after time.Time) []string {
	t.Helper()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, at := range []time.Time{before, after} {
		until := at.Add(limits.DefaultCodeGuessLock)
		if r := until.Truncate(time.Minute); r.Before(until) {
			until = r.Add(time.Minute)
		}
		out = append(out, ui.FormatTime(until.In(london)))
	}
	return out
}

// expectCodesLocked checks the page shows the lock with one of the times.
func expectCodesLocked(b *browser, what string, when []string) {
	b.t.Helper()
	lead := "Too many wrong codes have been entered for this " + what + ". You can try again after "
	body := text(b.page.body)
	for _, w := range when {
		if strings.Contains(body, lead+w) {
			return
		}
	}
	b.t.Fatalf("page does not say %q with one of %v:\n%s", lead, when, b.page)
}

// wrongEmailCodes starts a sign-up for email in a new browser and types n wrong
// codes, expecting the usual messages; it returns the browser and its code.
func wrongEmailCodes(d *idp, email string, n int) (*browser, string) {
	d.t.Helper()
	b := d.browser()
	startSignUp(b, email)
	code := d.latest("email", email).Code
	for i := 1; i <= n; i++ {
		b.press("Verify code", "code", wrongFor(code))
		if i == 5 {
			b.expectText(journey.MsgCodeTooManyWrong)
		} else {
			b.expectText(journey.MsgCodeWrong)
		}
	}
	return b, code
}

func TestWrongEmailCodesAcrossJourneysLockTheAddress(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		rule := limits.DefaultCodeGuesses()
		email := newPerson(t, true).email // mixed case: Worker7.x@Example.gov.uk
		// 15 wrong codes in three journeys, and 4 in a fourth.
		for range (rule.Threshold - 1) / 5 {
			wrongEmailCodes(d, email, 5)
		}
		b, code := wrongEmailCodes(d, email, (rule.Threshold-1)%5)
		// The twentieth locks the address, and says so.
		before := d.clock.now()
		b.press("Verify code", "code", wrongFor(code))
		when := codesLockedShown(t, before, d.clock.now())
		expectCodesLocked(b, "email address", when)
		b.expectText("or contact the council")
		b.expectHeading("Check your email")

		// A fresh journey, another spelling of the address: the right code is refused.
		b = d.browser()
		startSignUp(b, strings.ToLower(email))
		b.press("Verify code", "code", d.latest("email", strings.ToLower(email)).Code)
		expectCodesLocked(b, "email address", when)
		b.expectHeading("Check your email")

		// Redis flushed (or the embedded journey store lost): still locked.
		d.flushEphemeral()
		b = d.browser()
		startSignUp(b, email)
		b.press("Verify code", "code", d.latest("email", email).Code)
		expectCodesLocked(b, "email address", when)

		// An hour after the last wrong code the right one works.
		d.clock.advance(rule.LockFor)
		b = d.browser()
		startSignUp(b, email)
		b.press("Verify code", "code", d.latest("email", email).Code)
		b.expectHeading("Your email address has now been verified")
	})
}

// A right code before the threshold ends the count: 19 wrong, a right one, 19
// more wrong and the right one still works.
func TestRightEmailCodeResetsTheCount(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		rule := limits.DefaultCodeGuesses()
		email := newPerson(t, true).email
		for round := 1; round <= 2; round++ {
			for range (rule.Threshold - 1) / 5 {
				wrongEmailCodes(d, email, 5)
			}
			b, code := wrongEmailCodes(d, email, (rule.Threshold-1)%5)
			b.press("Verify code", "code", code)
			b.expectHeading("Your email address has now been verified")
			if round == 1 {
				// A new hour: the address's budget of emails is not what is tested.
				d.clock.advance(time.Hour)
			}
		}
	})
}

// wrongTextCodes signs p in with a new browser, asks for a text at the phone
// challenge and types n wrong codes.
func wrongTextCodes(d *idp, p person, n int) (*browser, string) {
	d.t.Helper()
	b := d.browser()
	signIn(d, b, p)
	b.press("Send Code")
	b.expectHeading("Check your phone")
	code := d.smsCode(p.e164)
	for i := 1; i <= n; i++ {
		b.press("Verify code", "code", wrongFor(code))
		if i == 5 {
			b.expectText(journey.MsgCodeTooManyWrong)
		} else {
			b.expectText(journey.MsgCodeWrong)
		}
	}
	return b, code
}

func TestWrongTextCodesAcrossSignInsLockTheNumber(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		rule := limits.DefaultCodeGuesses()
		p := newPerson(t, true)
		signUp(d, d.browser(), p)
		for range (rule.Threshold - 1) / 5 {
			wrongTextCodes(d, p, 5)
		}
		b, code := wrongTextCodes(d, p, (rule.Threshold-1)%5)
		before := d.clock.now()
		b.press("Verify code", "code", wrongFor(code))
		when := codesLockedShown(t, before, d.clock.now())
		expectCodesLocked(b, "phone number", when)
		b.expectText("select 'Call Me instead', or contact the council")

		// The next sign-in's right code is refused, before and after a flush.
		b, code = wrongTextCodes(d, p, 0)
		b.press("Verify code", "code", code)
		expectCodesLocked(b, "phone number", when)
		d.flushEphemeral()
		b, code = wrongTextCodes(d, p, 0)
		b.press("Verify code", "code", code)
		expectCodesLocked(b, "phone number", when)
		b.expectHeading("Check your phone")
		// A call has no code to guess: it still signs the person in.
		b.press("Call Me instead")
		b.expectHeading("We are calling you")
		d.pressKeys(p.e164, "#")
		b.get("/login")
		checkClaims(t, b.exchange(), p, "pwd", "tel")

		// An hour after the last wrong code, texts work again.
		d.clock.advance(rule.LockFor)
		b, code = wrongTextCodes(d, p, 0)
		b.press("Verify code", "code", code)
		checkClaims(t, b.exchange(), p, "pwd", "sms")
	})
}

func TestRightTextCodeResetsTheCount(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		rule := limits.DefaultCodeGuesses()
		p := newPerson(t, true)
		signUp(d, d.browser(), p)
		for round := 1; round <= 2; round++ {
			for range (rule.Threshold - 1) / 5 {
				wrongTextCodes(d, p, 5)
			}
			b, code := wrongTextCodes(d, p, (rule.Threshold-1)%5)
			b.press("Verify code", "code", code)
			checkClaims(t, b.exchange(), p, "pwd", "sms")
			if round == 1 {
				d.clock.advance(time.Hour) // a new hour for the number's budget of texts
			}
		}
	})
}
