package main

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/councilforms/idp/idp/webtest/sim"
	"github.com/councilforms/idp/ui"
)

// render draws a real page of the ui package, as the idp serves it.
func render(t *testing.T, name string, data any) *sim.Page {
	t.Helper()
	tpl, err := ui.New(ui.Options{OrgName: "Norfolk County Council", Dev: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	tpl.Render(rec, 200, name, data)
	u, _ := url.Parse("http://localhost:8080/login/step")
	return sim.Parse(u, rec.Code, rec.Header(), rec.Body.String())
}

// The journey finds fields by name and buttons and links by their label on
// the idp's own pages.
func TestParseSignInPage(t *testing.T) {
	p := render(t, ui.PageSignIn, ui.SignInPage{Action: "/login/password?x=1&amp;y=2", Email: "a&b@example.org", SignUpURL: "/signup", ForgotPasswordURL: "/forgot"})
	if p.H1 != "Sign In" {
		t.Errorf("h1 = %q", p.H1)
	}
	f, b, ok := p.ButtonFold("Sign in")
	if !ok {
		t.Fatalf("no 'Sign in' button; forms: %+v", p.Forms)
	}
	if f.Method != "post" || f.Action != "/login/password?x=1&amp;y=2" {
		t.Errorf("form %s %q", f.Method, f.Action)
	}
	vals, err := f.Values(b, map[string]string{ui.FieldPassword: "secret words"})
	if err != nil {
		t.Fatal(err)
	}
	if vals.Get(ui.FieldEmail) != "a&b@example.org" || vals.Get(ui.FieldPassword) != "secret words" {
		t.Errorf("posted %v", vals)
	}
	if href, ok := p.LinkFold("Sign up now"); !ok || href != "/signup" {
		t.Errorf("'Sign up now' link = %q, %v", href, ok)
	}
	if _, err := f.Values(b, map[string]string{"nonexistent": "x"}); err == nil {
		t.Error("filling a field the form lacks was not an error")
	}
}

// A button with a name posts its value (FieldMethod), and labels compare
// without regard to case ('verify code' in the guide, 'Verify code' on the page).
func TestParseButtonsAndErrors(t *testing.T) {
	p := render(t, ui.PagePhoneEnter, ui.PhoneEnterPage{
		Action: "/phone",
		Page:   ui.Page{Errors: []ui.FieldError{{Field: ui.FieldPhone, Message: "Enter a UK phone number"}}},
	})
	f, b, ok := p.ButtonFold("Send Code")
	if !ok {
		t.Fatal("no 'Send Code' button")
	}
	vals, err := f.Values(b, map[string]string{ui.FieldPhone: "07700 900123"})
	if err != nil {
		t.Fatal(err)
	}
	if vals.Get(ui.FieldMethod) != ui.MethodSMS || vals.Get(ui.FieldPhone) != "07700 900123" {
		t.Errorf("posted %v", vals)
	}
	if _, b, _ := p.ButtonFold("Call Me"); b == nil || b.Value != ui.MethodCall {
		t.Errorf("'Call Me' button = %+v", b)
	}
	if len(p.Errors) == 0 || p.Errors[0] != "Enter a UK phone number" {
		t.Errorf("errors = %q", p.Errors)
	}
	if d := p.Describe(); d == "" {
		t.Error("no description")
	}

	p = render(t, ui.PageSMSCode, ui.SMSCodePage{Action: "/code", MaskedPhone: "07*** ***123", ResendAction: "/resend", CallAction: "/call"})
	if !p.HasField(ui.FieldCode) {
		t.Fatal("no code field")
	}
	f = p.FormWithField(ui.FieldCode)
	if b := f.PickButton("verify code"); b == nil {
		t.Errorf("no 'Verify code' button in the code's form: %+v", f.Buttons)
	}
	if f.Action != "/code" {
		t.Errorf("code form posts to %q", f.Action)
	}
}

// BenchmarkParsePage is the driver's cost of reading one page of the journey
// (sim.ParseMain: the x/net/html tokenizer over the page's <main>, as the driver
// reads pages; BENCHMARKS.md records it).
func BenchmarkParsePage(b *testing.B) {
	tpl, err := ui.New(ui.Options{OrgName: "Norfolk County Council", Dev: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	tpl.Render(rec, 200, ui.PageSignIn, ui.SignInPage{Action: "/login/password", Email: "a@example.org", SignUpURL: "/signup", ForgotPasswordURL: "/forgot"})
	body := rec.Body.String()
	u, _ := url.Parse("http://localhost:8080/login/step")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		sim.ParseMain(u, 200, nil, body)
	}
}
