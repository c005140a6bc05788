package sim

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// A Page is what a person acts on in an HTML response: its forms (fields and
// submit buttons, found by name and visible label), links, the title, the h1
// and the error messages, so that a test or the load driver acts on fields and
// buttons by the names and labels the ui package fixes, not on page layout.
type Page struct {
	URL    *url.URL
	Status int
	Header http.Header
	Body   string // as received

	Title  string
	H1     string
	Errors []string // error summary items and inline error messages
	Forms  []*Form
	Links  []Link
}

// A Form is one <form> and what it would post.
type Form struct {
	Action  string // as written (unescaped); resolve it against the page URL
	Method  string // lower case; "get" when absent
	Fields  []Field
	Buttons []Button
}

// A Field is a successful-control candidate: an input, select or textarea.
type Field struct {
	Name, Type, Value string
	Checked           bool
}

// A Button is a submit button: a <button> or an <input type=submit|image>.
type Button struct {
	Name, Value, Label string
}

// A Link is an <a href>.
type Link struct {
	Href, Text string
}

// Button returns the submit button labelled exactly label (runs of white space
// count as one space), with its form.
func (p *Page) Button(label string) (*Form, *Button, bool) {
	return p.button(label, func(a, b string) bool { return a == b })
}

// ButtonFold is Button with the label compared ignoring case, as the load
// driver reads the guide's wording ('verify code' for 'Verify code').
func (p *Page) ButtonFold(label string) (*Form, *Button, bool) {
	return p.button(label, strings.EqualFold)
}

func (p *Page) button(label string, eq func(a, b string) bool) (*Form, *Button, bool) {
	want := normSpace(label)
	for _, f := range p.Forms {
		for i := range f.Buttons {
			if eq(f.Buttons[i].Label, want) {
				return f, &f.Buttons[i], true
			}
		}
	}
	return nil, nil, false
}

// PickButton returns the first of f's buttons labelled one of labels (ignoring
// case), in the order of labels.
func (f *Form) PickButton(labels ...string) *Button {
	for _, l := range labels {
		for i := range f.Buttons {
			if strings.EqualFold(f.Buttons[i].Label, l) {
				return &f.Buttons[i]
			}
		}
	}
	return nil
}

// HasField reports whether any form on the page has a field named name.
func (p *Page) HasField(name string) bool { return p.FormWithField(name) != nil }

// FormWithField is the first form with a field named name, or nil.
func (p *Page) FormWithField(name string) *Form {
	for _, f := range p.Forms {
		if f.Has(name) {
			return f
		}
	}
	return nil
}

// Has reports whether the form has a field named name.
func (f *Form) Has(name string) bool {
	for _, fl := range f.Fields {
		if fl.Name == name {
			return true
		}
	}
	return false
}

// Link returns the href of the link whose visible text is exactly text.
func (p *Page) Link(text string) (string, bool) {
	return p.link(text, func(a, b string) bool { return a == b })
}

// LinkFold is Link with the text compared ignoring case.
func (p *Page) LinkFold(text string) (string, bool) { return p.link(text, strings.EqualFold) }

func (p *Page) link(text string, eq func(a, b string) bool) (string, bool) {
	want := normSpace(text)
	for _, l := range p.Links {
		if eq(l.Text, want) {
			return l.Href, true
		}
	}
	return "", false
}

// Describe summarises the page for an error message: where it is, its heading
// and what it says is wrong. It holds nothing a person typed.
func (p *Page) Describe() string {
	if p == nil {
		return "(no page)"
	}
	var b strings.Builder
	path := ""
	if p.URL != nil {
		path = p.URL.Path
	}
	fmt.Fprintf(&b, "%d %s", p.Status, path)
	if p.H1 != "" {
		fmt.Fprintf(&b, " %q", p.H1)
	} else if p.Title != "" {
		fmt.Fprintf(&b, " %q", p.Title)
	}
	if len(p.Errors) > 0 {
		fmt.Fprintf(&b, " errors: %s", strings.Join(p.Errors, "; "))
	}
	return b.String()
}

// Text is what a person reads of the page (see Text).
func (p *Page) Text() string { return Text(p.Body) }

// String is the page's address and text, for a test's failure message.
func (p *Page) String() string {
	if p == nil {
		return "(no page)"
	}
	u := ""
	if p.URL != nil {
		u = p.URL.String()
	}
	return fmt.Sprintf("%d %s\n%s", p.Status, u, p.Text())
}

// Values builds what a browser posts for f when button b is pressed: every
// named field with its value (checkboxes and radios only when checked), then
// set overrides fields by name. Setting a field the form does not have is an
// error, so a renamed field fails loudly instead of posting nothing.
func (f *Form) Values(b *Button, set map[string]string) (url.Values, error) {
	v := url.Values{}
	for _, fl := range f.Fields {
		if _, ok := set[fl.Name]; ok {
			continue
		}
		if (fl.Type == "checkbox" || fl.Type == "radio") && !fl.Checked {
			continue
		}
		v.Add(fl.Name, fl.Value)
	}
	for name, val := range set {
		if !f.Has(name) {
			return nil, fmt.Errorf("the form has no field %q", name)
		}
		v.Set(name, val)
	}
	if b != nil && b.Name != "" {
		v.Add(b.Name, b.Value)
	}
	return v, nil
}

// Text is what a person reads of some HTML: its text without scripts and
// styles, entities decoded, each tag a word break, runs of white space one space.
func Text(doc string) string {
	z := html.NewTokenizer(strings.NewReader(doc))
	var b strings.Builder
	skip := false // inside script or style
	for {
		switch z.Next() {
		case html.ErrorToken:
			return normSpace(b.String())
		case html.TextToken:
			if !skip {
				b.Write(z.Text())
			}
		case html.StartTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				skip = true
			}
			b.WriteByte(' ')
		case html.EndTagToken:
			skip = false
			b.WriteByte(' ')
		case html.SelfClosingTagToken:
			b.WriteByte(' ')
		}
	}
}
