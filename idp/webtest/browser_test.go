package webtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The harness itself: a person fills a field by its label, presses a button by its
// text, and sees the next page, with and without JavaScript.
func TestBrowserFindsFieldsAndButtonsByLabel(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>Form</title></head><body><h1>Form</h1>
<form method="post" action="/next"><label for="e">Email address</label><input id="e" name="email">
<button type="submit">Send verification code</button></form>
<script>document.title = "scripted"</script></body></html>`)
	})
	mux.HandleFunc("POST /next", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!DOCTYPE html><html><head><title>Next</title></head><body><h1>Sent to %s</h1><a href="/">Change e-mail</a></body></html>`, r.FormValue("email"))
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
			b.FillLabel("Email address", "pat@example.com")
			b.Click("Send verification code")
			if h := b.Heading(); h != "Sent to pat@example.com" {
				t.Fatalf("heading = %q", h)
			}
			if !b.Has("Change e-mail") || b.Has("Send verification code") {
				t.Fatalf("links on the page are not what was rendered: %s", b.Text())
			}
			if f := b.Screenshot("sent"); !strings.HasSuffix(f, "01-sent.png") {
				t.Fatalf("screenshot file = %q", f)
			}
		})
	}
}
