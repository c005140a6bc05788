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
	"github.com/councilforms/idp/ui/locale"
)

//go:embed templates locales
var templateFS embed.FS

// Catalogue holds every message template, parsed once per language. Its
// methods write in English; In gives the same catalogue in another language.
type Catalogue struct {
	orgName string
	lang    string
	words   *locale.Catalogue
	text    map[string]map[string]*texttemplate.Template // language -> "<message>/<file>"
	html    map[string]map[string]*htmltemplate.Template
}

// In returns the catalogue writing in lang (a locale.Supported tag; any
// other is English): the language the person chose for their pages.
func (c *Catalogue) In(lang string) *Catalogue {
	cc := *c
	cc.lang = locale.Or(lang)
	return &cc
}

// Purpose is what a text message's code or a call is for; the message says so.
type Purpose string

const (
	PurposeAddPhone      Purpose = "add-phone"      // enrolling a new number
	PurposeConfirmPhone  Purpose = "confirm-phone"  // the second confirmation after enrolling
	PurposeSignIn        Purpose = "sign-in"        // the phone check of a sign-in
	PurposeResetPassword Purpose = "reset-password" // the phone check of a password reset
)

// Purposes lists every Purpose.
var Purposes = []Purpose{PurposeAddPhone, PurposeConfirmPhone, PurposeSignIn, PurposeResetPassword}

func (p Purpose) valid() bool {
	for _, q := range Purposes {
		if p == q {
			return true
		}
	}
	return false
}

// The parts each message must have; New refuses to start without them.
var required = map[string][]string{
	"email-verification-code": {"email.subject.tmpl", "email.txt.tmpl", "email.html.tmpl"},
	"account-exists":          {"email.subject.tmpl", "email.txt.tmpl", "email.html.tmpl"},
	"password-reset-code":     {"email.subject.tmpl", "email.txt.tmpl", "email.html.tmpl"},
	"phone-recovery-code":     {"email.subject.tmpl", "email.txt.tmpl", "email.html.tmpl"},
	"sms-code":                {"sms.txt.tmpl"},
	"call-script":             {"voice.txt.tmpl"},
	"account-changed":         {"email.subject.tmpl", "email.txt.tmpl", "email.html.tmpl"},
}

// New parses every template and checks each renders.
func New(orgName string) (*Catalogue, error) {
	if strings.TrimSpace(orgName) == "" {
		return nil, fmt.Errorf("messages: organisation name is empty")
	}
	words, err := locale.Load(templateFS, "locales")
	if err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	c := &Catalogue{
		orgName: orgName,
		lang:    locale.English,
		words:   words,
		text:    map[string]map[string]*texttemplate.Template{},
		html:    map[string]map[string]*htmltemplate.Template{},
	}
	for _, lang := range locale.Supported {
		c.text[lang], c.html[lang] = map[string]*texttemplate.Template{}, map[string]*htmltemplate.Template{}
		funcs := map[string]any{
			"t": func(key string, args ...any) (string, error) {
				return words.T(lang, key, args...)
			},
			"lang": func() string { return lang },
		}
		for msg, files := range required {
			for _, file := range files {
				name := msg + "/" + file
				src, err := fs.ReadFile(templateFS, "templates/"+name)
				if err != nil {
					return nil, fmt.Errorf("messages: %s: %w", name, err)
				}
				if strings.HasSuffix(file, ".html.tmpl") {
					t, err := htmltemplate.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(src))
					if err != nil {
						return nil, fmt.Errorf("messages: parse %s: %w", name, err)
					}
					c.html[lang][name] = t
				} else {
					t, err := texttemplate.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(src))
					if err != nil {
						return nil, fmt.Errorf("messages: parse %s: %w", name, err)
					}
					c.text[lang][name] = t
				}
			}
		}
	}
	// Render each once in every language with sample data so a template that
	// refers to a missing field or key fails at start, not on a person's request.
	for _, lang := range locale.Supported {
		if err := c.In(lang).check(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// check renders every message once.
func (c *Catalogue) check() error {
	if _, err := c.VerificationEmail("check@example.com", "123456", 10*time.Minute); err != nil {
		return err
	}
	if _, err := c.AccountExistsEmail("check@example.com"); err != nil {
		return err
	}
	if _, err := c.PasswordResetEmail("check@example.com", "123456", 10*time.Minute); err != nil {
		return err
	}
	if _, err := c.PhoneRecoveryEmail("check@example.com", "123456", 10*time.Minute); err != nil {
		return err
	}
	for _, p := range Purposes {
		if _, err := c.CodeSMSFor("+447700900000", "123456", 10*time.Minute, p); err != nil {
			return err
		}
		if _, err := c.CallScriptFor(p); err != nil {
			return err
		}
	}
	for _, ch := range []Change{PasswordChanged{}, PhoneChanged{Ending: "123"}, PhoneChanged{}, PhoneChangePending{Ending: "123", At: time.Now()}, PhoneRemovedByCouncil{}, DisabledByCouncil{}} {
		if _, err := c.AccountChangedEmail("check@example.com", ch, time.Now(), "contact the council"); err != nil {
			return err
		}
	}
	return nil
}

type data struct {
	OrgName      string
	Code         string
	ValidMinutes int
	// For account-changed: what changed, when (as people read it), and the
	// end of the sentence that sends them to a human.
	What, When, Contact string
	// Purpose: what a text message's code or a call is for.
	Purpose Purpose
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
	if err := c.html[c.lang][msg+"/email.html.tmpl"].Execute(&html, d); err != nil {
		return factors.Email{}, fmt.Errorf("messages: render %s: %w", msg, err)
	}
	return factors.Email{To: to, Subject: strings.TrimSpace(subject), Text: text, HTML: html.String()}, nil
}

func (c *Catalogue) renderText(name string, d data) (string, error) {
	var b bytes.Buffer
	if err := c.text[c.lang][name].Execute(&b, d); err != nil {
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

// PhoneRecoveryEmail carries the code that starts the change of a lost phone
// number ('Change your phone number yourself'), to the account's address.
func (c *Catalogue) PhoneRecoveryEmail(to, code string, valid time.Duration) (factors.Email, error) {
	return c.email("phone-recovery-code", to, c.data(code, valid))
}

// PasswordResetEmail carries the code for 'Forgot your password?'.
func (c *Catalogue) PasswordResetEmail(to, code string, valid time.Duration) (factors.Email, error) {
	return c.email("password-reset-code", to, c.data(code, valid))
}

// CodeSMS is the text message carrying the code of a sign-in's phone check.
func (c *Catalogue) CodeSMS(to, code string, valid time.Duration) (factors.SMS, error) {
	return c.CodeSMSFor(to, code, valid, PurposeSignIn)
}

// CodeSMSFor is the text message carrying a phone code, saying what it is for.
func (c *Catalogue) CodeSMSFor(to, code string, valid time.Duration, p Purpose) (factors.SMS, error) {
	if !p.valid() {
		return factors.SMS{}, fmt.Errorf("messages: unknown purpose %q", p)
	}
	d := c.data(code, valid)
	d.Purpose = p
	text, err := c.renderText("sms-code/sms.txt.tmpl", d)
	if err != nil {
		return factors.SMS{}, err
	}
	return factors.SMS{To: to, Text: strings.TrimSpace(text)}, nil
}

// CallScript is what the automated call of a sign-in's phone check says
// before it waits for the hash key.
func (c *Catalogue) CallScript() (string, error) { return c.CallScriptFor(PurposeSignIn) }

// CallScriptFor is the call script for purpose: it says what the call is for.
func (c *Catalogue) CallScriptFor(p Purpose) (string, error) {
	if !p.valid() {
		return "", fmt.Errorf("messages: unknown purpose %q", p)
	}
	d := c.data("", 0)
	d.Purpose = p
	text, err := c.renderText("call-script/voice.txt.tmpl", d)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(text), nil
}

// Change is what changed on an account, for the notice that tells its owner
// (GOV.UK One Login sends the same): the owner learns of a change they did not
// make, such as a phone reset talked out of the helpdesk.
type Change interface {
	sentence(c *Catalogue) string
}

// PasswordChanged: the password was reset or changed.
type PasswordChanged struct{}

// PhoneChanged: the account's phone number was replaced by one ending Ending.
type PhoneChanged struct{ Ending string }

// PhoneChangePending: a new number ending Ending, given through the
// self-service route for a lost phone, replaces the account's at At.
type PhoneChangePending struct {
	Ending string
	At     time.Time
}

// PhoneRemovedByCouncil: an admin removed the phone (idp users reset-phone).
type PhoneRemovedByCouncil struct{}

// DisabledByCouncil: an admin disabled the account.
type DisabledByCouncil struct{}

func (c *Catalogue) word(key string, args ...any) string {
	return c.words.MustT(c.lang, key, append([]any{"org", c.orgName}, args...)...)
}

func (PasswordChanged) sentence(c *Catalogue) string { return c.word("msg.changed.password") }

func (ch PhoneChanged) sentence(c *Catalogue) string {
	if ch.Ending != "" {
		return c.word("msg.changed.phone-ending", "ending", ch.Ending)
	}
	return c.word("msg.changed.phone")
}

func (ch PhoneChangePending) sentence(c *Catalogue) string {
	return c.word("msg.changed.phone-pending", "ending", ch.Ending, "date", c.noticeTime(ch.At))
}

func (PhoneRemovedByCouncil) sentence(c *Catalogue) string {
	return c.word("msg.changed.phone-removed")
}

func (DisabledByCouncil) sentence(c *Catalogue) string { return c.word("msg.changed.disabled") }

var welshMonths = [...]string{"Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin",
	"Gorffennaf", "Awst", "Medi", "Hydref", "Tachwedd", "Rhagfyr"}

// noticeTime is how a notice says when: "2 December 2026 at 4:25pm" in UK
// time; in Welsh "2 Rhagfyr 2026 am 4:25pm".
func (c *Catalogue) noticeTime(at time.Time) string {
	if loc, err := time.LoadLocation("Europe/London"); err == nil {
		at = at.In(loc)
	}
	if c.lang == locale.Welsh {
		return fmt.Sprintf("%d %s %d am %s", at.Day(), welshMonths[at.Month()-1], at.Year(), at.Format("3:04pm"))
	}
	return at.Format("2 January 2006 at 3:04pm")
}

// AccountChangedEmail tells an account's owner what changed and when, and whom
// to contact (contact ends a sentence: "contact the council's customer
// services") if it was not them. It carries no code and no link.
func (c *Catalogue) AccountChangedEmail(to string, ch Change, at time.Time, contact string) (factors.Email, error) {
	d := c.data("", 0)
	d.What, d.When, d.Contact = ch.sentence(c), c.noticeTime(at), contact
	return c.email("account-changed", to, d)
}
