package app_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
)

// The operators' console in the end-to-end harness: the idp with its console
// served on a listener of its own, as Serve does (IDP_ADMIN_ADDR).

type console struct {
	*idp
	url string // the console's base URL
}

// startConsole runs the idp on the backend with its console listening.
func startConsole(t *testing.T, b backend, extra map[string]string) *console {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	vars := map[string]string{"IDP_ADMIN_ADDR": ln.Addr().String(), "IDP_ADMIN_URL": url}
	for k, v := range extra {
		vars[k] = v
	}
	d := startIdP(t, b, vars)
	h := d.app.AdminHandler()
	if h == nil {
		t.Fatal("AdminHandler is nil with IDP_ADMIN_ADDR set")
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	srv.Start()
	t.Cleanup(srv.Close)
	return &console{idp: d, url: url}
}

// open is a GET of a console page in the browser.
func (c *console) open(b *browser, path string) page {
	b.t.Helper()
	return b.get(c.url + path)
}

// signedUp makes an account through the real journey (sign-up with a text)
// and returns it; roles, when given, are granted as `idp admins grant` does.
func (c *console) signedUp(t *testing.T, roles ...string) (person, *store.User) {
	t.Helper()
	p := newPerson(t, true)
	signUp(c.idp, c.browser(), p)
	u, err := c.app.Durable.UserByEmail(context.Background(), p.email)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		if _, err := c.app.Durable.GrantRole(context.Background(), &store.AdminRole{UserID: u.ID, Role: r, GrantedBy: "cli:test", GrantedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	return p, u
}

// signInToConsole opens the console in a new browser and signs in through
// the journey, phone check included, coming back to path.
func (c *console) signInToConsole(t *testing.T, p person, path string) *browser {
	t.Helper()
	b := c.browser()
	c.open(b, path)
	b.expectHeading("Sign In")
	b.press("Sign in", "email", p.email, "password", p.password)
	b.expectHeading("Confirm it is you")
	proveBySMS(c.idp, b, p)
	if !strings.HasPrefix(b.page.url, c.url+"/") {
		t.Fatalf("after signing in the browser is at %s, want the console\n%s", b.page.url, b.page)
	}
	return b
}
