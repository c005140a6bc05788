package dev

import (
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/councilforms/idp/factors"
)

// RenderFunc writes the inbox page for items (newest first). The server supplies one
// that uses the site's page templates; without one a plain page is served.
type RenderFunc func(w http.ResponseWriter, r *http.Request, items []Item)

// Register adds the inbox and call simulator routes to mux:
//
//	GET  /dev/inbox
//	GET  /dev/inbox.json[?to=ADDRESS[&to=ADDRESS...]]
//	POST /dev/calls/{id}/keypress
//	POST /dev/calls/{id}/hangup
//
// Registering the method-and-path patterns themselves, rather than a "/dev/" subtree,
// keeps them from conflicting with a catch-all such as "GET /" on the same mux.
// render draws the inbox page; nil serves a plain page.
//
// The inbox shows every code it holds, so every route answers only requests whose
// peer is this machine (a loopback address) or in one of the ranges of peers (for
// example the Docker network a published port forwards from). The peer is the
// connection's address (RemoteAddr), never a forwarded header a client can write;
// anyone else gets 403.
func (in *Inbox) Register(mux *http.ServeMux, render RenderFunc, peers ...netip.Prefix) {
	if render == nil {
		render = renderPlain
	}
	handle := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, onlyFrom(peers, h)) }
	handle("GET /dev/inbox", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		in.servePage(w, r, render)
	})
	handle("GET /dev/inbox.json", in.serveJSON)
	handle("POST /dev/calls/{id}/keypress", func(w http.ResponseWriter, r *http.Request) {
		result := factors.CallTimedOut // a wrong key, or none, does not confirm
		if strings.TrimSpace(r.FormValue("digits")) == "#" {
			result = factors.CallConfirmed
		}
		in.answer(w, r, result)
	})
	handle("POST /dev/calls/{id}/hangup", func(w http.ResponseWriter, r *http.Request) {
		in.answer(w, r, factors.CallUnanswered)
	})
}

// Handler returns a handler serving only the routes of Register, under their full
// paths, to the same peers. render may be nil.
func (in *Inbox) Handler(render RenderFunc, peers ...netip.Prefix) http.Handler {
	mux := http.NewServeMux()
	in.Register(mux, render, peers...)
	return mux
}

// onlyFrom serves h to loopback peers and peers in ranges, and 403 to the rest.
func onlyFrom(ranges []netip.Prefix, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !PeerAllowed(r.RemoteAddr, ranges) {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "Forbidden: the development inbox answers only requests from this machine.", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// PeerAllowed reports whether remoteAddr (an http.Request's RemoteAddr, host:port) is
// a loopback address or in one of ranges.
func PeerAllowed(remoteAddr string, ranges []netip.Prefix) bool {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	a := ap.Addr().Unmap().WithZone("")
	if a.IsLoopback() {
		return true
	}
	for _, p := range ranges {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// jsonItem is the stable JSON shape of an inbox item.
type jsonItem struct {
	ID        string `json:"id"`
	Channel   string `json:"channel"`
	To        string `json:"to"`
	Subject   string `json:"subject"`
	Body      string `json:"body"`
	Code      string `json:"code"`
	CreatedAt string `json:"created_at"` // RFC 3339, UTC
}

// serveJSON writes the inbox, newest first. With one or more to parameters
// only the items to those recipients are written (email addresses compared
// without regard to case, numbers in E.164 as the items show them), so a
// script waiting for one person's code does not fetch everyone's messages.
func (in *Inbox) serveJSON(w http.ResponseWriter, r *http.Request) {
	to := r.URL.Query()["to"]
	for i, a := range to {
		to[i] = strings.TrimSpace(a)
	}
	var match func(string) bool
	if len(to) > 0 {
		match = func(rcpt string) bool {
			return slices.ContainsFunc(to, func(a string) bool { return strings.EqualFold(a, rcpt) })
		}
	}
	items, err := in.items(r.Context(), match)
	if err != nil {
		in.unreadable(w, r, err)
		return
	}
	out := make([]jsonItem, 0, len(items))
	for _, it := range items {
		out = append(out, jsonItem{
			ID: it.ID, Channel: string(it.Channel), To: it.To, Subject: it.Subject,
			Body: it.Body, Code: it.Code, CreatedAt: it.CreatedAt.UTC().Format(time.RFC3339Nano),
		})
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// servePage draws the inbox page with render.
func (in *Inbox) servePage(w http.ResponseWriter, r *http.Request, render RenderFunc) {
	items, err := in.Items(r.Context())
	if err != nil {
		in.unreadable(w, r, err)
		return
	}
	render(w, r, items)
}

// unreadable answers 503 when the messages cannot be read (the store is down).
func (in *Inbox) unreadable(w http.ResponseWriter, r *http.Request, err error) {
	in.log.ErrorContext(r.Context(), "dev inbox: read messages", slog.Any("error", err))
	fail(w, r, http.StatusServiceUnavailable, "The captured messages cannot be read just now.")
}

// answer ends the pending simulated call named in the path with result and reports
// it to the CallOutcomes (endCall). A call can be ended once.
func (in *Inbox) answer(w http.ResponseWriter, r *http.Request, result factors.CallResult) {
	id := r.PathValue("id")
	err := in.endCall(r.Context(), id, result)
	switch {
	case errors.Is(err, errNoCall):
		fail(w, r, http.StatusNotFound, "No simulated call with that id.")
		return
	case errors.Is(err, errCallEnded):
		fail(w, r, http.StatusConflict, "This call has already been answered or hung up.")
		return
	case errors.Is(err, errNoOutcomes):
		fail(w, r, http.StatusServiceUnavailable, "Nothing is receiving call outcomes yet.")
		return
	case errors.Is(err, factors.ErrUnknownCall):
		// The journey no longer waits for this call (expired or superseded); the call
		// stays ended.
		fail(w, r, http.StatusConflict, "The sign-in page is no longer waiting for this call.")
		return
	case err != nil:
		in.log.ErrorContext(r.Context(), "dev inbox: record call outcome", slog.String("result", string(result)), slog.String("error", redactID(err, id)))
		fail(w, r, http.StatusInternalServerError, "The call outcome could not be recorded.")
		return
	}
	in.log.InfoContext(r.Context(), "dev inbox: simulated call ended", slog.String("result", string(result)))
	if wantsHTML(r) {
		http.Redirect(w, r, "/dev/inbox", http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id, "result": string(result)})
}

// redactID is err's message without the call id (unguessable, so kept out of logs);
// the store's errors name the keys they failed on.
func redactID(err error, id string) string {
	if id == "" {
		return err.Error()
	}
	return strings.ReplaceAll(err.Error(), id, "<call id>")
}

// wantsHTML reports whether the request came from the inbox page's form rather than
// a test or script.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

func fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if wantsHTML(r) {
		http.Error(w, msg, status)
		return
	}
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client has gone if this fails
}

var plainPage = template.Must(template.New("inbox").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Development inbox</title></head>
<body>
<h1>Development inbox</h1>
<p>Nothing is sent in development mode: emails, text messages and calls appear here, newest first.
The same list is at <a href="/dev/inbox.json">/dev/inbox.json</a>.</p>
{{if not .}}<p>No messages yet.</p>{{end}}
{{range .}}
<section>
<h2>{{.Channel}} to {{.To}}</h2>
<p><time datetime="{{.CreatedAt.Format "2006-01-02T15:04:05Z07:00"}}">{{.CreatedAt.Format "15:04:05"}}</time>
{{if .Code}} &middot; code <strong>{{.Code}}</strong>{{end}}</p>
{{if .Subject}}<p>Subject: {{.Subject}}</p>{{end}}
<pre>{{.Body}}</pre>
{{if .CallPending}}
<form method="post" action="/dev/calls/{{.ID}}/keypress"><input type="hidden" name="digits" value="#"><button type="submit">Press #</button></form>
<form method="post" action="/dev/calls/{{.ID}}/keypress"><input type="hidden" name="digits" value="1"><button type="submit">Press 1 (wrong key)</button></form>
<form method="post" action="/dev/calls/{{.ID}}/hangup"><button type="submit">Do not answer</button></form>
{{else if eq (print .Channel) "voice"}}<p>Call ended.</p>{{end}}
</section>
{{end}}
</body>
</html>
`))

func renderPlain(w http.ResponseWriter, r *http.Request, items []Item) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = plainPage.Execute(w, items) // the client has gone if this fails
}
