package locale

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Translator turns words written in English by code that does not know the
// person's language (the journey's error messages, the phone and password
// rules) into another language, through the English catalogue: a text equal
// to a key's English value is that key; a text matching a value with
// placeholders ("Wait {wait}, then try again") is that key with the matched
// arguments, each translated in turn when it is itself a catalogue text
// ("15 minutes"). Only keys under the given prefixes take part.
type Translator struct {
	c        *Catalogue
	exact    map[string]string // English value -> key
	patterns []pattern
}

// typedPlaceholders are the placeholders that match only what their name
// says, in the English a Translator reads: a number to count by, the day and
// year of a date, the time of day ui.FormatTime writes. Any other name matches
// any text.
var typedPlaceholders = map[string]string{
	"count": `(\d+)`,
	"day":   `(\d{1,2})`,
	"year":  `(\d{4})`,
	"clock": `(\d{1,2}:\d{2}[ap]m|midday|midnight)`,
}

type pattern struct {
	key     string // base key
	re      *regexp.Regexp
	names   []string
	literal int // length of the literal text: longer patterns are tried first
}

// Translator builds the translator of keys under prefixes.
func (c *Catalogue) Translator(prefixes ...string) *Translator {
	t := &Translator{c: c, exact: map[string]string{}}
	for k, v := range c.msgs[English] {
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(k, p) }) {
			continue
		}
		b := base(k)
		locs := placeholderRE.FindAllStringSubmatchIndex(v, -1)
		if len(locs) == 0 {
			t.exact[v] = b
			continue
		}
		var re strings.Builder
		var names []string
		re.WriteString("^")
		last, literal := 0, 0
		for _, l := range locs {
			re.WriteString(regexp.QuoteMeta(v[last:l[0]]))
			literal += l[0] - last
			name := v[l[2]:l[3]]
			if typed, ok := typedPlaceholders[name]; ok {
				re.WriteString(typed)
			} else {
				re.WriteString(`(.+?)`)
			}
			names = append(names, name)
			last = l[1]
		}
		re.WriteString(regexp.QuoteMeta(v[last:]))
		re.WriteString("$")
		literal += len(v) - last
		t.patterns = append(t.patterns, pattern{key: b, re: regexp.MustCompile(re.String()), names: names, literal: literal})
	}
	slices.SortFunc(t.patterns, func(a, b pattern) int {
		if a.literal != b.literal {
			return b.literal - a.literal
		}
		return strings.Compare(a.key, b.key)
	})
	return t
}

// Translate returns english in lang, and whether it is a catalogue text;
// when it is not, english is returned as it is.
func (t *Translator) Translate(lang, english string) (string, bool) {
	if Or(lang) == English {
		_, ok := t.match(english)
		return english, ok
	}
	return t.translate(lang, english, 0)
}

func (t *Translator) match(s string) (string, bool) {
	if k, ok := t.exact[s]; ok {
		return k, true
	}
	for _, p := range t.patterns {
		if p.re.MatchString(s) {
			return p.key, true
		}
	}
	return "", false
}

func (t *Translator) translate(lang, s string, depth int) (string, bool) {
	if k, ok := t.exact[s]; ok {
		return t.c.MustT(lang, k), true
	}
	if depth > 3 {
		return s, false
	}
	for _, p := range t.patterns {
		m := p.re.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		args := make([]any, 0, 2*len(p.names))
		for i, name := range p.names {
			v := m[i+1]
			if name == "count" {
				n, _ := strconv.Atoi(v)
				args = append(args, name, n)
				continue
			}
			if tr, ok := t.translate(lang, v, depth+1); ok {
				v = tr
			}
			args = append(args, name, v)
		}
		out, err := t.c.T(lang, p.key, args...)
		if err != nil {
			continue
		}
		return out, true
	}
	return s, false
}
