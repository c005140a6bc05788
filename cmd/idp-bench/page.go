package main

import (
	"fmt"
	"html"
	"net/url"
	"strings"
)

// A page is what the simulated browser needs of an HTML response: its forms
// (fields and submit buttons, found by name and visible label), links, the h1
// and any error messages, so that the journey can act on fields and buttons
// by the names and labels the ui package fixes, not on page layout.
type page struct {
	url    *url.URL
	status int
	title  string
	h1     string
	errors []string // error summary items and inline error messages
	forms  []*form
	links  []link
}

type form struct {
	action  string // as written; resolved against the page URL on submit
	method  string // lower case; "get" when absent
	fields  []field
	buttons []button
}

// field is a successful-control candidate: an input, select or textarea.
type field struct {
	name, typ, value string
	checked          bool
}

type button struct {
	name, value, label string
}

type link struct {
	href, text string
}

// button returns the submit button whose visible label is label (compared
// ignoring case and runs of white space), with its form.
func (p *page) button(label string) (*form, *button, bool) {
	want := normSpace(label)
	for _, f := range p.forms {
		for i := range f.buttons {
			if strings.EqualFold(f.buttons[i].label, want) {
				return f, &f.buttons[i], true
			}
		}
	}
	return nil, nil, false
}

// hasField reports whether any form on the page has a field named name.
func (p *page) hasField(name string) bool {
	return p.formWithField(name) != nil
}

func (p *page) formWithField(name string) *form {
	for _, f := range p.forms {
		for _, fl := range f.fields {
			if fl.name == name {
				return f
			}
		}
	}
	return nil
}

// link returns the href of the link whose visible text is text.
func (p *page) link(text string) (string, bool) {
	want := normSpace(text)
	for _, l := range p.links {
		if strings.EqualFold(l.text, want) {
			return l.href, true
		}
	}
	return "", false
}

// describe summarises the page for an error message: where it is, its heading
// and what it says is wrong. It holds nothing a person typed.
func (p *page) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", p.status, p.url.Path)
	if p.h1 != "" {
		fmt.Fprintf(&b, " %q", p.h1)
	} else if p.title != "" {
		fmt.Fprintf(&b, " %q", p.title)
	}
	if len(p.errors) > 0 {
		fmt.Fprintf(&b, " errors: %s", strings.Join(p.errors, "; "))
	}
	return b.String()
}

// values builds what a browser would post for f when button b is pressed:
// every named field with its value (checkboxes and radios only when checked),
// then set overrides fields by name. Setting a field the form does not have
// is an error, so a renamed field fails loudly instead of posting nothing.
func (f *form) values(b *button, set map[string]string) (url.Values, error) {
	v := url.Values{}
	have := map[string]bool{}
	for _, fl := range f.fields {
		have[fl.name] = true
		if _, ok := set[fl.name]; ok {
			continue
		}
		if (fl.typ == "checkbox" || fl.typ == "radio") && !fl.checked {
			continue
		}
		v.Add(fl.name, fl.value)
	}
	for name, val := range set {
		if !have[name] {
			return nil, fmt.Errorf("the form has no field %q", name)
		}
		v.Set(name, val)
	}
	if b != nil && b.name != "" {
		v.Add(b.name, b.value)
	}
	return v, nil
}

// parsePage reads the forms, links, title, h1 and error messages of an HTML
// document. It is a small tokenizer, not a full HTML5 parser: enough for
// server-rendered pages (quoted or unquoted attributes, comments, raw text in
// script and style, void elements), which is all the idp serves.
func parsePage(u *url.URL, status int, body string) *page {
	p := &page{url: u, status: status}
	var (
		cur        *form
		btn        *button // open <button>
		btnForm    *form
		anchor     *link
		text       strings.Builder // text of the element being collected
		collecting string          // "h1", "title", "button", "a", "error", "textarea"
		collectTag string          // the element whose end tag ends the collection
		textarea   field
		inErrList  bool
		selectName string
		selectVal  string
		selectSet  bool
	)
	startCollect := func(what, tag string) { collecting, collectTag = what, tag; text.Reset() }
	tokenize(body, func(t *token) {
		switch t.kind {
		case tokText:
			if collecting != "" {
				text.WriteString(html.UnescapeString(t.data))
			}
		case tokStart:
			switch t.name {
			case "form":
				cur = &form{action: t.get("action"), method: strings.ToLower(t.get("method"))}
				if cur.method == "" {
					cur.method = "get"
				}
				p.forms = append(p.forms, cur)
			case "input":
				typ := strings.ToLower(t.get("type"))
				if typ == "" {
					typ = "text"
				}
				_, disabled := t.attr("disabled")
				if cur == nil || disabled {
					return
				}
				switch typ {
				case "submit", "image":
					cur.buttons = append(cur.buttons, button{name: t.get("name"), value: t.get("value"), label: normSpace(t.get("value"))})
				case "button", "reset", "file":
				default:
					if t.get("name") != "" {
						_, checked := t.attr("checked")
						val, hasVal := t.attr("value")
						if !hasVal && (typ == "checkbox" || typ == "radio") {
							val = "on"
						}
						cur.fields = append(cur.fields, field{name: t.get("name"), typ: typ, value: val, checked: checked})
					}
				}
			case "button":
				typ := strings.ToLower(t.get("type"))
				if typ == "" || typ == "submit" {
					btn = &button{name: t.get("name"), value: t.get("value")}
					btnForm = cur
					startCollect("button", "button")
				}
			case "textarea":
				textarea = field{name: t.get("name"), typ: "textarea"}
				startCollect("textarea", "textarea")
			case "select":
				selectName, selectVal, selectSet = t.get("name"), "", false
			case "option":
				if selectName != "" {
					_, sel := t.attr("selected")
					if sel || !selectSet {
						selectVal, selectSet = t.get("value"), true
					}
				}
			case "a":
				if href, ok := t.attr("href"); ok && collecting == "" {
					anchor = &link{href: href}
					startCollect("a", "a")
				}
			case "h1":
				startCollect("h1", "h1")
			case "title":
				startCollect("title", "title")
			case "ul":
				if strings.Contains(t.get("class"), "govuk-error-summary__list") {
					inErrList = true
				}
			case "li":
				if inErrList {
					startCollect("error", "li")
				}
			case "p", "span":
				if strings.Contains(t.get("class"), "govuk-error-message") {
					startCollect("error", t.name)
				}
			}
		case tokEnd:
			switch t.name {
			case "form":
				cur = nil
			case "button":
				if collecting == "button" && btn != nil {
					btn.label = normSpace(text.String())
					if btnForm != nil {
						btnForm.buttons = append(btnForm.buttons, *btn)
					}
					btn, btnForm, collecting = nil, nil, ""
				}
			case "textarea":
				if collecting == "textarea" {
					textarea.value = strings.TrimPrefix(text.String(), "\n")
					if cur != nil && textarea.name != "" {
						cur.fields = append(cur.fields, textarea)
					}
					collecting = ""
				}
			case "select":
				if cur != nil && selectName != "" {
					cur.fields = append(cur.fields, field{name: selectName, typ: "select", value: selectVal})
				}
				selectName = ""
			case "a":
				if collecting == "a" && anchor != nil {
					anchor.text = normSpace(text.String())
					p.links = append(p.links, *anchor)
					anchor, collecting = nil, ""
				}
			case "h1":
				if collecting == "h1" {
					p.h1, collecting = normSpace(text.String()), ""
				}
			case "title":
				if collecting == "title" {
					p.title, collecting = normSpace(text.String()), ""
				}
			case "ul":
				inErrList = false
			case "li", "p", "span":
				if collecting == "error" && collectTag == t.name {
					if s := strings.TrimPrefix(normSpace(text.String()), "Error: "); s != "" {
						p.errors = append(p.errors, s)
					}
					collecting = ""
				}
			}
		}
	})
	return p
}

func normSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

type tokKind int

const (
	tokText tokKind = iota
	tokStart
	tokEnd
)

// token is one piece of an HTML document. tokenize hands out the same token
// for every piece: its attrs are valid only until the callback returns (the
// strings in them stay valid).
type token struct {
	kind  tokKind
	name  string // lower-case tag name
	attrs []attr // in document order; unescaped values, "" for a bare attribute
	data  string // text as written (still escaped): unescape it with html.UnescapeString
}

type attr struct{ name, val string }

// attr returns the value of the tag's attribute name; of duplicate
// attributes, the first wins, as in a browser.
func (t *token) attr(name string) (string, bool) {
	for _, a := range t.attrs {
		if a.name == name {
			return a.val, true
		}
	}
	return "", false
}

func (t *token) get(name string) string { v, _ := t.attr(name); return v }

// rawText elements hold text up to their end tag, markup included.
func rawText(name string) bool {
	switch name {
	case "script", "style", "textarea", "title":
		return true
	}
	return false
}

// tokenize splits an HTML document into text, start-tag and end-tag tokens,
// handing each to fn in order. Comments, doctypes and processing
// instructions are dropped.
func tokenize(s string, fn func(t *token)) {
	var t token
	text := func(data string) {
		t.kind, t.name, t.attrs, t.data = tokText, "", t.attrs[:0], data
		fn(&t)
	}
	for len(s) > 0 {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			text(s)
			return
		}
		if lt > 0 {
			text(s[:lt])
			s = s[lt:]
		}
		switch {
		case strings.HasPrefix(s, "<!--"):
			end := strings.Index(s[4:], "-->")
			if end < 0 {
				return
			}
			s = s[4+end+3:]
			continue
		case strings.HasPrefix(s, "<!"), strings.HasPrefix(s, "<?"):
			end := strings.IndexByte(s, '>')
			if end < 0 {
				return
			}
			s = s[end+1:]
			continue
		case strings.HasPrefix(s, "</"):
			end := strings.IndexByte(s, '>')
			if end < 0 {
				return
			}
			name := strings.TrimSpace(s[2:end])
			if i := strings.IndexAny(name, " \t\n\r\f"); i >= 0 {
				name = name[:i]
			}
			t.kind, t.name, t.attrs, t.data = tokEnd, strings.ToLower(name), t.attrs[:0], ""
			fn(&t)
			s = s[end+1:]
			continue
		}
		if len(s) < 2 || !isLetter(s[1]) {
			// A lone '<' is text.
			text("<")
			s = s[1:]
			continue
		}
		s = startTag(s, &t)
		fn(&t)
		if rawText(t.name) {
			end := indexEndTag(s, t.name)
			if end < 0 {
				end = len(s)
			}
			text(s[:end])
			s = s[end:]
		}
	}
}

// startTag parses "<name attr=value ...>" at the start of s into t and
// returns the rest of s.
func startTag(s string, t *token) string {
	i := 1
	for i < len(s) && !isSpace(s[i]) && s[i] != '>' && s[i] != '/' {
		i++
	}
	t.kind, t.name, t.attrs, t.data = tokStart, strings.ToLower(s[1:i]), t.attrs[:0], ""
	for i < len(s) {
		for i < len(s) && (isSpace(s[i]) || s[i] == '/') {
			i++
		}
		if i >= len(s) {
			break
		}
		if s[i] == '>' {
			return s[i+1:]
		}
		start := i
		for i < len(s) && !isSpace(s[i]) && s[i] != '=' && s[i] != '>' && s[i] != '/' {
			i++
		}
		name := strings.ToLower(s[start:i])
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) || s[i] != '=' {
			t.attrs = append(t.attrs, attr{name: name})
			continue
		}
		i++ // '='
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		var val string
		if i < len(s) && (s[i] == '"' || s[i] == '\'') {
			q := s[i]
			end := strings.IndexByte(s[i+1:], q)
			if end < 0 {
				val, i = s[i+1:], len(s)
			} else {
				val, i = s[i+1:i+1+end], i+1+end+1
			}
		} else {
			start := i
			for i < len(s) && !isSpace(s[i]) && s[i] != '>' {
				i++
			}
			val = s[start:i]
		}
		t.attrs = append(t.attrs, attr{name: name, val: html.UnescapeString(val)})
	}
	return ""
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isSpace(c byte) bool  { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// indexEndTag is the index in s of the first end tag "</name" (name compared
// ignoring ASCII case, and followed by a space, '/', '>' or the end of s, so
// that "</stylex" does not end a style), or -1.
func indexEndTag(s, name string) int {
	for i := 0; ; {
		j := strings.Index(s[i:], "</")
		if j < 0 {
			return -1
		}
		i += j
		if rest := s[i+2:]; len(rest) >= len(name) && strings.EqualFold(rest[:len(name)], name) &&
			(len(rest) == len(name) || isSpace(rest[len(name)]) || rest[len(name)] == '/' || rest[len(name)] == '>') {
			return i
		}
		i += 2
	}
}
