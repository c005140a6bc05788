package webtest

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The harness itself: a person fills a field by its label, presses a button by its
// text, and sees the next page, with and without JavaScript.
func TestBrowserFindsFieldsAndButtonsByLabel(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>Form</title></head><body><h1>Form</h1>
<form method="post" action="/next"><label for="e">Email address</label><input id="e" name="email">
<label for="c">
  What is your concern?
</label><textarea id="c" name="concern"></textarea>
<button type="submit">Send verification code</button></form>
<a href="/next-by-link">Send verification code</a>
<script>document.title = "scripted"</script></body></html>`)
	})
	mux.HandleFunc("POST /next", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!DOCTYPE html><html><head><title>Next</title></head><body><h1>Sent to %s</h1><p>Concern: %s</p><a href="/">Change e-mail</a></body></html>`,
			r.FormValue("email"), r.FormValue("concern"))
	})
	mux.HandleFunc("GET /next-by-link", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>Link</title></head><body><h1>Followed the link</h1></body></html>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, js := range []bool{true, false} {
		t.Run(fmt.Sprintf("javascript=%v", js), func(t *testing.T) {
			b := NewBrowser(t, js)
			b.Navigate(srv.URL)
			if want := map[bool]string{true: "scripted", false: "Form"}[js]; b.Title() != want {
				t.Fatalf("title = %q, want %q (scripts on: %v)", b.Title(), want, js)
			}
			b.FillLabel("Email address", "someone@example.com")
			b.FillLabel("Email address", "pat@example.com") // replaces, not appends
			b.FillLabel("What is your concern?", "falls")   // an empty textarea
			b.FillLabel("What is your concern?", "several falls")
			if v := b.Value("What is your concern?"); v != "several falls" {
				t.Fatalf("textarea holds %q", v)
			}
			b.ClickButton("Send verification code")
			if h := b.Heading(); h != "Sent to pat@example.com" {
				t.Fatalf("heading = %q", h)
			}
			if !strings.Contains(b.Text(), "Concern: several falls") {
				t.Fatalf("the textarea was not posted as typed: %s", b.Text())
			}
			if !b.Has("Change e-mail") || b.Has("Send verification code") || b.HasButton("Change e-mail") {
				t.Fatalf("links on the page are not what was rendered: %s", b.Text())
			}
			f := b.Screenshot("sent")
			if !strings.HasSuffix(f, "01-sent.png") {
				t.Fatalf("screenshot file = %q", f)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s is not a PNG image: %v", f, err)
			}
			if w := img.Bounds().Dx(); w < 500 {
				t.Fatalf("screenshot is %d pixels wide", w)
			}

			b.FollowLink("Change e-mail")
			b.FollowLink("Send verification code") // the link, not the button
			if h := b.Heading(); h != "Followed the link" {
				t.Fatalf("heading = %q", h)
			}
		})
	}
}

// A page that moves on by itself (a meta refresh) while the person works in a
// second tab of the same browser, which shares its cookies.
func TestBrowserWaitsForAPageToMoveOnInAnotherTab(t *testing.T) {
	var answered atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET /wait", func(w http.ResponseWriter, r *http.Request) {
		if answered.Load() {
			fmt.Fprint(w, `<!DOCTYPE html><html><head><title>Done</title></head><body><h1>Answered</h1></body></html>`)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "waiting", Value: "yes", Path: "/"})
		fmt.Fprint(w, `<!DOCTYPE html><html><head><meta http-equiv="refresh" content="1"><title>Wait</title></head><body><h1>Waiting</h1></body></html>`)
	})
	mux.HandleFunc("GET /answer", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("waiting"); err != nil || c.Value != "yes" {
			http.Error(w, "no cookie from the other tab", http.StatusBadRequest)
			return
		}
		answered.Store(true)
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>Answer</title></head><body><h1>Pressed</h1></body></html>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	b := NewBrowser(t, false)
	b.Navigate(srv.URL + "/wait")
	if h := b.Heading(); h != "Waiting" {
		t.Fatalf("heading = %q", h)
	}
	if c := b.Cookies(); len(c) != 1 || c[0].Name != "waiting" {
		t.Fatalf("cookies = %v", c)
	}
	other := b.NewTab()
	other.Navigate(srv.URL + "/answer")
	if h := other.Heading(); h != "Pressed" {
		t.Fatalf("second tab: heading = %q; %s", h, other.Text())
	}
	b.WaitHeading("Answered", 30*time.Second)
	if !b.WaitUntil(`document.title === 'Done'`, 5*time.Second) || b.WaitUntil(`document.title === 'Wait'`, 0) {
		t.Fatalf("WaitUntil does not see the page's title %q", b.Title())
	}
	if f1, f2 := other.Screenshot("other"), b.Screenshot("first"); !strings.HasSuffix(f1, "01-other.png") || !strings.HasSuffix(f2, "02-first.png") {
		t.Fatalf("tabs do not share the screenshot sequence: %q %q", f1, f2)
	}
	// A second browser in the same test (another day) goes on numbering.
	if f := NewBrowser(t, true).Screenshot("another-day"); !strings.HasSuffix(f, "03-another-day.png") {
		t.Fatalf("a second browser's screenshot is %q", f)
	}
}
