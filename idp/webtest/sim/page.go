package sim

import (
	"bytes"
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

// ParseMain is Parse reading only the document's <main> element when it has
// one, as the load driver does: on the idp's pages (the GOV.UK template) every
// form, the h1 and every error message are inside <main>, and the header's and
// footer's links and the head's title are left unread, which halves the bytes
// tokenized. A page without <main> (a peer's login form) is parsed whole. Body
// is the whole document either way.
func ParseMain(u *url.URL, status int, header http.Header, body string) *Page {
	i := strings.Index(body, "<main")
	j := strings.LastIndex(body, "</main>")
	if i < 0 || j < i {
		return Parse(u, status, header, body)
	}
	p := parse(body[i : j+len("</main>")])
	p.URL, p.Status, p.Header, p.Body = u, status, header, body
	return p
}

// What parse is collecting the text of.
const (
	collectNone = iota
	collectH1
	collectTitle
	collectButton
	collectLink
	collectError
	collectTextarea
)

// Parse reads the forms, links, title, h1 and error messages of an HTML
// document with the x/net/html tokenizer, in one pass and without building a
// tree. Attribute values and text are unescaped; of duplicate attributes the
// first wins, as in a browser; script, style, textarea and title hold raw text.
func Parse(u *url.URL, status int, header http.Header, body string) *Page {
	p := parse(body)
	p.URL, p.Status, p.Header, p.Body = u, status, header, body
	return p
}

func parse(doc string) *Page {
	p := &Page{}
	var (
		cur        *Form
		btn        Button // open <button>
		btnForm    *Form
		anchor     Link
		text       []byte // text of the element being collected
		collecting int
		collectTag string // the element whose end tag ends an error's collection
		textarea   Field
		inErrList  bool
		selectName string
		selectVal  string
		selectSet  bool
		attrs      tagAttrs
	)
	startCollect := func(what int) { collecting, text = what, text[:0] }
	z := html.NewTokenizer(strings.NewReader(doc))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return p
		case html.TextToken:
			if collecting != collectNone {
				if collecting != collectTextarea && len(text) > 0 {
					text = append(text, ' ') // a tag between two texts is a word break
				}
				text = append(text, z.Text()...)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			// The name is read from the token's raw bytes: TagName and TagAttr
			// copy what they return, and most tags of a page matter not at all.
			raw := z.Raw()
			name := tagName(raw)
			switch name {
			case "form":
				attrs.read(z)
				cur = &Form{Action: attrs.str("action"), Method: attrs.lower("method")}
				if cur.Method == "" {
					cur.Method = "get"
				}
				p.Forms = append(p.Forms, cur)
			case "input":
				if cur == nil {
					break
				}
				attrs.read(z)
				if attrs.has("disabled") {
					break
				}
				typ := attrs.lower("type")
				if typ == "" {
					typ = "text"
				}
				switch typ {
				case "submit", "image":
					v := attrs.str("value")
					cur.Buttons = append(cur.Buttons, Button{Name: attrs.str("name"), Value: v, Label: normSpace(v)})
				case "button", "reset", "file":
				default:
					if n := attrs.str("name"); n != "" {
						val, hasVal := attrs.lookup("value")
						if !hasVal && (typ == "checkbox" || typ == "radio") {
							val = "on"
						}
						cur.Fields = append(cur.Fields, Field{Name: n, Type: typ, Value: val, Checked: attrs.has("checked")})
					}
				}
			case "button":
				attrs.read(z)
				if typ := attrs.lower("type"); typ == "" || typ == "submit" {
					btn = Button{Name: attrs.str("name"), Value: attrs.str("value")}
					btnForm = cur
					startCollect(collectButton)
				}
			case "textarea":
				attrs.read(z)
				textarea = Field{Name: attrs.str("name"), Type: "textarea"}
				startCollect(collectTextarea)
			case "select":
				attrs.read(z)
				selectName, selectVal, selectSet = attrs.str("name"), "", false
			case "option":
				if selectName != "" {
					attrs.read(z)
					if sel := attrs.has("selected"); sel || !selectSet {
						selectVal, selectSet = attrs.str("value"), true
					}
				}
			case "a":
				if collecting != collectNone {
					break
				}
				attrs.read(z)
				if href, ok := attrs.lookup("href"); ok {
					anchor = Link{Href: href}
					startCollect(collectLink)
				}
			case "h1":
				startCollect(collectH1)
			case "title":
				startCollect(collectTitle)
			case "ul", "li", "p", "span":
				if name == "li" && inErrList {
					startCollect(collectError)
					collectTag = "li"
					break
				}
				// Only an error list or message matters: look at the class
				// only when the tag mentions one.
				if !bytes.Contains(raw, govukError) {
					break
				}
				attrs.read(z)
				class := attrs.raw("class")
				switch {
				case name == "ul" && bytes.Contains(class, errorSummaryList):
					inErrList = true
				case (name == "p" || name == "span") && bytes.Contains(class, errorMessage):
					startCollect(collectError)
					collectTag = name
				}
			}
		case html.EndTagToken:
			switch name := tagName(z.Raw()); name {
			case "form":
				cur = nil
			case "button":
				if collecting == collectButton {
					btn.Label = normSpace(string(text))
					if btnForm != nil {
						btnForm.Buttons = append(btnForm.Buttons, btn)
					}
					btnForm, collecting = nil, collectNone
				}
			case "textarea":
				if collecting == collectTextarea {
					textarea.Value = strings.TrimPrefix(string(text), "\n")
					if cur != nil && textarea.Name != "" {
						cur.Fields = append(cur.Fields, textarea)
					}
					collecting = collectNone
				}
			case "select":
				if cur != nil && selectName != "" {
					cur.Fields = append(cur.Fields, Field{Name: selectName, Type: "select", Value: selectVal})
				}
				selectName = ""
			case "a":
				if collecting == collectLink {
					anchor.Text = normSpace(string(text))
					p.Links = append(p.Links, anchor)
					collecting = collectNone
				}
			case "h1":
				if collecting == collectH1 {
					p.H1, collecting = normSpace(string(text)), collectNone
				}
			case "title":
				if collecting == collectTitle {
					p.Title, collecting = normSpace(string(text)), collectNone
				}
			case "ul":
				inErrList = false
			case "li", "p", "span":
				if collecting == collectError && collectTag == name {
					if s := strings.TrimPrefix(normSpace(string(text)), "Error: "); s != "" {
						p.Errors = append(p.Errors, s)
					}
					collecting = collectNone
				}
			}
		}
	}
}

var (
	govukError       = []byte("govuk-error-")
	errorSummaryList = []byte("govuk-error-summary__list")
	errorMessage     = []byte("govuk-error-message")
)

// tagName is the lower-case name of the tag token raw ("<FORM action=x>",
// "</form >", as z.Raw returns it) when it is one parse acts on, else "".
func tagName(raw []byte) string {
	i := 1 // after '<'
	if i < len(raw) && raw[i] == '/' {
		i++
	}
	j := i
	for j < len(raw) {
		switch raw[j] {
		case ' ', '\t', '\n', '\r', '\f', '/', '>':
			goto end
		}
		j++
	}
end:
	n := raw[i:j]
	if len(n) > len("textarea") {
		return ""
	}
	var low [len("textarea")]byte
	for k, c := range n {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[k] = c
	}
	// A switch on a converted byte slice does not allocate.
	switch s := low[:len(n)]; string(s) {
	case "form":
		return "form"
	case "input":
		return "input"
	case "button":
		return "button"
	case "textarea":
		return "textarea"
	case "select":
		return "select"
	case "option":
		return "option"
	case "a":
		return "a"
	case "h1":
		return "h1"
	case "title":
		return "title"
	case "ul":
		return "ul"
	case "li":
		return "li"
	case "p":
		return "p"
	case "span":
		return "span"
	}
	return ""
}

// tagAttrs holds the attributes of the tag being read, as TagAttr returns
// them (lower-case keys, unescaped values, copies the tokenizer does not
// reuse). A value becomes a string only when the page keeps it.
type tagAttrs struct {
	list []tagAttr
	room [12]tagAttr // list's first backing array: most tags have fewer attributes
}

type tagAttr struct{ key, val []byte }

func (a *tagAttrs) read(z *html.Tokenizer) {
	if a.list == nil {
		a.list = a.room[:0]
	}
	a.list = a.list[:0]
	for more := true; more; {
		var k, v []byte
		k, v, more = z.TagAttr()
		if k == nil {
			break
		}
		a.list = append(a.list, tagAttr{k, v})
	}
}

// raw is the value of the attribute name (of duplicates the first, as in a
// browser), or nil.
func (a *tagAttrs) raw(name string) []byte {
	for _, at := range a.list {
		if string(at.key) == name {
			return at.val
		}
	}
	return nil
}

func (a *tagAttrs) has(name string) bool {
	for _, at := range a.list {
		if string(at.key) == name {
			return true
		}
	}
	return false
}

func (a *tagAttrs) lookup(name string) (string, bool) {
	for _, at := range a.list {
		if string(at.key) == name {
			return string(at.val), true
		}
	}
	return "", false
}

func (a *tagAttrs) str(name string) string { v, _ := a.lookup(name); return v }

// lower is the value of an enumerated attribute (type, method) in lower case,
// without allocating for the usual values.
func (a *tagAttrs) lower(name string) string {
	v := a.raw(name)
	for i, c := range v {
		if 'A' <= c && c <= 'Z' {
			v[i] = c + 'a' - 'A'
		}
	}
	switch string(v) {
	case "":
		return ""
	case "text":
		return "text"
	case "email":
		return "email"
	case "password":
		return "password"
	case "hidden":
		return "hidden"
	case "submit":
		return "submit"
	case "post":
		return "post"
	case "get":
		return "get"
	case "tel":
		return "tel"
	case "checkbox":
		return "checkbox"
	case "radio":
		return "radio"
	case "button":
		return "button"
	}
	return string(v)
}

func normSpace(s string) string {
	// Most labels and headings are already normal: avoid the allocation.
	if !needsNorm(s) {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

func needsNorm(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return true
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true // perhaps a Unicode space (no-break space, say)
		}
		switch s[i] {
		case '\t', '\n', '\r', '\f', '\v':
			return true
		case ' ':
			if i+1 < len(s) && s[i+1] == ' ' {
				return true
			}
		}
	}
	return false
}
