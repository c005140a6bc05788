package sim

import (
	"bytes"

	"golang.org/x/net/html"
)

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
		if mentionsKey(raw, k) {
			n++
		}
	}
	return n
}

func mentionsKey(raw []byte, key string) bool {
	for _, c := range [2]byte{key[0], key[0] &^ 0x20} { // key[0] is a letter
		for b := raw; ; {
			i := bytes.IndexByte(b, c)
			if i < 0 || len(b)-i < len(key) {
				break
			}
			if equalFoldLower(b[i:i+len(key)], key) {
				return true
			}
			b = b[i+1:]
		}
	}
	return false
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
