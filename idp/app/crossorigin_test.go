package app_test

import (
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/councilforms/idp/idp/webtest"
)

// formAppPages is a form app's own pages on another site than the idp's: its
// 'Login or Register' and 'Sign out' are HTML forms that POST the
// authorization request to /authorize and the logout request to /end_session,
// as OIDC Core 3.1.2.1 and RP-Initiated Logout 1.0 section 2 allow.
var formAppPages = template.Must(template.New("forms").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Heading}} – Make a social care referral</title></head>
<body><main>
<h1>{{.Heading}}</h1>
<form method="post" action="{{.Action}}">
{{- range $k, $v := .Fields}}
<input type="hidden" name="{{$k}}" value="{{$v}}">
{{- end}}
<button type="submit">{{.Button}}</button>
</form>
</main></body></html>`))

type formAppPage struct {
	Heading, Action, Button string
	Fields                  map[string]string
}

// startCrossSiteForms serves the form app's pages on http://localhost: another
// site than the idp's http://127.0.0.1 (another host, not only another port),
// so the browser treats its posts as cross-site and sends no SameSite=Lax
// cookie with them. The callback stays with rp, which redeems the code.
func startCrossSiteForms(t *testing.T, d *idp, rp *relyingParty) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	render := func(w http.ResponseWriter, p formAppPage) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := formAppPages.Execute(w, p); err != nil {
			t.Errorf("form app page: %v", err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /start", func(w http.ResponseWriter, r *http.Request) {
		a := rp.sim.Start()
		rp.mu.Lock()
		rp.pending[a.State] = a
		rp.mu.Unlock()
		au, err := url.Parse(a.URL)
		if err != nil {
			t.Errorf("authorization URL: %v", err)
			return
		}
		fields := map[string]string{}
		for k, v := range au.Query() {
			fields[k] = v[0]
		}
		au.RawQuery = ""
		render(w, formAppPage{Heading: "Make a social care referral", Action: au.String(), Button: "Login or Register", Fields: fields})
	})
	mux.HandleFunc("GET /leave", func(w http.ResponseWriter, r *http.Request) {
		render(w, formAppPage{Heading: "Leave the form", Action: d.issuer + "/end_session", Button: "Sign out of the form",
			Fields: map[string]string{"client_id": rp.sim.Config.ClientID}})
	})
	// A page of another site that tries what the idp's own 'Sign out' does.
	mux.HandleFunc("GET /forge", func(w http.ResponseWriter, r *http.Request) {
		render(w, formAppPage{Heading: "Win a prize", Action: d.issuer + "/logout", Button: "Claim"})
	})
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	srv.Start()
	t.Cleanup(srv.Close)
	return "http://localhost:" + port
}

// Issue 16, done when: in a real browser, a form app's page on another site
// posts the authorization request as a form to /authorize (accepted, not 403)
// and, later, a logout request without an id_token_hint as a form to
// /end_session: the idp asks "Do you want to sign out of ...?" and the session
// stays until 'Sign out' is chosen. The idp's own POST /logout from that site
// is refused. Scripts off, so the pages (the header's 'Sign out' form
// included) work without them.
func TestBrowserCrossSiteFormPosts(t *testing.T) {
	d := startIdP(t, embedded, nil)
	rp := newRelyingParty(t, d)
	forms := startCrossSiteForms(t, d, rp)
	p := newPerson(t, true)
	name := p.given + " " + p.family
	question := "Do you want to sign out of Norfolk County Council?"

	b := webtest.NewBrowser(t, false)
	b.Navigate(forms + "/start")
	see(t, b, "form-start", "Make a social care referral")
	b.ClickButton("Login or Register")
	g := &guide{t: t, d: d, b: b, p: p}
	g.signUp(false)
	see(t, b, "back-at-form", "Signed in")
	says(t, b, "Signed in as "+name)

	signedIn := func(step string) {
		t.Helper()
		b.Navigate(d.issuer + "/account")
		see(t, b, step, "Your account")
		says(t, b, "Signed in as "+name)
	}

	// Logout posted from the other site, no hint: a question, nothing ended.
	b.Navigate(forms + "/leave")
	b.ClickButton("Sign out of the form")
	see(t, b, "logout-question", question)
	if !b.HasButton("Sign out") || !b.Has("Cancel") {
		t.Fatalf("the question offers no 'Sign out' and 'Cancel':\n%s", b.Text())
	}
	signedIn("still-signed-in")
	// A new sign-in at the form app still comes straight back.
	b.Navigate(forms + "/start")
	b.ClickButton("Login or Register")
	see(t, b, "sso-after-question", "Signed in")

	// 'Cancel' leaves the person signed in.
	b.Navigate(forms + "/leave")
	b.ClickButton("Sign out of the form")
	see(t, b, "logout-question-again", question)
	b.FollowLink("Cancel")
	see(t, b, "cancelled", "Your account")

	// The idp's own sign-out, POST /logout, posted from the other site:
	// refused by cross-origin protection, nothing ended.
	b.Navigate(forms + "/forge")
	b.ClickButton("Claim")
	b.Screenshot("forged-sign-out")
	says(t, b, "this form was sent from another site")
	signedIn("after-forged-sign-out")

	// 'Sign out' ends the session.
	b.Navigate(forms + "/leave")
	b.ClickButton("Sign out of the form")
	see(t, b, "logout-question-last", question)
	b.ClickButton("Sign out")
	see(t, b, "signed-out", "You have signed out")
	b.Navigate(d.issuer + "/account")
	see(t, b, "account-signed-out", "You are not signed in")

	// The next sign-in from the other site asks for the password and the
	// phone again; then the header's 'Sign out' (a form, scripts off) ends it.
	b.Navigate(forms + "/start")
	b.ClickButton("Login or Register")
	g.signIn("again-")
	g.proveBySMS("again-")
	see(t, b, "back-at-form-again", "Signed in")
	signedIn("account-again")
	if strings.Contains(b.Text(), "Sign out") && !b.HasButton("Sign out") {
		t.Fatal("the header's 'Sign out' is not a button")
	}
	b.ClickButton("Sign out")
	see(t, b, "header-signed-out", "You have signed out")
	b.Navigate(d.issuer + "/account")
	see(t, b, "account-signed-out-again", "You are not signed in")
}
