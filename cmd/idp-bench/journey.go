package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/councilforms/idp/idp/webtest/sim"
	"github.com/councilforms/idp/ui"
)

// person is one simulated member of staff with an account: their own email
// address and phone number (Ofcom's drama range, 07700 900000-900999, which
// dev mode accepts and which reaches nobody), so that the codes sent to them
// can be told apart in the dev inbox.
type person struct {
	n        int
	email    string
	phone    string // as typed: national format
	e164     string // as the inbox reports it
	password string
	given    string
	surname  string

	// transport is the person's own connections (from their own address
	// when the idp is on this machine), shared by all their browsers.
	transport *http.Transport
	session   *browser // the browser that signed up: holds the IdP session cookie
	refresh   string   // the latest refresh token of the family from sign-up
	access    string   // the latest access token
}

// maxPeople is the size of the drama mobile range.
const maxPeople = 1000

func newPerson(run string, n, phoneOffset int) *person {
	num := (phoneOffset + n) % maxPeople
	return &person{
		n:        n,
		email:    fmt.Sprintf("bench-%s-%d@example.org", run, n),
		phone:    fmt.Sprintf("07700 900%03d", num),
		e164:     fmt.Sprintf("+447700900%03d", num),
		password: "bench " + run + " staff " + fmt.Sprint(n) + " long password",
		given:    "Bench",
		surname:  fmt.Sprintf("Person %d", n),
	}
}

// knows is what the person types into a field of this name, if anything.
func (p *person) knows(field string) (string, bool) {
	switch field {
	case ui.FieldEmail:
		return p.email, true
	case ui.FieldPassword, ui.FieldConfirmPassword:
		return p.password, true
	case ui.FieldGivenName:
		return p.given, true
	case ui.FieldSurname:
		return p.surname, true
	case ui.FieldPhone:
		return p.phone, true
	}
	return "", false
}

// fill is what the person types into form f: every field they know.
func (p *person) fill(f *sim.Form) map[string]string {
	m := map[string]string{}
	for _, fl := range f.Fields {
		if v, ok := p.knows(fl.Name); ok && fl.Type != "hidden" {
			m[fl.Name] = v
		}
	}
	return m
}

// Button labels, fixed by the council's guide (see package ui).
const (
	labelSignIn         = "Sign in"
	labelSignUpNow      = "Sign up now"
	labelSendEmailCode  = "Send verification code"
	labelVerifyCode     = "Verify code"
	labelContinue       = "Continue"
	labelCreate         = "Create"
	labelSendCode       = "Send Code"
	maxPagesPerJourney  = 30
	channelEmail        = "email"
	channelSMS          = "sms"
	errUnexpectedPrefix = "unexpected page"
)

// journeyGoal says how far a walk goes.
type journeyGoal int

const (
	goalSignUp journeyGoal = iota // create the account, then back to the relying party
	goalSignIn                    // sign in, then back to the relying party
	goalAtSMS                     // sign in and stop on the SMS code page (an in-flight journey)
)

// walk acts on each page as the person would, by the fields and buttons it
// has, until the browser is back at the redirect URI. It does not assume the
// order of pages, only their contracts: the names of fields and the labels of
// buttons. A page it cannot act on is an error naming that page.
func (d *driver) walk(ctx context.Context, b *browser, p *person, goal journeyGoal) error {
	expect := "" // the channel of the code last asked for
	for range maxPagesPerJourney {
		if b.Callback != nil {
			if goal == goalAtSMS {
				return errors.New("the journey finished before an SMS code was asked for")
			}
			return nil
		}
		pg := b.Page
		if pg == nil {
			return errors.New("no page")
		}
		var err error
		switch {
		case pg.HasField(ui.FieldCode):
			if goal == goalAtSMS && expect == channelSMS {
				return nil
			}
			if expect == "" {
				return fmt.Errorf("%s: a code is asked for before one was sent: %s", errUnexpectedPrefix, pg.Describe())
			}
			to := p.email
			if expect == channelSMS {
				to = p.e164
			}
			var code string
			t0 := time.Now()
			code, err = d.inbox.code(ctx, expect, to)
			if b.OnRequest != nil {
				b.OnRequest("dev inbox: wait for the "+expect+" code", time.Since(t0), err)
			}
			if err != nil {
				return err
			}
			f := pg.FormWithField(ui.FieldCode)
			btn := f.PickButton(labelVerifyCode, labelContinue)
			if btn == nil {
				return fmt.Errorf("no %q button next to the code field: %s", labelVerifyCode, pg.Describe())
			}
			fill := p.fill(f)
			fill[ui.FieldCode] = code
			err = b.Submit(ctx, f, btn, fill)
		case hasButton(pg, labelSendCode):
			expect = channelSMS
			err = d.pressFilled(ctx, b, p, labelSendCode)
		case hasButton(pg, labelCreate):
			err = d.pressHashing(ctx, b, p, pg, labelCreate)
		case goal == goalSignUp && hasLink(pg, labelSignUpNow):
			err = b.Click(ctx, labelSignUpNow)
		case hasButton(pg, labelSignIn):
			err = d.pressHashing(ctx, b, p, pg, labelSignIn)
		case hasButton(pg, labelSendEmailCode):
			expect = channelEmail
			err = d.pressFilled(ctx, b, p, labelSendEmailCode)
		case hasButton(pg, labelContinue):
			err = d.pressFilled(ctx, b, p, labelContinue)
		default:
			return fmt.Errorf("%s: %s", errUnexpectedPrefix, pg.Describe())
		}
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("no way back to the relying party after %d pages", maxPagesPerJourney)
}

func (d *driver) pressFilled(ctx context.Context, b *browser, p *person, label string) error {
	f, _, _ := b.Page.ButtonFold(label)
	return b.Press(ctx, label, p.fill(f))
}

// busyWait is how long a person waits after 'Sorry, the service is busy'
// before pressing the button again.
const busyWait = time.Second

// maxBusyTries bounds how often one press is retried after a busy answer.
const maxBusyTries = 30

// pressHashing presses label on pg, a page whose button makes the idp hash a
// password ('Sign in', 'Create'). When the idp answers 503 'Sorry, the
// service is busy' (its queue of password hashes is full: nothing was checked
// or recorded), the person goes back and presses again after busyWait, as
// the page tells them to; each such answer is counted (d.busy), not an error.
func (d *driver) pressHashing(ctx context.Context, b *browser, p *person, pg *sim.Page, label string) error {
	for try := 1; ; try++ {
		f, btn, _ := pg.ButtonFold(label)
		err := b.Submit(ctx, f, btn, p.fill(f))
		if err == nil || b.Status != http.StatusServiceUnavailable || try == maxBusyTries {
			return err
		}
		d.busy.Add(1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(busyWait):
		}
	}
}

func hasButton(p *sim.Page, label string) bool { _, _, ok := p.ButtonFold(label); return ok }
func hasLink(p *sim.Page, text string) bool    { _, ok := p.LinkFold(text); return ok }
