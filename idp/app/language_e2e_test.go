package app_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/idp/web"
	"github.com/councilforms/idp/ui"
)

// startSignInWith is the form app's 'Login or Register' with extra
// authorization parameters (ui_locales).
func (b *browser) startSignInWith(opts ...oauth2.AuthCodeOption) page {
	b.t.Helper()
	a := b.relyingParty().Start(opts...)
	b.verifier, b.state, b.nonce, b.code = a.Verifier, a.State, a.Nonce, ""
	return b.get(a.URL)
}

// getWithLanguage is a GET from a browser set to prefer the given languages.
func (b *browser) getWithLanguage(url, acceptLanguage string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept-Language", acceptLanguage)
	return b.do(req)
}

func (b *browser) expectLang(want string) {
	b.t.Helper()
	if !strings.Contains(b.page.body, `<html lang="`+want+`"`) {
		b.t.Fatalf("page is not in %s:\n%s", want, b.page)
	}
}

// A Welsh sign-up (ui_locales=cy) walks the whole guide in Welsh: every
// page, the email, the text message and the call script; the account keeps
// Welsh and the ID token says so.
func TestWelshSignUp(t *testing.T) {
	d := startIdP(t, embedded, nil)
	p := newPerson(t, true)
	b := d.browser()
	b.startSignInWith(oauth2.SetAuthURLParam("ui_locales", "cy"))
	b.expectLang("cy")
	b.expectHeading("Mewngofnodi")
	b.expectText("English | Cymraeg")
	b.expectNoText("Forgot your password?")
	b.follow("Cofrestru nawr")
	b.expectHeading("Cofrestru")
	b.press("Anfon cod dilysu", "email", p.email)
	b.expectHeading("Gwiriwch eich e-bost")
	b.expectText("Daw'r cod i ben ar ôl 10 munud.")
	mail := d.latest("email", strings.ToLower(p.email))
	if mail.Subject != "Cod dilysu e-bost cyfrif Norfolk County Council" || !strings.Contains(mail.Body, "Eich cod dilysu yw") {
		t.Fatalf("the email is not in Welsh: %+v", mail)
	}
	_, code := d.emailCode(p.email)
	b.press("Dilysu'r cod", "code", code)
	b.expectHeading("Mae eich cyfeiriad e-bost bellach wedi'i ddilysu")
	b.press("Parhau")
	b.expectHeading("Creu eich cyfrif")
	// A mistake is told in Welsh too.
	b.press("Creu", "given-name", p.given, "surname", "", "password", p.password, "confirm-password", p.password)
	b.expectText("Rhowch eich cyfenw")
	b.press("Creu", "given-name", p.given, "surname", p.family, "password", p.password, "confirm-password", p.password)
	b.expectHeading("Rhowch eich rhif ffôn")
	// The phone rules' own words reach the page, in Welsh: a premium-rate
	// number and a foreign one are each told what is wrong.
	b.press("Anfon cod", "phone", "0909 879 0000")
	b.expectText("Rhowch rif ffôn llinell dir neu ffôn symudol, nid rhif cyfradd premiwm")
	b.press("Anfon cod", "phone", "+33 1 23 45 67 89")
	b.expectText("Rhowch rif ffôn yn y DU")
	b.press("Anfon cod", "phone", p.phone)
	b.expectHeading("Gwiriwch eich ffôn")
	b.expectText(shownNumber(p.e164)) // just typed: shown in full
	sms := d.latest("sms", p.e164)
	if !strings.Contains(sms.Body, "yw eich cod Norfolk County Council i ychwanegu'r rhif ffôn hwn at eich cyfrif") {
		t.Fatalf("the text message is not in Welsh, or not for adding a phone: %q", sms.Body)
	}
	b.press("Dilysu'r cod", "code", d.smsCode(p.e164))
	b.expectHeading("Cadarnhewch eich rhif ffôn")
	b.press("Ffoniwch fi")
	b.expectHeading("Rydym yn eich ffonio")
	call := d.latest("voice", p.e164)
	if !strings.Contains(call.Body, "Galwad awtomatig gan Norfolk County Council yw hon i gadarnhau'r rhif ffôn hwn") {
		t.Fatalf("the call script is not in Welsh, or not for confirming the phone: %q", call.Body)
	}
	d.pressKeys(p.e164, "#")
	b.get("/login")
	tok := b.exchange()
	var claims struct {
		Locale string `json:"locale"`
	}
	if err := tok.id.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Locale != "cy" {
		t.Errorf("ID token locale = %q, want cy", claims.Locale)
	}
	if u, err := d.app.Durable.UserByEmail(t.Context(), p.email); err != nil || u.Locale != "cy" {
		t.Errorf("the account's locale: %v, %v", u, err)
	}
	// The account pages follow the account's language.
	b.get("/account")
	b.expectLang("cy")
	b.expectHeading("Eich cyfrif")
	b.expectText("Eich cyfrif") // the header's service name
	// The toggle there switches them, and the account keeps the choice.
	b.follow("English")
	b.expectLang("en")
	b.expectHeading("Your account")
	if u, err := d.app.Durable.UserByEmail(t.Context(), p.email); err != nil || u.Locale != "en" {
		t.Errorf("the account's locale after the toggle: %v, %v", u, err)
	}

	// The next sign-in, without ui_locales, in a browser asking for English
	// first: ui_locales is not there, the account's Welsh is not known until
	// the password, so the pages follow the browser.
	b = d.browser()
	b.startSignIn()
	b.expectLang("en")
	b.expectHeading("Sign In")
}

// Accept-Language alone chooses Welsh; the toggle switches mid-journey and
// keeps what was done; the choice holds for the rest of the journey and its
// messages.
func TestAcceptLanguageAndToggle(t *testing.T) {
	d := startIdP(t, embedded, nil)
	p := newPerson(t, true)
	b := d.browser()
	a := b.relyingParty().Start()
	b.verifier, b.state, b.nonce, b.code = a.Verifier, a.State, a.Nonce, ""
	b.getWithLanguage(a.URL, "cy-GB,cy;q=0.9,en;q=0.5")
	b.expectLang("cy")
	b.expectHeading("Mewngofnodi")

	// Switch to English on the Sign In page, then sign up: English from now on.
	b.follow("English")
	b.expectLang("en")
	b.expectHeading("Sign In")
	b.follow("Sign up now")
	b.press("Send verification code", "email", p.email)
	b.expectHeading("Check your email")
	if m := d.latest("email", strings.ToLower(p.email)); m.Subject != "Norfolk County Council account email verification code" {
		t.Fatalf("email after switching to English: %+v", m)
	}

	// Mid-journey to Welsh: the same step, with the address typed, in Welsh.
	b.follow("Cymraeg")
	b.expectLang("cy")
	b.expectHeading("Gwiriwch eich e-bost")
	b.expectText(p.email)
	_, code := d.emailCode(p.email)
	b.press("Dilysu'r cod", "code", code)
	b.expectHeading("Mae eich cyfeiriad e-bost bellach wedi'i ddilysu")

	// An unknown language is not a page.
	if pg := b.get("/login/language?lang=fr"); pg.status != http.StatusNotFound {
		t.Errorf("?lang=fr: status %d", pg.status)
	}
}

// The help pages speak Welsh too: the toggle on /help, /cookies and the
// lost-phone page switches the page itself (before the merge of the two
// halves of issue 19 they had no toggle, and the toggle came back to Sign In
// only), the footer's links lead on in Welsh, and from a journey the help
// page's toggle switches the journey as well, so 'Back' returns to its step
// in the language chosen.
func TestServicePagesInWelsh(t *testing.T) {
	d := startIdP(t, embedded, nil)
	b := d.browser()
	b.get("/help")
	b.expectLang("en")
	b.expectHeading("Problems signing in")
	b.follow("Cymraeg")
	b.expectLang("cy")
	b.expectHeading("Problemau wrth fewngofnodi")
	if !strings.HasSuffix(b.page.url, "/help") {
		t.Errorf("the toggle on /help came back to %s", b.page.url)
	}
	b.expectNoText("Problems signing in")
	b.follow("darganfyddwch beth i'w wneud os na allwch ddefnyddio eich rhif ffôn")
	b.expectLang("cy")
	b.expectHeading("Os na allwch ddefnyddio eich rhif ffôn")
	b.expectNoText("What we will check")
	b.follow("Cwcis")
	b.expectLang("cy")
	b.expectHeading("Cwcis")
	b.expectText("Cwcis cwbl angenrheidiol")
	b.expectText(web.LangCookie) // the toggle's own cookie is on the list
	b.expectNoText("When you close your browser")
	b.follow("English")
	b.expectLang("en")
	b.expectHeading("Cookies")
	if !strings.HasSuffix(b.page.url, "/cookies") {
		t.Errorf("the toggle on /cookies came back to %s", b.page.url)
	}
	b.get("/help/lost-phone")
	b.expectLang("en")
	b.follow("Cymraeg")
	b.expectHeading("Os na allwch ddefnyddio eich rhif ffôn")

	// From a journey in English: the help page's toggle switches the journey.
	c := d.browser()
	c.startSignIn()
	c.expectHeading("Sign In")
	c.follow("Problems signing in")
	c.follow("Cymraeg")
	c.expectLang("cy")
	c.expectHeading("Problemau wrth fewngofnodi")
	c.follow("Yn ôl")
	c.expectLang("cy")
	c.expectHeading("Mewngofnodi")
}

// The provider's own pages (a sign-out refused, signed out, a sign-in link
// that is not valid, a sign-in that has expired) are in the person's
// language: the form app's ui_locales, the toggle's cookie, Accept-Language.
// (Before: English whatever the language.)
func TestProviderPagesInWelsh(t *testing.T) {
	d := startIdP(t, embedded, nil)
	welsh := http.Header{"Accept-Language": {"cy"}}
	for _, tc := range []struct {
		what, url string
		header    http.Header
		want      string
		notWant   string
	}{
		{"signed out", d.issuer + "/logged-out", welsh, "Rydych wedi allgofnodi", "You have signed out"},
		{"sign-out refused", d.issuer + "/end_session?client_id=nobody&post_logout_redirect_uri=" + url.QueryEscape("https://evil.example/"),
			welsh, "Nid oedd modd eich allgofnodi", "You could not be signed out"},
		{"sign-in link not valid, ui_locales", d.issuer + "/authorize?client_id=referral-form&response_type=code&scope=openid&ui_locales=cy&redirect_uri=" + url.QueryEscape("https://evil.example/cb"),
			nil, "Nid yw'r ddolen mewngofnodi hon yn ddilys", "This sign-in link is not valid"},
		{"expired", d.issuer + "/authorize/continue?id=" + url.QueryEscape("no-such-request"), http.Header{"Cookie": {web.LangCookie + "=cy"}},
			"Mae eich mewngofnodi wedi dod i ben", "Your sign-in has expired"},
	} {
		status, h, body := fetch(t, "GET", tc.url, tc.header, "")
		if !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %q, want a page", tc.what, status, h.Get("Content-Type"))
			continue
		}
		if !strings.Contains(body, `lang="cy"`) || !strings.Contains(html.UnescapeString(body), tc.want) || strings.Contains(html.UnescapeString(body), tc.notWant) {
			t.Errorf("%s: %d, want a Welsh page with %q, got:\n%s", tc.what, status, tc.want, grepLines(body, "<h1"))
		}
	}
	// Every title and paragraph the provider writes is in the catalogue.
	for _, s := range []string{provider.OtherBrowserTitle, provider.OtherBrowserMessage, provider.OutageTitle, provider.OutageMessage} {
		if !ui.IsCatalogued(s) {
			t.Errorf("provider page text %q is not in the catalogue", s)
		}
	}
}

// The council's own contact words in Welsh (IDP_CONTACT_TEXT_CY) on the
// Welsh contact page, its English on the English one.
func TestContactTextInWelshPages(t *testing.T) {
	d := startIdP(t, embedded, map[string]string{
		"IDP_CONTACT_TEXT":    "call customer services on 01632 960 001",
		"IDP_CONTACT_TEXT_CY": "ffoniwch y gwasanaethau cwsmeriaid ar 01632 960 001",
	})
	_, _, cy := fetch(t, "GET", d.issuer+"/contact", http.Header{"Cookie": {web.LangCookie + "=cy"}}, "")
	_, _, en := fetch(t, "GET", d.issuer+"/contact", nil, "")
	if !strings.Contains(cy, "ffoniwch y gwasanaethau cwsmeriaid ar 01632 960 001") || strings.Contains(cy, "call customer services") {
		t.Errorf("Welsh contact page: want the Welsh contact text only, got:\n%s", grepLines(cy, "01632"))
	}
	if !strings.Contains(en, "call customer services on 01632 960 001") || strings.Contains(en, "ffoniwch") {
		t.Errorf("English contact page: want the English contact text only, got:\n%s", grepLines(en, "01632"))
	}
}

// The dev inbox's own words follow the browser's language too (the messages
// in it are in the language they were sent in).
func TestDevInboxInWelsh(t *testing.T) {
	d := startIdP(t, embedded, nil)
	status, _, body := fetch(t, "GET", d.issuer+"/dev/inbox", http.Header{"Accept-Language": {"cy"}}, "")
	if !strings.Contains(body, `<html lang="cy"`) || !strings.Contains(body, "<title>Mewnflwch datblygu") {
		t.Errorf("GET /dev/inbox in Welsh (%d):\n%s", status, grepLines(body, "<title"))
	}
}
