package app_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Abuse of the text-message and call budgets (security finding 2, SMS and call
// pumping), performed against the whole server over HTTP.

// contactText is IDP_CONTACT_TEXT's default, which the refusals end with.
const contactText = "contact the council's customer services"

// alignTo moves the clock on to the next instant that is offset past a multiple
// of window since the epoch (window boundaries are aligned so).
func (c *clock) alignTo(window, offset time.Duration) {
	now := c.now()
	d := offset - time.Duration(now.UnixNano()%int64(window))
	for d <= 0 {
		d += window
	}
	c.advance(d)
}

// awayFromDayEnd moves the clock out of the last six hours of a UTC day, so that a
// test about daily budgets does not straddle midnight.
func (c *clock) awayFromDayEnd() {
	if left := 24*time.Hour - time.Duration(c.now().UnixNano()%int64(24*time.Hour)); left < 6*time.Hour {
		c.advance(left + time.Hour)
	}
}

var waitRe = regexp.MustCompile(`Wait (\d+) (minute|hour)s?`)

// waitShown is the wait the page tells the person about ("Wait 31 minutes").
func (b *browser) waitShown() time.Duration {
	b.t.Helper()
	m := waitRe.FindStringSubmatch(text(b.page.body))
	if m == nil {
		b.t.Fatalf("the page says no wait:\n%s", b.page)
	}
	n, _ := strconv.Atoi(m[1])
	if m[2] == "hour" {
		return time.Duration(n) * time.Hour
	}
	return time.Duration(n) * time.Minute
}

// flushRedis deletes every key of this server in Redis, as an operator's FLUSHALL
// (or a failover to an empty replica) would: journeys, sessions, codes.
func (d *idp) flushRedis() {
	d.t.Helper()
	opts, err := goredis.ParseURL(d.redisURL)
	if err != nil {
		d.t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	ctx := context.Background()
	keys, err := c.Keys(ctx, d.redisPrefix+"*").Result()
	if err != nil {
		d.t.Fatal(err)
	}
	if len(keys) == 0 {
		d.t.Fatal("no keys to flush")
	}
	if err := c.Del(ctx, keys...).Err(); err != nil {
		d.t.Fatal(err)
	}
}

// enrolAttempt signs in as the phoneless account acct in a fresh browser and asks
// for a text to n's number at 'Enter your phone number'. It reports whether the
// text reached the number.
func enrolAttempt(d *idp, acct, n person) (*browser, bool) {
	d.t.Helper()
	b := d.browser()
	b.startSignIn()
	b.press("Sign in", "email", acct.email, "password", acct.password)
	b.expectHeading("Enter your phone number")
	before := d.count("sms", n.e164)
	b.press("Send Code", "phone", n.phone)
	if b.page.status != 200 {
		d.t.Fatalf("'Send Code' answered %d:\n%s", b.page.status, b.page)
	}
	return b, d.count("sms", n.e164) > before
}

// One account with no phone texts one new number after another, each from a fresh
// sign-in (the finding: 200 texts to 200 numbers in 2 s). It gets 3 numbers a day
// (IDP_ENROL_NUMBERS_PER_DAY) and 10 texts a day to numbers not yet verified
// (IDP_ENROL_SENDS_PER_DAY); past that the page says to contact the council. The
// counts are in the database, so a Redis flush does not reset them.
func TestAttackPhonelessAccountTextsManyNumbers(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		d.clock.awayFromDayEnd()
		acct := newPerson(t, true)
		signUpToPhone(d, d.browser(), acct)

		var tried []person
		sent := 0
		for range 8 {
			n := newPerson(t, true)
			tried = append(tried, n)
			b, ok := enrolAttempt(d, acct, n)
			if ok {
				sent++
				continue
			}
			b.expectText("You have tried too many different phone numbers today")
			b.expectText(contactText)
			b.expectText("Contact Norfolk County Council") // the contact details under the refusal (issue 19)
		}
		if sent != 3 {
			t.Fatalf("one phoneless account texted %d new numbers, want 3", sent)
		}
		for i, n := range tried {
			if got, want := d.count("sms", n.e164), min(1, max(0, 3-i)); got != want {
				t.Errorf("number %d got %d texts, want %d", i+1, got, want)
			}
		}

		if be == pgAndRedis {
			d.flushRedis()
			b, ok := enrolAttempt(d, acct, newPerson(t, true))
			if ok {
				t.Fatal("after a Redis flush a fourth number was texted")
			}
			b.expectText(contactText)
		}

		// The numbers already tried still work, up to 10 texts a day in all.
		for i := 3; ; i++ {
			b, ok := enrolAttempt(d, acct, tried[i%3])
			if !ok {
				b.expectText("We have sent too many codes to new phone numbers for this account today")
				b.expectText(contactText)
				break
			}
			sent++
			if sent > 20 {
				t.Fatal("texts to new numbers never stopped")
			}
		}
		if sent != 10 {
			t.Fatalf("%d texts to numbers not yet verified, want 10", sent)
		}
	})
}

// Addresses in one IPv6 /64 are one client: a home or office gets a /64, and an
// attacker picks any address in it. IPv4 addresses are counted one by one.
func TestAttackManyAddressesInOneIPv6Network(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, map[string]string{
			"IDP_TRUSTED_PROXIES": "127.0.0.1", "IDP_SEND_HOURLY_PER_CLIENT": "5",
		})
		d.clock.alignTo(time.Hour, 5*time.Minute)
		signUpFrom := func(addr string) *browser {
			b := d.browser()
			b.forwardedFor = addr
			b.startSignIn()
			b.follow("Sign up now")
			b.press("Send verification code", "email", newPerson(t, true).email)
			return b
		}
		for i := range 5 {
			signUpFrom(fmt.Sprintf("2001:db8:7:64:%x::%x", i*977, i+1)).expectHeading("Check your email")
		}
		b := signUpFrom("2001:db8:7:64:ffff:ffff:ffff:fffe")
		b.expectText("We cannot send any more messages right now")
		// The next /64 is another network.
		signUpFrom("2001:db8:7:65::1").expectHeading("Check your email")
		// IPv4 addresses side by side are separate clients.
		for i := range 6 {
			signUpFrom(fmt.Sprintf("192.0.2.%d", 10+i)).expectHeading("Check your email")
		}
	})
}

// The budget of a client address is a sliding window: spending it just before
// the hour and again just after does not give twice as much.
func TestAttackHourBoundaryDoesNotDoubleTheBudget(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, map[string]string{"IDP_SEND_HOURLY_PER_CLIENT": "4"})
		d.clock.alignTo(time.Hour, 50*time.Minute) // 10 minutes before the hour
		send := func() *browser {
			b := d.browser()
			b.startSignIn()
			b.follow("Sign up now")
			b.press("Send verification code", "email", newPerson(t, true).email)
			return b
		}
		for range 4 {
			send().expectHeading("Check your email")
		}
		send().expectText("We cannot send any more messages right now")
		d.clock.advance(15 * time.Minute) // 5 minutes past the hour
		b := send()
		b.expectText("We cannot send any more messages right now")
		// The wait the page gives is true: then a message goes.
		d.clock.advance(b.waitShown())
		send().expectHeading("Check your email")
	})
}

// One number receives at most IDP_SEND_DAILY_PER_RECIPIENT codes a day, texts and
// calls together, as well as IDP_SEND_HOURLY_PER_RECIPIENT an hour. (A refused
// request counts too, so hammering a refusal does not shorten it.)
func TestSendBudgetPerRecipientPerDay(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, map[string]string{
			"IDP_SEND_HOURLY_PER_RECIPIENT": "4", "IDP_SEND_DAILY_PER_RECIPIENT": "6",
		})
		d.clock.awayFromDayEnd()
		p := newPerson(t, true)
		signUp(d, d.browser(), p) // 2 texts
		b := d.browser()
		signIn(d, b, p)
		b.press("Send Code") // 3
		b.expectHeading("Check your phone")
		b.press("Call Me instead") // 4: the hour's budget is spent
		b.expectHeading("We are calling you")

		d.clock.advance(2 * time.Hour) // the hour's budget is back
		b = d.browser()
		signIn(d, b, p)
		b.press("Call Me") // 5
		b.expectHeading("We are calling you")
		b.press("Send Code instead") // 6
		b.expectHeading("Check your phone")
		b.press("Send a new code")
		b.expectText("We cannot send any more messages right now")

		d.clock.advance(2 * time.Hour) // the day's is not
		b = d.browser()
		signIn(d, b, p)
		b.press("Send Code")
		b.expectText("We cannot send any more messages right now")
		if n := d.count("sms", p.e164) + d.count("voice", p.e164); n != 6 {
			t.Fatalf("%d texts and calls to one number in a day, want 6", n)
		}
	})
}

// The daily ceiling keeps a share (IDP_SEND_CEILING_VERIFIED_SHARE, 80%) for
// challenges to numbers already verified: many phoneless accounts texting new
// numbers spend the rest, and a person with a phone still signs in by text.
func TestAttackEnrolmentSpamLeavesTheShareForEnrolledPeople(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, map[string]string{"IDP_SEND_DAILY_CEILING": "20"})
		d.clock.awayFromDayEnd()
		p := newPerson(t, true)
		signUp(d, d.browser(), p) // 2 texts to a new number, of the 4 (20%) kept for new numbers

		sent, refused := 0, 0
		var refusal *browser
		for range 8 {
			acct := newPerson(t, true)
			signUpToPhone(d, d.browser(), acct)
			for range 3 {
				b, ok := enrolAttempt(d, acct, newPerson(t, true))
				if ok {
					sent++
				} else {
					refused++
					refusal = b
				}
			}
		}

		// The person with a verified number signs in by text, and again by call.
		b := d.browser()
		signIn(d, b, p)
		before := d.count("sms", p.e164)
		b.press("Send Code")
		if d.count("sms", p.e164) == before {
			t.Fatalf("after %d texts to new numbers, the text to a verified number was refused:\n%s", sent, b.page)
		}
		b.press("Verify code", "code", d.smsCode(p.e164))
		checkClaims(t, b.exchange(), p, "pwd", "sms")
		b = d.browser()
		signIn(d, b, p)
		proveByCall(d, b, p)
		checkClaims(t, b.exchange(), p, "pwd", "tel")

		if sent != 2 || refused != 22 {
			t.Fatalf("enrolment spam: %d texts sent and %d refused, want 2 and 22", sent, refused)
		}
		refusal.expectText("We cannot send codes to new phone numbers at the moment")
		refusal.expectText(contactText)
	})
}
