package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/councilforms/idp/idp/provider"
	"golang.org/x/oauth2"
)

const logoutQuestion = "Do you want to sign out"

// rawIDToken is the ID token the form app got, as it sends it back in id_token_hint.
func rawIDToken(t *testing.T, tok *tokens) string {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("no id_token")
	}
	return raw
}

// expectSSO: the browser still has its IdP session, so a form app's new sign-in
// comes straight back with a code.
func expectSSO(t *testing.T, b *browser) {
	t.Helper()
	b.startSignIn()
	if b.code == "" {
		t.Fatalf("the session was ended: a new sign-in shows\n%s", b.page)
	}
}

func expectSignedOut(t *testing.T, b *browser) {
	t.Helper()
	b.startSignIn()
	if b.code != "" {
		t.Fatal("still signed in: a new sign-in came back with a code")
	}
	b.expectHeading("Sign In")
}

func expectQuestion(t *testing.T, b *browser, pg page) {
	t.Helper()
	if pg.status != http.StatusOK || !strings.HasPrefix(b.heading(), logoutQuestion) {
		t.Fatalf("got %d %q, want the question %q:\n%s", pg.status, b.heading(), logoutQuestion, pg)
	}
	if !strings.Contains(b.page.body, `<form method="post" action="/logout"`) {
		t.Fatalf("the question has no POST form to /logout:\n%s", b.page.body)
	}
}

// Security finding 11, RP-Initiated Logout 1.0 section 2: a logout request
// without an id_token_hint (or the idp's own 'Sign out' link) asks and ends the
// session only when the person chooses 'Sign out'.
func TestLogoutWithoutHintAsks(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		b := d.browser()
		signUp(d, b, newPerson(t, true))

		for _, u := range []string{"/end_session", "/end_session?client_id=referral-form&state=s1", "/logout"} {
			expectQuestion(t, b, b.get(u))
			expectSSO(t, b) // asking ended nothing
		}
		// 'Cancel' without a post-logout URI goes to the account page.
		b.get("/end_session")
		b.follow("Cancel")
		expectSSO(t, b)

		b.get("/end_session")
		pg := b.press("Sign out")
		if pg.status != http.StatusOK || b.heading() != "You have signed out" {
			t.Fatalf("after 'Sign out': %d %q", pg.status, b.heading())
		}
		expectSignedOut(t, b)
	})
}

// With a valid hint naming the signed-in person the session ends at once; a
// hint for someone else only asks.
func TestLogoutWithHint(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		other := d.browser()
		otherToken := rawIDToken(t, signUp(d, other, newPerson(t, true)))

		b := d.browser()
		tok := signUp(d, b, newPerson(t, true))

		expectQuestion(t, b, b.get("/end_session?"+url.Values{"id_token_hint": {otherToken}}.Encode()))
		expectSSO(t, b)
		expectSSO(t, other)

		pg := b.get("/end_session?" + url.Values{"id_token_hint": {rawIDToken(t, tok)}, "state": {"s2"}}.Encode())
		if pg.status != http.StatusOK || b.heading() != "You have signed out" {
			t.Fatalf("logout with the person's own hint: %d %q", pg.status, b.heading())
		}
		expectSignedOut(t, b)
		expectSSO(t, other)
	})
}

// Security finding 11: an image tag on another site pointing at /logout or
// /end_session no longer signs the person out; a cross-site POST of the
// question's 'Sign out' is refused.
func TestLogoutFromAnotherSite(t *testing.T) {
	d := startIdP(t, embedded, nil)
	b := d.browser()
	signUp(d, b, newPerson(t, true))
	for _, u := range []string{"/logout", "/end_session"} {
		req, _ := http.NewRequest(http.MethodGet, d.issuer+u, nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Sec-Fetch-Dest", "image")
		req.Header.Set("Referer", "https://other.example/")
		b.do(req)
		expectSSO(t, b)
	}
	req, _ := http.NewRequest(http.MethodPost, d.issuer+"/logout", strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://other.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if pg := b.do(req); pg.status != http.StatusForbidden {
		t.Errorf("cross-site POST /logout: %d, want 403", pg.status)
	}
	expectSSO(t, b)
}

// crossSitePost posts a form from a form app's page on another site. The
// browser sends no SameSite=Lax cookie with it: a browser without cookies.
func crossSitePost(t *testing.T, d *idp, b *browser, path string, v url.Values) page {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, d.issuer+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://other.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	return b.do(req)
}

// Security finding 17, conformance failure 1: OIDC Core 3.1.2.1 and
// RP-Initiated Logout 1.0 section 2 require POST; a form app's page posts them
// from its own origin.
func TestCrossSiteFormPosts(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		p := newPerson(t, true)
		signUp(d, d.browser(), p)

		b := d.browser()
		b.verifier, b.state, b.nonce = oauth2.GenerateVerifier(), randomString(), randomString()
		au, _ := url.Parse(d.rp.AuthCodeURL(b.state, oauth2.S256ChallengeOption(b.verifier), oidc.Nonce(b.nonce)))
		crossSitePost(t, d, b, au.Path, au.Query())
		b.expectHeading("Sign In")
		b.press("Sign in", "email", p.email, "password", p.password)
		b.expectHeading("Confirm it is you")
		proveBySMS(d, b, p)
		tok := b.exchange()

		// A logout posted from another site without a hint asks and ends
		// nothing (no cookie is sent with it, so 'Sign out' there has no
		// session to end).
		cookieless := d.browser()
		expectQuestion(t, cookieless, crossSitePost(t, d, cookieless, "/end_session", url.Values{"client_id": {"referral-form"}}))
		expectSSO(t, b)
		// With the form app's ID token as hint it ends the session the hint's
		// sid names, though the browser sent no cookie (issue 16 item 2).
		cookieless = d.browser()
		if pg := crossSitePost(t, d, cookieless, "/end_session", url.Values{"id_token_hint": {rawIDToken(t, tok)}}); cookieless.heading() != "You have signed out" {
			t.Fatalf("cross-site logout with a hint: %d %q", pg.status, cookieless.heading())
		}
		expectSignedOut(t, b)
	})
}

// Security finding 13: bad input to /end_session is the request's fault (400
// and a page), not a server error.
func TestEndSessionBadInput(t *testing.T) {
	d := startIdP(t, embedded, nil)
	big := "state=" + strings.Repeat("a", 10<<20)
	for _, rq := range []struct{ name, method, path, body string }{
		{"10 MB body", http.MethodPost, "/end_session", big},
		{"bad escape", http.MethodGet, "/end_session?a=%zz", ""},
		{"unknown client", http.MethodGet, "/end_session?client_id=nobody", ""},
		{"unknown client, POST", http.MethodPost, "/end_session", "client_id=nobody"},
	} {
		header := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
		status, h, body := fetch(t, rq.method, d.issuer+rq.path, header, rq.body)
		if status != http.StatusBadRequest || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(body, "could not be signed out") {
			t.Errorf("%s: %d %q, want 400 and the page", rq.name, status, h.Get("Content-Type"))
		}
	}
}

// The question keeps post_logout_redirect_uri and state: 'Cancel' goes back to
// the form app without signing out, 'Sign out' signs out and goes there.
func TestLogoutQuestionKeepsPostLogoutURI(t *testing.T) {
	d := startIdP(t, embedded, nil)
	const signedOut = "https://rp.test/signed-out"
	if _, err := provider.AddClient(context.Background(), d.app.Durable, clientSecretsOf(t, d.app), provider.NewClient{
		ID: "logout-form", Name: "Signs people out", RedirectURIs: []string{"https://rp.test/other"},
		PostLogoutRedirectURIs: []string{signedOut}, Public: true,
	}, time.Now()); err != nil {
		t.Fatal(err)
	}
	b := d.browser()
	signUp(d, b, newPerson(t, true))
	q := url.Values{"client_id": {"logout-form"}, "post_logout_redirect_uri": {signedOut}, "state": {"s3"}}
	expectQuestion(t, b, b.get("/end_session?"+q.Encode()))
	want := signedOut + "?state=s3"
	if !strings.Contains(b.page.body, `href="`+want+`"`) {
		t.Errorf("'Cancel' does not lead to %s:\n%s", want, b.page.body)
	}
	expectSSO(t, b)

	b.get("/end_session?" + q.Encode())
	pg := b.press("Sign out")
	if loc := pg.header.Get("Location"); pg.status != http.StatusSeeOther || loc != want {
		t.Fatalf("'Sign out': %d %q, want 303 to %s", pg.status, loc, want)
	}
	expectSignedOut(t, b)

	// An unregistered URI is refused on the question too.
	q.Set("post_logout_redirect_uri", "https://evil.example/")
	if pg := b.get("/logout?" + q.Encode()); pg.status != http.StatusBadRequest {
		t.Errorf("question with an unregistered URI: %d, want 400", pg.status)
	}
}
