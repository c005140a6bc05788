package messages

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/ui/locale"
)

var update = flag.Bool("update", false, "rewrite testdata/text from the messages")

// TestMessageWords holds every email, text message and call script, in
// English and in Welsh, against reviewed files (testdata/text/<lang>.txt):
// a change of wording shows in review (go test ./factors/messages -update
// writes them).
func TestMessageWords(t *testing.T) {
	base, err := New("Norfolk County Council")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 2, 16, 25, 0, 0, time.UTC)
	for _, lang := range locale.Supported {
		c := base.In(lang)
		var b strings.Builder
		section := func(name, s string) { b.WriteString("== " + name + "\n" + strings.TrimSpace(s) + "\n\n") }
		if m, err := c.VerificationEmail("pat@example.com", "123456", 10*time.Minute); err == nil {
			section("verification email: subject", m.Subject)
			section("verification email: text", m.Text)
		} else {
			t.Fatal(err)
		}
		if m, err := c.AccountExistsEmail("pat@example.com"); err == nil {
			section("account-exists email: subject", m.Subject)
			section("account-exists email: text", m.Text)
		} else {
			t.Fatal(err)
		}
		if m, err := c.PasswordResetEmail("pat@example.com", "123456", 1*time.Minute); err == nil {
			section("password reset email: subject", m.Subject)
			section("password reset email: text", m.Text)
		} else {
			t.Fatal(err)
		}
		if m, err := c.PhoneRecoveryEmail("pat@example.com", "123456", 10*time.Minute); err == nil {
			section("phone recovery email: subject", m.Subject)
			section("phone recovery email: text", m.Text)
		} else {
			t.Fatal(err)
		}
		for _, ch := range []Change{PasswordChanged{}, PhoneChanged{Ending: "789"}, PhoneChangePending{Ending: "789", At: at.Add(72 * time.Hour)}, PhoneRemovedByCouncil{}, DisabledByCouncil{}} {
			m, err := c.AccountChangedEmail("pat@example.com", ch, at, "contact the council")
			if err != nil {
				t.Fatal(err)
			}
			section("account changed email: subject", m.Subject)
			section("account changed email: text", m.Text)
		}
		for _, p := range Purposes {
			s, err := c.CodeSMSFor("+447700900123", "123456", 10*time.Minute, p)
			if err != nil {
				t.Fatal(err)
			}
			section("text message: "+string(p), s.Text)
			script, err := c.CallScriptFor(p)
			if err != nil {
				t.Fatal(err)
			}
			section("call script: "+string(p), script)
		}
		path := filepath.Join("testdata", "text", lang+".txt")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test ./factors/messages -update writes it)", err)
		}
		if string(want) != b.String() {
			t.Errorf("%s differs from the messages (go test ./factors/messages -update rewrites it); got:\n%s", path, b.String())
		}
	}
}
