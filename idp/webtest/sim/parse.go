package sim

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

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

// Parse reads the forms, links, title, h1 and error messages of an HTML
// document with the x/net/html tokenizer, in one pass and without building a
// tree. Attribute values and text are unescaped; of duplicate attributes the
// first wins, as in a browser; script, style, textarea and title hold raw text.
func Parse(u *url.URL, status int, header http.Header, body string) *Page {
	p := parse(body)
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

// parse reads doc with the Tokenizer's non-copying calls (Next, Raw, Text)
// wherever it can: TagName and TagAttr copy what they return (x/net v0.62.0),
// so tag names are read from Raw, and a tag's attributes are read, and only
// as far as needed, when the tag is one the page keeps. A string is made only
// of what the page keeps, and the names and types the pages use are constants.
func parse(doc string) *Page {
	t := tokenizers.Get().(*tokenizer)
	defer putTokenizer(t)
	return t.parse(doc)
}

func (t *tokenizer) parse(doc string) *Page {
	t.in = pageStream{doc: doc}
	z := t.z
	p := &Page{}
	var (
		cur        *Form
		btn        Button // open <button>
		btnForm    *Form
		anchor     Link
		collecting int
		collectTag string // the element whose end tag ends an error's collection
		textarea   Field
		inErrList  bool
		selectName string
		selectVal  string
		selectSet  bool
	)
	startCollect := func(what int) { collecting, t.text = what, t.text[:0] }
	for {
		switch t.next() {
		case html.ErrorToken:
			return p
		case html.TextToken:
			if collecting != collectNone {
				if collecting != collectTextarea && len(t.text) > 0 {
					t.text = append(t.text, ' ') // a tag between two texts is a word break
				}
				t.text = append(t.text, z.Text()...)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			raw := z.Raw()
			name := tagName(raw)
			switch name {
			case "form":
				var a formAttrs
				a.read(z, raw)
				cur = &Form{Action: string(a.action), Method: lowerWord(a.method)}
				if cur.Method == "" {
					cur.Method = "get"
				}
				p.Forms = append(p.Forms, cur)
			case "input":
				if cur == nil {
					break
				}
				var a inputAttrs
				a.read(z, raw)
				if a.disabled {
					break
				}
				typ := lowerWord(a.typ)
				if typ == "" {
					typ = "text"
				}
				switch typ {
				case "submit", "image":
					v := string(a.value)
					cur.Buttons = append(cur.Buttons, Button{Name: fieldName(a.name), Value: v, Label: normSpace(v)})
				case "button", "reset", "file":
				default:
					if len(a.name) == 0 {
						break
					}
					val := string(a.value)
					if !a.hasValue && (typ == "checkbox" || typ == "radio") {
						val = "on"
					}
					cur.Fields = append(cur.Fields, Field{Name: fieldName(a.name), Type: typ, Value: val, Checked: a.checked})
				}
			case "button":
				var a buttonAttrs
				if a.read(z, raw) {
					btn = Button{Name: fieldName(a.name), Value: buttonValue(a.value)}
					btnForm = cur
					startCollect(collectButton)
				}
			case "textarea":
				textarea = Field{Name: fieldName(attr(z, raw, "name")), Type: "textarea"}
				startCollect(collectTextarea)
			case "select":
				selectName, selectVal, selectSet = fieldName(attr(z, raw, "name")), "", false
			case "option":
				if selectName != "" {
					var a optionAttrs
					a.read(z, raw)
					if a.selected || !selectSet {
						selectVal, selectSet = string(a.value), true
					}
				}
			case "a":
				if collecting != collectNone {
					break
				}
				if href, ok := readAttr(z, raw, "href"); ok {
					anchor = Link{Href: string(href)}
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
				class, _ := readAttr(z, raw, "class")
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
					btn.Label = t.normText()
					if btnForm != nil {
						btnForm.Buttons = append(btnForm.Buttons, btn)
					}
					btnForm, collecting = nil, collectNone
				}
			case "textarea":
				if collecting == collectTextarea {
					textarea.Value = string(bytes.TrimPrefix(t.text, newline))
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
					anchor.Text = t.normText()
					p.Links = append(p.Links, anchor)
					collecting = collectNone
				}
			case "h1":
				if collecting == collectH1 {
					p.H1, collecting = t.normText(), collectNone
				}
			case "title":
				if collecting == collectTitle {
					p.Title, collecting = t.normText(), collectNone
				}
			case "ul":
				inErrList = false
			case "li", "p", "span":
				if collecting == collectError && collectTag == name {
					t.norm = appendNormSpace(t.norm[:0], t.text)
					if s := bytes.TrimPrefix(t.norm, errorPrefix); len(s) > 0 {
						p.Errors = append(p.Errors, string(s))
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
	errorPrefix      = []byte("Error: ") // the hidden prefix of an inline error message
	newline          = []byte("\n")
)

// normText is the collected text with runs of white space made one space.
func (t *tokenizer) normText() string {
	t.norm = appendNormSpace(t.norm[:0], t.text)
	return string(t.norm)
}

// tagName is the lower-case name of the tag token raw ("<FORM action=x>",
// "</form >", as z.Raw returns it) when it is one parse acts on, else "". The
// name ends where the Tokenizer's does: at white space, '/' or '>'.
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

// The attributes of each kind of tag that the page keeps. TagAttr returns
// every attribute once (the first of duplicates), its key in lower case and
// its value unescaped, each a copy, so a read stops asking once it has every
// attribute that matters and that the tag can have: a tag has no attribute
// whose name its raw bytes do not hold (see mentions).

type formAttrs struct{ action, method []byte }

func (a *formAttrs) read(z *html.Tokenizer, raw []byte) {
	for left, more := mentions(raw, "action", "method"), true; left > 0 && more; {
		var k, v []byte
		if k, v, more = z.TagAttr(); k == nil {
			return
		}
		switch string(k) {
		case "action":
			a.action, left = v, left-1
		case "method":
			a.method, left = v, left-1
		}
	}
}

type inputAttrs struct {
	name, typ, value            []byte
	hasValue, disabled, checked bool
}

func (a *inputAttrs) read(z *html.Tokenizer, raw []byte) {
	for left, more := mentions(raw, "name", "type", "value", "disabled", "checked"), true; left > 0 && more; {
		var k, v []byte
		if k, v, more = z.TagAttr(); k == nil {
			return
		}
		switch string(k) {
		case "name":
			a.name, left = v, left-1
		case "type":
			a.typ, left = v, left-1
		case "value":
			a.value, a.hasValue, left = v, true, left-1
		case "disabled":
			a.disabled = true
			return // the input is not a field at all
		case "checked":
			a.checked, left = true, left-1
		}
	}
}

type buttonAttrs struct{ name, value []byte }

// read reports whether the button submits its form: its type is submit or
// absent. It stops at a type that is not.
func (a *buttonAttrs) read(z *html.Tokenizer, raw []byte) bool {
	for left, more := mentions(raw, "type", "name", "value"), true; left > 0 && more; {
		var k, v []byte
		if k, v, more = z.TagAttr(); k == nil {
			break
		}
		switch string(k) {
		case "type":
			if typ := lowerWord(v); typ != "" && typ != "submit" {
				return false
			}
			left--
		case "name":
			a.name, left = v, left-1
		case "value":
			a.value, left = v, left-1
		}
	}
	return true
}

type optionAttrs struct {
	value    []byte
	selected bool
}

func (a *optionAttrs) read(z *html.Tokenizer, raw []byte) {
	for left, more := mentions(raw, "value", "selected"), true; left > 0 && more; {
		var k, v []byte
		if k, v, more = z.TagAttr(); k == nil {
			return
		}
		switch string(k) {
		case "value":
			a.value, left = v, left-1
		case "selected":
			a.selected, left = true, left-1
		}
	}
}

// attr is the value of the tag's attribute key, or nil.
func attr(z *html.Tokenizer, raw []byte, key string) []byte {
	v, _ := readAttr(z, raw, key)
	return v
}

// readAttr is the value of the tag's attribute key, and whether it has one.
func readAttr(z *html.Tokenizer, raw []byte, key string) ([]byte, bool) {
	for more := mentions(raw, key) > 0; more; {
		var k, v []byte
		if k, v, more = z.TagAttr(); k == nil {
			break
		}
		if string(k) == key {
			return v, true
		}
	}
	return nil, false
}

// mentions counts the keys (lower-case attribute names) that occur in raw, a
// tag's bytes, in any case: an attribute's name is in its tag as written (no
// entity is decoded in a name), so a tag mentions every attribute it has and
// perhaps more (a word inside a value). It only lets a read stop early.
func mentions(raw []byte, keys ...string) int {
	n := 0
	for _, k := range keys {
		for i := 0; i+len(k) <= len(raw); i++ {
			if raw[i]|0x20 == k[0] && equalFoldLower(raw[i:i+len(k)], k) {
				n++
				break
			}
		}
	}
	return n
}

// equalFoldLower reports whether b is key (lower-case ASCII letters and '-')
// in any case. It may say yes to a few other bytes ('\r' for '-'): mentions
// can count too many, never too few.
func equalFoldLower(b []byte, key string) bool {
	for i := range len(key) {
		if b[i]|0x20 != key[i] {
			return false
		}
	}
	return true
}

// lowerWord is the value of an enumerated attribute (type, method) in lower
// case, a constant for the values the pages use.
func lowerWord(v []byte) string {
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

// fieldName is a field's or button's name, a constant for the names of the
// idp's pages (ui.Field*).
func fieldName(v []byte) string {
	switch string(v) {
	case "":
		return ""
	case "email":
		return "email"
	case "password":
		return "password"
	case "confirm-password":
		return "confirm-password"
	case "code":
		return "code"
	case "method":
		return "method"
	case "choice":
		return "choice"
	case "phone":
		return "phone"
	case "given-name":
		return "given-name"
	case "surname":
		return "surname"
	case "request":
		return "request"
	case "digits":
		return "digits"
	}
	return string(v)
}

// buttonValue is a button's value, a constant for the idp's (ui.Method*).
func buttonValue(v []byte) string {
	switch string(v) {
	case "":
		return ""
	case "sms":
		return "sms"
	case "call":
		return "call"
	}
	return string(v)
}

// normSpace is s with leading and trailing white space removed and every run
// of white space inside one space, as strings.Fields and strings.Join make it.
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

// appendNormSpace appends b to dst as normSpace would make it: the words
// strings.Fields finds (split at unicode.IsSpace), one space between them.
func appendNormSpace(dst, b []byte) []byte {
	word := false // dst ends in a word of b
	for i := 0; i < len(b); {
		r, n := rune(b[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRune(b[i:])
		}
		if unicode.IsSpace(r) {
			word = false
		} else {
			if !word && len(dst) > 0 {
				dst = append(dst, ' ')
			}
			dst = append(dst, b[i:i+n]...)
			word = true
		}
		i += n
	}
	return dst
}
