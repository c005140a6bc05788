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
