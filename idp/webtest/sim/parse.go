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
	if i < 0 {
		return Parse(u, status, header, body)
	}
	// The last "</main>", found forwards from i (strings.LastIndex hashes its
	// way back from the end, 4% of a parse).
	end := -1
	for k := i; ; {
		j := strings.Index(body[k:], "</main>")
		if j < 0 {
			break
		}
		k += j + len("</main>")
		end = k
	}
	if end < 0 {
		return Parse(u, status, header, body)
	}
	p := parse(body[i:end])
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
