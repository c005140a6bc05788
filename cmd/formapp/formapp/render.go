package formapp

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/councilforms/idp/ui"
)

//go:embed templates
var templateFS embed.FS

// view is the model of every page; each page uses the fields it needs.
type view struct {
	Title      string // the h1, also the page title
	Errors     []FieldError
	BackURL    string
	FormAction string // where a question page posts; empty: its own path
	Answers    Answers
	Next       string // the page to return to after signing in
	Message    string
	Action     *action
	Reference  string
	Session    *Session
}

// action is a page's main button when it is a link.
type action struct {
	Label string
	Href  string
}

func (v *view) HasErrors() bool { return len(v.Errors) > 0 }

// ErrorFor returns the message for field, or "".
func (v *view) ErrorFor(field string) string {
	for _, e := range v.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// SignedInAs is the name in the header, or "" when nobody is signed in.
func (v *view) SignedInAs() string {
	if v.Session == nil || v.Session.Person == nil {
		return ""
	}
	return v.Session.Person.DisplayName()
}

// pageNames lists every page template; parsePages fails if one is missing
// or if templates/pages holds a file not listed here.
var pageNames = []string{
	"person", "concern", "referrer", "check", "submitted",
	"sign-in-required", "login-failed", "sign-out", "message",
}

type pages struct {
	byName map[string]*template.Template
}

// parsePages parses the layout, the shared components and every page, and
// executes each page once with an empty model so that a broken template
// stops the app at start.
func parsePages(orgName string) (*pages, error) {
	funcs := template.FuncMap{
		"orgName": func() string { return orgName },
		"dict":    dict,
		"asset":   ui.AssetURL,
		"lines":   func(s string) []string { return strings.Split(s, "\n") },
	}
	base, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/components.html")
	if err != nil {
		return nil, fmt.Errorf("formapp: parse layout: %w", err)
	}
	p := &pages{byName: make(map[string]*template.Template)}
	for _, name := range pageNames {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("formapp: page %s: %w", name, err)
		}
		if _, err := t.ParseFS(templateFS, "templates/pages/"+name+".html"); err != nil {
			return nil, fmt.Errorf("formapp: page %s: %w", name, err)
		}
		if err := t.ExecuteTemplate(io.Discard, "layout", &view{}); err != nil {
			return nil, fmt.Errorf("formapp: page %s: %w", name, err)
		}
		p.byName[name] = t
	}
	files, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("formapp: list pages: %w", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "templates/pages/"), ".html")
		if _, ok := p.byName[name]; !ok {
			return nil, fmt.Errorf("formapp: %s is not in pageNames", f)
		}
	}
	return p, nil
}

// render writes a whole page, or a plain 500 if it cannot be rendered (the
// log says why), never half a page.
func (a *App) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	var buf bytes.Buffer
	t, ok := a.pages.byName[name]
	if !ok {
		a.log.Error("render: unknown page", "page", name)
		http.Error(w, "Sorry, there is a problem with the service.", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		a.log.Error("render page", "page", name, "err", err)
		http.Error(w, "Sorry, there is a problem with the service.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	// Pages carry personal data.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// dict builds a component's parameters: {{template "input" (dict "ID" "x" ...)}}.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, errors.New("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}
