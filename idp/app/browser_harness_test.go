package app_test

import (
	"context"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/idp/web"
	"github.com/councilforms/idp/idp/webtest"
	"github.com/councilforms/idp/idp/webtest/sim"
)

// The browser tests' side of the harness: a small form app a real browser starts
// from and comes back to, and the person's second tab on the dev inbox.

// guideMessage is the on-screen message of the guide's first step.
const guideMessage = "In order to progress with this form you must either log in or complete a simple registration"

// relyingParty is a form app reduced to the guide's first and last steps: a page
// with the guide's message and 'Login or Register', and a callback that redeems the
// code with go-oidc and x/oauth2 (not the provider's library) and shows the
// person's name at the top. It listens on http://127.0.0.1 (loopback http is a
// valid redirect URI) and is registered with the idp as a confidential client.
type relyingParty struct {
	t   *testing.T
	url string
	sim *sim.RelyingParty // the relying party every harness shares

	mu      sync.Mutex
	pending map[string]sim.Authorization // by state
	claims  []rpClaims                   // every sign-in that came back, in order
}

// rpClaims are the ID token's claims the relying party shows or checks.
type rpClaims struct {
	Email      string   `json:"email"`
	GivenName  string   `json:"given_name"`
	FamilyName string   `json:"family_name"`
	Name       string   `json:"name"`
	Phone      string   `json:"phone_number"`
	AMR        []string `json:"amr"`
	Nonce      string   `json:"nonce"`
}

var rpPage = template.Must(template.New("rp").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Heading}} – Make a social care referral</title></head>
<body>
<header>{{with .Name}}<p>Signed in as <strong>{{.}}</strong></p>{{end}}</header>
<main>
<h1>{{.Heading}}</h1>
{{- range .Paragraphs}}
<p>{{.}}</p>
{{- end}}
{{- if .Login}}
<a href="/login" role="button">Login or Register</a>
{{- end}}
</main>
</body></html>`))

type rpView struct {
	Heading, Name string
	Paragraphs    []string
	Login         bool
}

// newRelyingParty starts the form app and registers it with d.
func newRelyingParty(t *testing.T, d *idp) *relyingParty {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rp := &relyingParty{t: t, url: "http://" + ln.Addr().String(), pending: map[string]sim.Authorization{}}
	ctx := context.Background()
	const id = "browser-form"
	secret, err := provider.AddClient(ctx, d.app.Durable, clientSecretsOf(t, d.app), provider.NewClient{
		ID: id, Name: "Make a social care referral", RedirectURIs: []string{rp.url + "/callback"},
		Scopes: []string{"openid", "profile", "email", "phone"},
	}, time.Now())
	if err != nil {
		t.Fatalf("register the form app: %v", err)
	}
	rp.sim = &sim.RelyingParty{
		Issuer: d.issuer,
		Config: &oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: d.prov.Endpoint(),
			RedirectURL: rp.url + "/callback", Scopes: []string{oidc.ScopeOpenID, "profile", "email", "phone"}},
		Verifier: d.prov.Verifier(&oidc.Config{ClientID: id}),
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		rp.render(w, http.StatusOK, rpView{Heading: "Make a social care referral", Paragraphs: []string{guideMessage}, Login: true})
	})
	mux.HandleFunc("GET /login", rp.login)
	mux.HandleFunc("GET /callback", rp.callback)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	srv.Start()
	t.Cleanup(srv.Close)
	return rp
}

func (rp *relyingParty) render(w http.ResponseWriter, status int, v rpView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = rpPage.Execute(w, v)
}

// login is 'Login or Register': an authorization request with PKCE, state and nonce.
func (rp *relyingParty) login(w http.ResponseWriter, r *http.Request) {
	a := rp.sim.Start()
	rp.mu.Lock()
	rp.pending[a.State] = a
	rp.mu.Unlock()
	http.Redirect(w, r, a.URL, http.StatusFound)
}

// callback redeems the code and shows who signed in; any failure is a page that
// says what went wrong, so the test prints it.
func (rp *relyingParty) callback(w http.ResponseWriter, r *http.Request) {
	fail := func(format string, args ...any) {
		rp.render(w, http.StatusBadRequest, rpView{Heading: "Sign-in failed", Paragraphs: []string{fmt.Sprintf(format, args...)}})
	}
	q := r.URL.Query()
	rp.mu.Lock()
	a, ok := rp.pending[q.Get("state")]
	delete(rp.pending, q.Get("state"))
	rp.mu.Unlock()
	if !ok {
		fail("unknown state %q", q.Get("state"))
		return
	}
	code, err := rp.sim.Code(a, r.URL)
	if err != nil {
		fail("%v", err)
		return
	}
	tok, err := rp.sim.Exchange(r.Context(), a, code)
	if err != nil {
		fail("%v", err)
		return
	}
	var c rpClaims
	if err := tok.IDToken.Claims(&c); err != nil {
		fail("claims: %v", err)
		return
	}
	rp.mu.Lock()
	rp.claims = append(rp.claims, c)
	rp.mu.Unlock()
	rp.render(w, http.StatusOK, rpView{Heading: "Signed in", Name: c.Name,
		Paragraphs: []string{"You can now continue to complete the form."}})
}

// last is the newest sign-in the relying party received.
func (rp *relyingParty) last() rpClaims {
	rp.t.Helper()
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if len(rp.claims) == 0 {
		rp.t.Fatal("the form app has received no sign-in")
	}
	return rp.claims[len(rp.claims)-1]
}

// see checks the page a person has in front of them by its heading, and keeps a
// screenshot of it named after the step.
func see(t *testing.T, b *webtest.Browser, step, heading string) {
	t.Helper()
	b.Screenshot(step)
	if got := b.Heading(); got != heading {
		t.Fatalf("%s: on %s the heading is %q, want %q; the page says:\n%s", step, b.URL(), got, heading, b.Text())
	}
}

// says checks that the page shows every one of texts.
func says(t *testing.T, b *webtest.Browser, texts ...string) {
	t.Helper()
	body := strings.Join(strings.Fields(b.Text()), " ")
	for _, want := range texts {
		if !strings.Contains(body, want) {
			t.Fatalf("on %s the page does not say %q; it says:\n%s", b.URL(), want, body)
		}
	}
}

// showsError checks the GOV.UK error pattern: the title starts 'Error:', the
// summary says 'There is a problem' and lists msg.
func showsError(t *testing.T, b *webtest.Browser, msg string) {
	t.Helper()
	if title := b.Title(); !strings.HasPrefix(title, "Error: ") {
		t.Errorf("title %q does not start with 'Error: '", title)
	}
	says(t, b, "There is a problem", msg)
}

// inbox is the person's second tab on the dev inbox page, where in development
// mode their email and texts arrive and their calls ring.
type inbox struct {
	t   *testing.T
	tab *webtest.Browser
	url string
}

func openInbox(t *testing.T, b *webtest.Browser, issuer string) *inbox {
	return &inbox{t: t, tab: b.NewTab(), url: issuer + "/dev/inbox"}
}

// code reads the 6-digit code of the newest message on channel to to off the
// inbox page, as a person reads it in their email or on their phone.
func (in *inbox) code(channel, to, step string) string {
	in.t.Helper()
	in.tab.Navigate(in.url)
	see(in.t, in.tab, step, "Dev inbox")
	code := webtest.Eval[string](in.tab, fmt.Sprintf(`(() => {
  for (const row of document.querySelectorAll('tbody tr')) {
    const cells = row.querySelectorAll('td');
    if (cells[1].textContent.trim() === %q && cells[2].textContent.trim().toLowerCase() === %q) {
      const c = row.querySelector('.app-code');
      return c ? c.textContent.trim() : '';
    }
  }
  return '';
})()`, channel, strings.ToLower(to)))
	if len(code) != 6 {
		in.t.Fatalf("no code in the newest %s to %s on the dev inbox page:\n%s", channel, to, in.tab.Text())
	}
	return code
}

// pressHash answers the ringing call by pressing # with the inbox page's button.
func (in *inbox) pressHash(step string) {
	in.t.Helper()
	in.tab.Navigate(in.url)
	see(in.t, in.tab, step, "Dev inbox")
	says(in.t, in.tab, "press the hash key")
	in.tab.ClickButton("Press # on the call")
	see(in.t, in.tab, step+"-answered", "Dev inbox")
	if in.tab.HasButton("Press # on the call") {
		in.t.Fatalf("the call still rings after pressing #:\n%s", in.tab.Text())
	}
}

// guide is one person following the council guide in a browser, with the dev inbox
// in a second tab, from the idp's 'Sign In' page until the idp hands them back.
type guide struct {
	t  *testing.T
	d  *idp
	b  *webtest.Browser
	p  person
	js bool
	in *inbox
}

// startGuide opens a new browser (JavaScript js) at the form app rp and selects
// 'Login or Register': p follows the guide from its 'Sign In' page.
func startGuide(t *testing.T, d *idp, rp *relyingParty, p person, js bool) *guide {
	t.Helper()
	b := webtest.NewBrowser(t, js)
	b.Navigate(rp.url)
	b.Click("Login or Register")
	return &guide{t: t, d: d, b: b, p: p, js: js}
}

func (g *guide) inbox() *inbox {
	if g.in == nil {
		g.in = openInbox(g.t, g.b, g.d.issuer)
	}
	return g.in
}

// signUp follows guide steps 2 to 11 from the 'Sign In' page. With mistakes the
// person first types a wrong email code and a confirmation that does not match,
// and sees the errors.
func (g *guide) signUp(mistakes bool) {
	t, b, p := g.t, g.b, g.p
	t.Helper()
	see(t, b, "sign-in", "Sign In")
	checkScripts(t, b, g.js)
	checkCookies(t, b)
	says(t, b, "Forgot your password?")
	b.FollowLink("Sign up now")
	see(t, b, "sign-up", "Sign up")
	b.FillLabel("Email address", p.email)
	b.ClickButton("Send verification code")
	see(t, b, "check-your-email", "Check your email")
	says(t, b, "We have sent a 6-digit code to "+p.email, "check your spam or junk folder")

	// Without closing the sign-in page, the person opens their email.
	code := g.inbox().code("email", p.email, "inbox-email-code")
	says(t, g.in.tab, "Norfolk County Council account email verification code")
	if mistakes {
		b.FillLabel("Verification code", wrongCode(code))
		b.ClickButton("Verify code")
		see(t, b, "email-code-wrong", "Check your email")
		showsError(t, b, journey.MsgCodeWrong)
	}
	b.FillLabel("Verification code", code[:3]+" "+code[3:]) // typed with a space
	b.ClickButton("Verify code")
	see(t, b, "email-verified", "Your email address has now been verified")
	b.ClickButton("Continue")

	see(t, b, "create-account", "Create your account")
	b.FillLabel("Given name", p.given)
	b.FillLabel("Family name", p.family)
	b.FillLabel("Password", p.password)
	if mistakes {
		b.FillLabel("Confirm password", p.password+" typo")
		b.ClickButton("Create")
		see(t, b, "create-account-mismatch", "Create your account")
		showsError(t, b, journey.MsgPasswordsDontMatch)
		if got := b.Value("Given name"); got != p.given {
			t.Errorf("after the error the given name holds %q, want %q", got, p.given)
		}
		b.FillLabel("Password", p.password)
	}
	b.FillLabel("Confirm password", p.password)
	b.ClickButton("Create")

	see(t, b, "phone-number", "Enter your phone number")
	b.FillLabel("Phone number", p.phone)
	g.proveBySMS("")

	// 'You'll now be asked to repeat this process to confirm your phone number.'
	see(t, b, "confirm-phone", "Confirm your phone number")
	says(t, b, journey.MaskPhone(p.e164))
	hidesNumber(t, b, p)
	if !b.HasButton("Send Code") || !b.HasButton("Call Me") {
		t.Fatalf("a mobile is offered 'Send Code' and 'Call Me'; the page says:\n%s", b.Text())
	}
	g.proveBySMS("confirm-")
}

// signUpToPhone takes the person, without mistakes, from the 'Sign In' page
// through the email code and the details form to 'Enter your phone number'.
func (g *guide) signUpToPhone(step string) {
	t, b, p := g.t, g.b, g.p
	t.Helper()
	b.FollowLink("Sign up now")
	b.FillLabel("Email address", p.email)
	b.ClickButton("Send verification code")
	b.FillLabel("Verification code", g.inbox().code("email", p.email, step+"inbox-email-code"))
	b.ClickButton("Verify code")
	b.ClickButton("Continue")
	b.FillLabel("Given name", p.given)
	b.FillLabel("Family name", p.family)
	b.FillLabel("Password", p.password)
	b.FillLabel("Confirm password", p.password)
	b.ClickButton("Create")
	see(t, b, step+"phone-number", "Enter your phone number")
}

// signIn is a later visit from the 'Sign In' page: email and password, then the
// phone step with the number masked.
func (g *guide) signIn(step string) {
	t, b, p := g.t, g.b, g.p
	t.Helper()
	see(t, b, step+"sign-in", "Sign In")
	b.FillLabel("Email address", p.email)
	b.FillLabel("Password", p.password)
	b.ClickButton("Sign in")
	see(t, b, step+"confirm-it-is-you", "Confirm it is you")
	says(t, b, "We need to check it is you using your phone number "+journey.MaskPhone(p.e164))
	hidesNumber(t, b, p)
}

// proveBySMS presses 'Send Code' on a phone page and types the texted code.
func (g *guide) proveBySMS(step string) {
	t, b, p := g.t, g.b, g.p
	t.Helper()
	b.ClickButton("Send Code")
	see(t, b, step+"check-your-phone", "Check your phone")
	// A number typed a moment ago is shown in full, so a typo can be seen (the
	// e2e tests hold when: only on enrolling it); any other is masked.
	if !strings.Contains(b.Text(), "We have sent a 6-digit code by text message to "+shownNumber(p.e164)) {
		says(t, b, "We have sent a 6-digit code by text message to "+journey.MaskPhone(p.e164))
		hidesNumber(t, b, p)
	}
	b.FillLabel("Verification code", g.inbox().code("sms", p.e164, step+"inbox-sms-code"))
	b.ClickButton("Verify code")
}

// proveByCall presses 'Call Me' on a phone page, answers the call with # on the dev
// inbox page in the other tab, and sees the waiting page move on to the page
// headed next: by itself with JavaScript, by 'Continue' without, as the page
// says.
func (g *guide) proveByCall(step, next string) {
	t, b, p := g.t, g.b, g.p
	t.Helper()
	b.ClickButton("Call Me")
	see(t, b, step+"calling", "We are calling you")
	says(t, b, "Answer the call to "+journey.MaskPhone(p.e164)+" and press the hash key (#) on your phone")
	if g.js {
		// The page's script asks /login/status whether the call was answered.
		if !b.WaitUntil(`performance.getEntriesByType('resource').some(e => new URL(e.name).pathname === '`+web.PathStatus+`')`, callWait) {
			t.Fatalf("the call-waiting page never polled %s", web.PathStatus)
		}
	}
	g.inbox().pressHash(step + "inbox-call")
	if !g.js {
		says(t, b, "When you have pressed the hash key, select 'Continue'.")
		b.ClickButton("Continue")
	}
	// With scripts nobody clicks anything: the poll moves it on.
	b.WaitHeading(next, callWait)
}

// checkScripts proves the run is what it says: app.js marks the page when it runs.
func checkScripts(t *testing.T, b *webtest.Browser, js bool) {
	t.Helper()
	if ran := webtest.Eval[bool](b, `document.body.classList.contains('js-enabled')`); ran != js {
		t.Fatalf("the page's script ran: %v, want %v", ran, js)
	}
}

// checkCookies answers the cookie question: the idp's __Host- cookies are Secure,
// and Chromium keeps them on http://127.0.0.1 (a potentially trustworthy origin),
// so a test issuer needs neither https nor localhost.
func checkCookies(t *testing.T, b *webtest.Browser) {
	t.Helper()
	for _, c := range b.Cookies() {
		if c.Name == web.JourneyCookie {
			if !c.Secure || !c.HTTPOnly || c.Path != "/" || c.Domain != "127.0.0.1" {
				t.Errorf("journey cookie kept as secure=%v httponly=%v path=%q domain=%q", c.Secure, c.HTTPOnly, c.Path, c.Domain)
			}
			return
		}
	}
	t.Fatalf("the browser did not keep the %s cookie on %s", web.JourneyCookie, b.URL())
}

// hidesNumber checks that the page shows the phone number only masked.
// shownNumber is how the pages show a UK mobile number just typed: "07700 900123".
func shownNumber(e164 string) string { return "0" + e164[3:7] + " " + e164[7:] }

func hidesNumber(t *testing.T, b *webtest.Browser, p person) {
	t.Helper()
	text := b.Text()
	for _, full := range []string{p.phone, p.e164, strings.ReplaceAll(p.phone, " ", "")} {
		if strings.Contains(text, full) {
			t.Fatalf("the page shows the whole number %q:\n%s", full, text)
		}
	}
}

// wrongCode is a 6-digit code that is not code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// jsModes runs a browser test with JavaScript and without: every page must work
// with scripts off.
func jsModes(t *testing.T, run func(t *testing.T, js bool)) {
	for _, js := range []bool{true, false} {
		name := "javascript"
		if !js {
			name = "no-javascript"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, js)
		})
	}
}
