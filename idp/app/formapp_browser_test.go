package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/councilforms/idp/cmd/formapp/formapp"
	"github.com/councilforms/idp/cmd/formapp/formapp/formapptest"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/idp/webtest"
)

// Issue 6's story in a real browser, against the demo form app (cmd/formapp) as a
// registered client of the whole idp, on both backends, with and without
// JavaScript: page one filled signed out, 'Login or Register', the whole sign-up of
// the guide, back on page two with page one's answers kept and 'Signed in as
// <given name> <surname>', the referral sent, signed out of the form app and the
// idp, and on the next visit asked to sign in again, phone step included.
func TestBrowserFormAppReferral(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		jsModes(t, func(t *testing.T, js bool) {
			d := startIdP(t, be, nil)
			formURL := startFormApp(t, d, be == embedded)
			p := newPerson(t, true)
			name := p.given + " " + p.family

			b := webtest.NewBrowser(t, js)
			r := formapptest.NewReferral(t, b, formURL)
			r.FillPageOne()
			r.LoginOrRegister()
			g := &guide{t: t, d: d, b: b, p: p, js: js}
			g.signUp(false)
			r.BackOnPageTwo(name)
			r.FinishAndSubmit()
			r.SignOut()

			// The next visit: signed out of the idp too, so the password and the
			// phone are asked for again.
			r.FillPageOne()
			r.LoginOrRegister()
			g.signIn("next-visit-")
			g.proveBySMS("next-visit-")
			r.BackOnPageTwo(name)
		})
	})
}

// startFormApp runs the demo form app in process on 127.0.0.1, registered with d as
// a public client (as embedded mode registers it) or a confidential one, and
// returns its address.
func startFormApp(t *testing.T, d *idp, public bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	const id = "referral-demo"
	secret, err := provider.AddClient(context.Background(), d.app.Durable, clientSecretsOf(t, d.app), provider.NewClient{
		ID: id, Name: "Make a social care referral", Public: public,
		RedirectURIs:           []string{base + "/callback"},
		PostLogoutRedirectURIs: []string{base + "/signed-out"},
		Scopes:                 []string{"openid", "profile", "email", "phone"},
	}, time.Now())
	if err != nil {
		t.Fatalf("register the form app: %v", err)
	}
	cfg, err := formapp.ConfigFromEnv(func(k string) string {
		return map[string]string{
			"FORMAPP_ADDR":                     ln.Addr().String(),
			"FORMAPP_ISSUER":                   d.issuer,
			"FORMAPP_CLIENT_ID":                id,
			"FORMAPP_CLIENT_SECRET":            secret,
			"FORMAPP_REDIRECT_URL":             base + "/callback",
			"FORMAPP_POST_LOGOUT_REDIRECT_URL": base + "/signed-out",
		}[k]
	})
	if err != nil {
		t.Fatalf("form app configuration: %v", err)
	}
	fa, err := formapp.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("form app: %v", err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: fa.Handler()}}
	srv.Start()
	t.Cleanup(srv.Close)
	return base
}
