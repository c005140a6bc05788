package messages

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/councilforms/idp/factors"
)

//go:embed templates
var templateFS embed.FS

// Catalogue holds every message template, parsed once.
type Catalogue struct {
	orgName string
	text    map[string]*texttemplate.Template // "<message>/<file>"
	html    map[string]*htmltemplate.Template
}

// The parts each message must have; New refuses to start without them.
var required = map[string][]string{
	"email-verification-code": {"email.subject.tmpl", "email.txt.tmpl", "email.html.tmpl"},
	"account-exists":          {"email.subject.tmpl", "email.txt.tmpl", "email.html.tmpl"},
	"password-reset-code":     {"email.subject.tmpl", "email.txt.tmpl", "email.html.tmpl"},
	"sms-code":                {"sms.txt.tmpl"},
	"call-script":             {"voice.txt.tmpl"},
	"account-changed":         {"email.subject.tmpl", "email.txt.tmpl", "email.html.tmpl"},
}

// New parses every template and checks each renders.
func New(orgName string) (*Catalogue, error) {
	if strings.TrimSpace(orgName) == "" {
		return nil, fmt.Errorf("messages: organisation name is empty")
	}
	c := &Catalogue{
		orgName: orgName,
		text:    map[string]*texttemplate.Template{},
		html:    map[string]*htmltemplate.Template{},
	}
	for msg, files := range required {
		for _, file := range files {
			name := msg + "/" + file
			src, err := fs.ReadFile(templateFS, "templates/"+name)
			if err != nil {
				return nil, fmt.Errorf("messages: %s: %w", name, err)
			}
			if strings.HasSuffix(file, ".html.tmpl") {
				t, err := htmltemplate.New(name).Option("missingkey=error").Parse(string(src))
				if err != nil {
					return nil, fmt.Errorf("messages: parse %s: %w", name, err)
				}
				c.html[name] = t
			} else {
				t, err := texttemplate.New(name).Option("missingkey=error").Parse(string(src))
				if err != nil {
					return nil, fmt.Errorf("messages: parse %s: %w", name, err)
				}
				c.text[name] = t
			}
		}
	}
	// Render each once with sample data so a template that refers to a missing field
	// fails at start, not on a person's request.
	if _, err := c.VerificationEmail("check@example.com", "123456", 10*time.Minute); err != nil {
		return nil, err
	}
	if _, err := c.AccountExistsEmail("check@example.com"); err != nil {
		return nil, err
	}
	if _, err := c.PasswordResetEmail("check@example.com", "123456", 10*time.Minute); err != nil {
		return nil, err
	}
	if _, err := c.CodeSMS("+447700900000", "123456", 10*time.Minute); err != nil {
		return nil, err
	}
	if _, err := c.CallScript(); err != nil {
		return nil, err
	}
	for _, ch := range []Change{PasswordChanged{}, PhoneChanged{Ending: "123"}, PhoneRemovedByCouncil{}, DisabledByCouncil{}} {
		if _, err := c.AccountChangedEmail("check@example.com", ch, time.Now(), "contact the council"); err != nil {
			return nil, err
		}
	}
	return c, nil
}

type data struct {
	OrgName      string
	Code         string
	ValidMinutes int
	// For account-changed: what changed, when (as people read it), and the
	// end of the sentence that sends them to a human.
	What, When, Contact string
}

func (c *Catalogue) data(code string, valid time.Duration) data {
	return data{OrgName: c.orgName, Code: code, ValidMinutes: int(valid.Round(time.Minute) / time.Minute)}
}

func (c *Catalogue) email(msg, to string, d data) (factors.Email, error) {
	subject, err := c.renderText(msg+"/email.subject.tmpl", d)
	if err != nil {
		return factors.Email{}, err
	}
	text, err := c.renderText(msg+"/email.txt.tmpl", d)
	if err != nil {
		return factors.Email{}, err
	}
	var html bytes.Buffer
	if err := c.html[msg+"/email.html.tmpl"].Execute(&html, d); err != nil {
		return factors.Email{}, fmt.Errorf("messages: render %s: %w", msg, err)
	}
	return factors.Email{To: to, Subject: strings.TrimSpace(subject), Text: text, HTML: html.String()}, nil
}

func (c *Catalogue) renderText(name string, d data) (string, error) {
	var b bytes.Buffer
	if err := c.text[name].Execute(&b, d); err != nil {
		return "", fmt.Errorf("messages: render %s: %w", name, err)
	}
	return b.String(), nil
}

// VerificationEmail is the sign-up email carrying a code; its subject is
// '<organisation> account email verification code', as the council's guide says.
func (c *Catalogue) VerificationEmail(to, code string, valid time.Duration) (factors.Email, error) {
	return c.email("email-verification-code", to, c.data(code, valid))
}

// AccountExistsEmail goes instead of a verification code when someone tries to sign up
// with an address that already has an account. It carries the same subject so that the
// sign-up page and the inbox look alike whether or not the account exists.
func (c *Catalogue) AccountExistsEmail(to string) (factors.Email, error) {
	return c.email("account-exists", to, c.data("", 0))
}

// PasswordResetEmail carries the code for 'Forgot your password?'.
func (c *Catalogue) PasswordResetEmail(to, code string, valid time.Duration) (factors.Email, error) {
	return c.email("password-reset-code", to, c.data(code, valid))
}

// CodeSMS is the text message carrying a phone verification code.
func (c *Catalogue) CodeSMS(to, code string, valid time.Duration) (factors.SMS, error) {
	text, err := c.renderText("sms-code/sms.txt.tmpl", c.data(code, valid))
	if err != nil {
		return factors.SMS{}, err
	}
	return factors.SMS{To: to, Text: strings.TrimSpace(text)}, nil
}

// CallScript is what the automated call says before it waits for the hash key.
func (c *Catalogue) CallScript() (string, error) {
	text, err := c.renderText("call-script/voice.txt.tmpl", c.data("", 0))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(text), nil
}

// Change is what changed on an account, for the notice that tells its owner
// (GOV.UK One Login sends the same): the owner learns of a change they did not
// make, such as a phone reset talked out of the helpdesk.
type Change interface{ sentence(org string) string }

// PasswordChanged: the password was reset or changed.
type PasswordChanged struct{}

// PhoneChanged: the account's phone number was replaced by one ending Ending.
type PhoneChanged struct{ Ending string }

// PhoneRemovedByCouncil: an admin removed the phone (idp users reset-phone).
type PhoneRemovedByCouncil struct{}

// DisabledByCouncil: an admin disabled the account.
type DisabledByCouncil struct{}

func (PasswordChanged) sentence(org string) string {
	return "The password of your " + org + " account was changed."
}

func (c PhoneChanged) sentence(org string) string {
	s := "The phone number of your " + org + " account was changed"
	if c.Ending != "" {
		s += " to a number ending " + c.Ending
	}
	return s + ". Codes and calls go to the new number from now on."
}

func (PhoneRemovedByCouncil) sentence(org string) string {
	return "The council removed the phone number from your " + org + " account. The next time you sign in, you will be asked for a new phone number."
}

func (DisabledByCouncil) sentence(org string) string {
	return "The council has disabled your " + org + " account. You cannot sign in until it is enabled again."
}

// noticeTime is how a notice says when: "2 December 2026 at 4:25pm" in UK time.
func noticeTime(at time.Time) string {
	if loc, err := time.LoadLocation("Europe/London"); err == nil {
		at = at.In(loc)
	}
	return at.Format("2 January 2006 at 3:04pm")
}

// AccountChangedEmail tells an account's owner what changed and when, and whom
// to contact (contact ends a sentence: "contact the council's customer
// services") if it was not them. It carries no code and no link.
func (c *Catalogue) AccountChangedEmail(to string, ch Change, at time.Time, contact string) (factors.Email, error) {
	d := c.data("", 0)
	d.What, d.When, d.Contact = ch.sentence(c.orgName), noticeTime(at), contact
	return c.email("account-changed", to, d)
}
