package messages

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestVerificationEmailSubjectAndCode(t *testing.T) {
	c, err := New("Norfolk County Council")
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.VerificationEmail("pat@example.com", "482913", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Norfolk County Council account email verification code" {
		t.Errorf("subject = %q", m.Subject)
	}
	if m.To != "pat@example.com" {
		t.Errorf("to = %q", m.To)
	}
	for _, part := range []string{m.Text, m.HTML} {
		if !strings.Contains(part, "482913") || !strings.Contains(part, "10 minutes") {
			t.Errorf("part lacks the code or expiry:\n%s", part)
		}
	}
}

func TestAccountExistsEmailLooksLikeVerification(t *testing.T) {
	c, err := New("Testshire Council")
	if err != nil {
		t.Fatal(err)
	}
	exists, err := c.AccountExistsEmail("pat@example.com")
	if err != nil {
		t.Fatal(err)
	}
	verify, err := c.VerificationEmail("pat@example.com", "111111", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if exists.Subject != verify.Subject {
		t.Errorf("subjects differ: %q vs %q", exists.Subject, verify.Subject)
	}
	if regexp.MustCompile(`\b\d{6}\b`).MatchString(exists.Text) {
		t.Errorf("account-exists email carries a code:\n%s", exists.Text)
	}
	if !strings.Contains(exists.Text, "Forgot your password?") {
		t.Errorf("account-exists email lacks the reset hint:\n%s", exists.Text)
	}
}

func TestHTMLEscapesOrganisationName(t *testing.T) {
	c, err := New(`Evil <script>alert(1)</script> Council`)
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.VerificationEmail("pat@example.com", "123456", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<script>") {
		t.Errorf("organisation name not escaped in HTML")
	}
}

func TestSMSAndCallScript(t *testing.T) {
	c, err := New("Norfolk County Council")
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.CodeSMS("+447700900123", "654321", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Text, "654321 is your Norfolk County Council security code") || s.To != "+447700900123" {
		t.Errorf("sms = %+v", s)
	}
	if len(s.Text) > 160 {
		t.Errorf("sms longer than one part: %d characters", len(s.Text))
	}
	script, err := c.CallScript()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(script, "Norfolk County Council") || !strings.Contains(script, "hash key") {
		t.Errorf("script = %q", script)
	}
}

func TestNewRefusesEmptyOrganisation(t *testing.T) {
	if _, err := New("  "); err == nil {
		t.Fatal("want an error for an empty organisation name")
	}
}

// Issue 18 item 3: a notice says what changed, when, and whom to contact.
func TestAccountChangedEmail(t *testing.T) {
	c, err := New("Norfolk County Council")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 2, 16, 25, 0, 0, time.UTC)
	for ch, want := range map[Change]string{
		PasswordChanged{}:           "The password of your Norfolk County Council account was changed.",
		PhoneChanged{Ending: "123"}: "was changed to a number ending 123.",
		PhoneRemovedByCouncil{}:     "The council removed the phone number",
		DisabledByCouncil{}:         "The council has disabled your Norfolk County Council account.",
	} {
		m, err := c.AccountChangedEmail("ann@example.org", ch, at, "contact the council's customer services")
		if err != nil {
			t.Fatal(err)
		}
		if m.To != "ann@example.org" || m.Subject != "Your Norfolk County Council account has changed" {
			t.Errorf("%T: to %q subject %q", ch, m.To, m.Subject)
		}
		for _, body := range []string{m.Text, m.HTML} {
			for _, part := range []string{want, "2 December 2026 at 4:25pm", "If you did not expect this change, contact the council"} {
				if !strings.Contains(body, part) && !strings.Contains(body, strings.ReplaceAll(part, "'", "&#39;")) {
					t.Errorf("%T: the notice lacks %q:\n%s", ch, part, body)
				}
			}
		}
	}
}

// The text message and the call say what the code or call is for.
func TestScriptsSayWhatTheyAreFor(t *testing.T) {
	c, err := New("Norfolk County Council")
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[Purpose]string{
		PurposeAddPhone:      "to add this phone number to your account",
		PurposeConfirmPhone:  "to confirm this phone number",
		PurposeSignIn:        "for signing in",
		PurposeResetPassword: "resetting your password",
	} {
		s, err := c.CodeSMSFor("+447700900123", "654321", 10*time.Minute, p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(s.Text, want) || !strings.HasPrefix(s.Text, "654321 is your Norfolk County Council") || !strings.Contains(s.Text, "It expires in 10 minutes.") {
			t.Errorf("%s text: %q", p, s.Text)
		}
		script, err := c.CallScriptFor(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(script, want) || !strings.Contains(script, "press the hash key") {
			t.Errorf("%s call: %q", p, script)
		}
	}
	if _, err := c.CallScriptFor("other"); err == nil {
		t.Error("an unknown purpose was accepted")
	}
}

func TestWelshMessages(t *testing.T) {
	c, err := New("Cyngor Sir Ddinbych")
	if err != nil {
		t.Fatal(err)
	}
	cy := c.In("cy")
	m, err := cy.VerificationEmail("pat@example.com", "482913", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Cod dilysu e-bost cyfrif Cyngor Sir Ddinbych" || !strings.Contains(m.Text, "482913") ||
		!strings.Contains(m.Text, "10 munud") || !strings.Contains(m.HTML, `<html lang="cy">`) {
		t.Errorf("Welsh email: %+v", m)
	}
	s, err := cy.CodeSMSFor("+447700900123", "654321", 10*time.Minute, PurposeAddPhone)
	if err != nil || !strings.HasPrefix(s.Text, "654321 yw eich cod Cyngor Sir Ddinbych i ychwanegu") {
		t.Errorf("Welsh text: %q, %v", s.Text, err)
	}
	script, err := cy.CallScriptFor(PurposeSignIn)
	if err != nil || !strings.Contains(script, "pwyswch yr allwedd hash") {
		t.Errorf("Welsh call: %q, %v", script, err)
	}
	// English stays the default, and In does not change c.
	if m, _ := c.VerificationEmail("pat@example.com", "1", time.Minute); m.Subject != "Cyngor Sir Ddinbych account email verification code" || !strings.Contains(m.Text, "expires in 1 minute.") {
		t.Errorf("English after In: %+v", m)
	}
	changed, err := cy.AccountChangedEmail("pat@example.com", PhoneChanged{Ending: "123"}, time.Date(2026, 12, 2, 16, 25, 0, 0, time.UTC), "cysylltwch â'r cyngor")
	if err != nil || !strings.Contains(changed.Text, "2 Rhagfyr 2026 am 4:25pm") || !strings.Contains(changed.Text, "gorffen gyda 123") {
		t.Errorf("Welsh notice: %q, %v", changed.Text, err)
	}
}
