package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The browser posts a form as a browser does, stops at the relying party
// (the redirect URI becomes Callback, any other address there is the page),
// and shows error pages and non-HTML answers while saying what they are.
func TestBrowser(t *testing.T) {
	var posted string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /start", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><head><title>Start</title></head><body><main><h1>Sign In</h1>
<form method="post" action="/go"><input type="hidden" name="csrf" value="t&amp;1"><input name="email" value="">
<button type="submit" name="how" value="pw">Sign in</button></form><a href="/out">Sign out</a></main></body></html>`)
	})
	mux.HandleFunc("POST /go", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		posted = r.PostForm.Encode() + " origin=" + r.Header.Get("Origin") + " site=" + r.Header.Get("Sec-Fetch-Site")
		http.Redirect(w, r, "https://rp.test/callback?code=c1&state=s1", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /out", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://rp.test/signed-out", http.StatusFound)
	})
	mux.HandleFunc("GET /missing", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `<h1>Page not found</h1>`)
	})
	mux.HandleFunc("GET /json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"done":true}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := context.Background()
	b, err := NewBrowser(srv.URL, "https://rp.test/callback", Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Open(ctx, "/start"); err != nil {
		t.Fatal(err)
	}
	if b.Page.H1 != "Sign In" || b.Page.Title != "Start" || b.Status != http.StatusOK {
		t.Fatalf("page %s", b.Page.Describe())
	}
	if err := b.Press(ctx, "sign in", nil); err == nil {
		t.Error("a label in another case was found without FoldLabels")
	}
	if err := b.Press(ctx, "Sign in", map[string]string{"email": "a@example.org", "nope": "x"}); err == nil {
		t.Error("a field the form lacks was filled")
	}
	if err := b.Press(ctx, "Sign in", map[string]string{"email": "a@example.org"}); err != nil {
		t.Fatal(err)
	}
	want := "csrf=t%261&email=a%40example.org&how=pw origin=" + srv.URL + " site=same-origin"
	if posted != want {
		t.Errorf("posted %q, want %q", posted, want)
	}
	if b.Callback == nil || b.Callback.Query().Get("code") != "c1" || b.Page != nil || b.Status != http.StatusSeeOther {
		t.Fatalf("callback %v, page %v, status %d", b.Callback, b.Page, b.Status)
	}
	rp := &RelyingParty{Issuer: srv.URL}
	if code, err := rp.Code(Authorization{State: "s1"}, b.Callback); err != nil || code != "c1" {
		t.Errorf("code %q, %v", code, err)
	}
	if _, err := rp.Code(Authorization{State: "other"}, b.Callback); err == nil {
		t.Error("a state that does not match was accepted")
	}

	if err := b.Open(ctx, "/start"); err != nil {
		t.Fatal(err)
	}
	if err := b.Click(ctx, "Sign out"); err != nil {
		t.Fatal(err)
	}
	if b.Callback != nil || b.Page == nil || b.Page.Status != http.StatusFound || b.Page.Header.Get("Location") != "https://rp.test/signed-out" {
		t.Fatalf("after 'Sign out': callback %v, page %+v", b.Callback, b.Page)
	}

	var status *StatusError
	if err := b.Open(ctx, "/missing"); !errors.As(err, &status) || b.Page.H1 != "Page not found" {
		t.Errorf("404: %v, page %s", err, b.Page.Describe())
	}
	if err := b.Open(ctx, "/json"); !errors.Is(err, ErrNotHTML) || !strings.Contains(b.Page.Body, `"done"`) {
		t.Errorf("JSON: %v, page %+v", err, b.Page)
	}
}

// Wait reads the inbox until a message to the person with a code is there, and
// gives up with ErrNoMessage when the context ends.
func TestInboxWait(t *testing.T) {
	reads := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/dev/inbox.json" || r.URL.Query().Get("to") != "sam@example.org" {
			http.NotFound(w, r)
			return
		}
		reads++
		w.Header().Set("Content-Type", "application/json")
		if reads < 3 {
			io.WriteString(w, `[]`)
			return
		}
		io.WriteString(w, `[{"id":"2","channel":"email","to":"Sam@example.org","code":"222222","created_at":"2026-12-02T10:00:02Z"},
{"id":"1","channel":"email","to":"sam@example.org","code":"111111","created_at":"2026-12-02T10:00:01Z"}]`)
	}))
	defer srv.Close()
	in := &Inbox{URL: srv.URL, PollEvery: time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	it, err := in.Wait(ctx, "email", "sam@example.org", nil)
	if err != nil || it.Code != "222222" || reads != 3 {
		t.Fatalf("Wait = %+v, %v after %d reads", it, err, reads)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := in.Wait(short, "sms", "sam@example.org", nil); !errors.Is(err, ErrNoMessage) {
		t.Errorf("no text message: %v", err)
	}
}

func TestClock(t *testing.T) {
	var c Clock
	before := c.Now()
	c.Advance(time.Hour)
	if d := c.Now().Sub(before); d < time.Hour || d > time.Hour+time.Minute {
		t.Errorf("advanced by %s", d)
	}
}
