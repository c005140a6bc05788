package main

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/councilforms/idp/ui"
)

// render draws a real page of the ui package, as the idp serves it.
func render(t *testing.T, name string, data any) *page {
	t.Helper()
	tpl, err := ui.New(ui.Options{OrgName: "Norfolk County Council", Dev: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	tpl.Render(rec, 200, name, data)
	u, _ := url.Parse("http://localhost:8080/login/step")
	return parsePage(u, rec.Code, rec.Body.String())
}

// The journey finds fields by name and buttons and links by their label on
// the idp's own pages.
func TestParseSignInPage(t *testing.T) {
	p := render(t, ui.PageSignIn, ui.SignInPage{Action: "/login/password?x=1&amp;y=2", Email: "a&b@example.org", SignUpURL: "/signup", ForgotPasswordURL: "/forgot"})
	if p.h1 != "Sign In" {
		t.Errorf("h1 = %q", p.h1)
	}
	f, b, ok := p.button("Sign in")
	if !ok {
		t.Fatalf("no 'Sign in' button; forms: %+v", p.forms)
	}
	if f.method != "post" || f.action != "/login/password?x=1&amp;y=2" {
		t.Errorf("form %s %q", f.method, f.action)
	}
	vals, err := f.values(b, map[string]string{ui.FieldPassword: "secret words"})
	if err != nil {
		t.Fatal(err)
	}
	if vals.Get(ui.FieldEmail) != "a&b@example.org" || vals.Get(ui.FieldPassword) != "secret words" {
		t.Errorf("posted %v", vals)
	}
	if href, ok := p.link("Sign up now"); !ok || href != "/signup" {
		t.Errorf("'Sign up now' link = %q, %v", href, ok)
	}
	if _, err := f.values(b, map[string]string{"nonexistent": "x"}); err == nil {
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
	f, b, ok := p.button("Send Code")
	if !ok {
		t.Fatal("no 'Send Code' button")
	}
	vals, err := f.values(b, map[string]string{ui.FieldPhone: "07700 900123"})
	if err != nil {
		t.Fatal(err)
	}
	if vals.Get(ui.FieldMethod) != ui.MethodSMS || vals.Get(ui.FieldPhone) != "07700 900123" {
		t.Errorf("posted %v", vals)
	}
	if _, b, _ := p.button("Call Me"); b == nil || b.value != ui.MethodCall {
		t.Errorf("'Call Me' button = %+v", b)
	}
	if len(p.errors) == 0 || p.errors[0] != "Enter a UK phone number" {
		t.Errorf("errors = %q", p.errors)
	}
	if d := p.describe(); d == "" {
		t.Error("no description")
	}

	p = render(t, ui.PageSMSCode, ui.SMSCodePage{Action: "/code", MaskedPhone: "07*** ***123", ResendAction: "/resend", CallAction: "/call"})
	if !p.hasField(ui.FieldCode) {
		t.Fatal("no code field")
	}
	f = p.formWithField(ui.FieldCode)
	if b := pickButton(f, "verify code"); b == nil {
		t.Errorf("no 'Verify code' button in the code's form: %+v", f.buttons)
	}
	if f.action != "/code" {
		t.Errorf("code form posts to %q", f.action)
	}
}

func TestTokenize(t *testing.T) {
	doc := `<!DOCTYPE html><!-- <form> --><script>if (a<b) {"<form>"}</script>
<form action=/x method=POST><input name=a value='1 &amp; 2'><input type=checkbox name=c>
<input type="checkbox" name="d" value="yes" checked><textarea name="t">hi &lt;there&gt;</textarea>
<select name="s"><option value="1">one<option value="2" selected>two</select>
<input name="off" disabled><button>  Go
 on </button><input type="submit" name="alt" value="Other"></form>`
	u, _ := url.Parse("http://localhost/")
	p := parsePage(u, 200, doc)
	if len(p.forms) != 1 {
		t.Fatalf("%d forms, want 1", len(p.forms))
	}
	f, b, ok := p.button("go on")
	if !ok || f.method != "post" || f.action != "/x" {
		t.Fatalf("button 'Go on' in form %+v", f)
	}
	v, err := f.values(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"a": {"1 & 2"}, "d": {"yes"}, "t": {"hi <there>"}, "s": {"2"}}
	if v.Encode() != want.Encode() {
		t.Errorf("posted %v, want %v", v, want)
	}
	if _, b, ok := p.button("Other"); !ok || b.name != "alt" {
		t.Errorf("input submit = %+v", b)
	}
}

// Raw text ends only at its own end tag, in any case; of duplicate
// attributes the first wins; bare attributes count as present.
func TestTokenizeEdges(t *testing.T) {
	doc := `<SCRIPT>var s = "</scr" + "ipt><form action=/bad>"; x = "</b>"</Script >
<FORM Action="/good" method=post><INPUT NAME=a name=b VALUE="1" value="2"><Input type=CHECKBOX name=c checked>
<style>p::after{content:"</stylex><form action=/bad>"}</STYLE><textarea name=t></Textarea><button type=submit name=go value=v>Send &amp; go</button></form>
<a href="/next">Next <b>page</b></a>`
	u, _ := url.Parse("http://localhost/")
	p := parsePage(u, 200, doc)
	if len(p.forms) != 1 || p.forms[0].action != "/good" {
		t.Fatalf("forms %+v", p.forms)
	}
	f, b, ok := p.button("send & go")
	if !ok || b.name != "go" {
		t.Fatalf("button = %+v", b)
	}
	v, err := f.values(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"a": {"1"}, "c": {"on"}, "t": {""}, "go": {"v"}}
	if v.Encode() != want.Encode() {
		t.Errorf("posted %v, want %v", v, want)
	}
	if p.hasField("b") {
		t.Error("a duplicate name attribute made a field")
	}
	if href, ok := p.link("next page"); !ok || href != "/next" {
		t.Errorf("link = %q, %v", href, ok)
	}
}

// BenchmarkParsePage is the driver's cost of reading one page of the journey.
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
		parsePage(u, 200, body)
	}
}
