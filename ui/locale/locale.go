// Package locale is the message catalogue mechanism shared by the pages (ui)
// and the messages people are sent (factors/messages): catalogue files of
// `key = value` lines, one file per language, checked to hold one key set,
// a lookup with named arguments and plural forms, and the choice of a
// language from what a request asks for.
//
// A catalogue file is UTF-8 text. Each line is blank, a comment starting with
// '#', or `key = value`. Keys are lower-case words joined by '.', '-' or '_'.
// A value runs to the end of the line, trimmed; {name} in it is replaced by
// the argument called name. A value that depends on a count has one key per
// plural form, key.one, key.two, key.few, key.many, key.zero and key.other
// (the CLDR categories of the language), and is looked up with a "count"
// argument; key.other must exist.
//
// It is pure: the standard library and golang.org/x/text/language only.
package locale

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/language"
)

// The languages the service speaks. English is the default and the
// fallback of every choice.
const (
	English = "en"
	Welsh   = "cy"
)

// Supported lists the languages in the order the language toggle shows them.
var Supported = []string{English, Welsh}

// Names are each language's own name for itself, for the toggle.
var Names = map[string]string{English: "English", Welsh: "Cymraeg"}

// IsSupported reports whether lang is one of Supported.
func IsSupported(lang string) bool { return slices.Contains(Supported, lang) }

// Or returns lang when it is supported, else English: the language of a
// model or a record that predates the choice.
func Or(lang string) string {
	if IsSupported(lang) {
		return lang
	}
	return English
}

var matcher = language.NewMatcher([]language.Tag{language.English, language.MustParse("cy")})

// match returns the supported language closest to tags, and whether the
// match is better than a guess.
func match(tags []language.Tag) (string, bool) {
	if len(tags) == 0 {
		return English, false
	}
	_, i, conf := matcher.Match(tags...)
	if conf < language.High {
		return English, false
	}
	return Supported[i], true
}

// FromUILocales picks a language from an authorization request's ui_locales:
// space-separated BCP 47 tags in order of preference (OpenID Connect Core
// 3.1.2.1). ok is false when none is spoken here, and the caller then asks
// the next source.
func FromUILocales(uiLocales string) (lang string, ok bool) {
	for _, f := range strings.Fields(uiLocales) {
		tag, err := language.Parse(f)
		if err != nil {
			continue
		}
		if l, ok := match([]language.Tag{tag}); ok {
			return l, true
		}
	}
	return English, false
}

// FromAcceptLanguage picks a language from an Accept-Language header; ok is
// false when the header names none spoken here.
func FromAcceptLanguage(header string) (lang string, ok bool) {
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil {
		return English, false
	}
	// ParseAcceptLanguage sorts by q; a tag with q=0 is dropped by it.
	for _, tag := range tags {
		if l, ok := match([]language.Tag{tag}); ok {
			return l, true
		}
	}
	return English, false
}

// Catalogue holds one set of keys in every supported language.
type Catalogue struct {
	msgs map[string]map[string]string // language -> key -> value
	keys []string                     // the base keys (plural forms folded), sorted
}

var (
	keyRE         = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	placeholderRE = regexp.MustCompile(`\{([a-zA-Z][a-zA-Z0-9_]*)\}`)
	pluralForms   = []string{"zero", "one", "two", "few", "many", "other"}
)

// Load reads dir/<lang>.txt for every supported language from fsys and
// checks that they hold the same keys with the same placeholders. The error
// names every key missing from a language, so a catalogue cannot go out
// incomplete.
func Load(fsys fs.FS, dir string) (*Catalogue, error) {
	files := map[string][]byte{}
	for _, lang := range Supported {
		b, err := fs.ReadFile(fsys, dir+"/"+lang+".txt")
		if err != nil {
			return nil, fmt.Errorf("locale: %w", err)
		}
		files[lang] = b
	}
	return Parse(files)
}

// Parse builds a catalogue from each supported language's file contents.
func Parse(files map[string][]byte) (*Catalogue, error) {
	c := &Catalogue{msgs: map[string]map[string]string{}}
	var errs []error
	for _, lang := range Supported {
		src, ok := files[lang]
		if !ok {
			return nil, fmt.Errorf("locale: no %s catalogue", lang)
		}
		m, err := parseFile(lang, src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.msgs[lang] = m
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	bases := map[string]map[string]bool{} // base key -> languages having it
	for lang, m := range c.msgs {
		for k := range m {
			b := base(k)
			if bases[b] == nil {
				bases[b] = map[string]bool{}
			}
			bases[b][lang] = true
		}
	}
	for b, langs := range bases {
		c.keys = append(c.keys, b)
		for _, lang := range Supported {
			if !langs[lang] {
				errs = append(errs, fmt.Errorf("locale: %s.txt has no %q", lang, b))
				continue
			}
			if _, plain := c.msgs[lang][b]; !plain {
				if _, ok := c.msgs[lang][b+".other"]; !ok {
					errs = append(errs, fmt.Errorf("locale: %s.txt: %q has plural forms but no %s.other", lang, b, b))
				}
			}
		}
		// The same placeholders in every language: a translation that drops
		// {code} would send a message without the code.
		var want []string
		for i, lang := range Supported {
			got := placeholders(c.msgs[lang], b)
			if i == 0 {
				want = got
			} else if langs[lang] && langs[Supported[0]] && !slices.Equal(got, want) {
				errs = append(errs, fmt.Errorf("locale: %q: %s has placeholders %v, %s has %v", b, Supported[0], want, lang, got))
			}
		}
	}
	slices.Sort(c.keys)
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func parseFile(lang string, src []byte) (map[string]string, error) {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !keyRE.MatchString(k) {
			return nil, fmt.Errorf("locale: %s.txt line %d: want `key = value`", lang, n)
		}
		if v == "" {
			return nil, fmt.Errorf("locale: %s.txt line %d: %q has no text", lang, n, k)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("locale: %s.txt line %d: %q is defined twice", lang, n, k)
		}
		m[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("locale: %s.txt: %w", lang, err)
	}
	return m, nil
}

// base folds a plural form's key to its base: "code.minutes.one" -> "code.minutes".
func base(k string) string {
	i := strings.LastIndexByte(k, '.')
	if i > 0 && slices.Contains(pluralForms, k[i+1:]) {
		return k[:i]
	}
	return k
}

// placeholders lists the distinct {names} of key b in m, over all its forms, sorted.
func placeholders(m map[string]string, b string) []string {
	var out []string
	for k, v := range m {
		if k != b && base(k) != b {
			continue
		}
		for _, p := range placeholderRE.FindAllStringSubmatch(v, -1) {
			if !slices.Contains(out, p[1]) {
				out = append(out, p[1])
			}
		}
	}
	slices.Sort(out)
	return out
}

// Keys lists every key (plural forms as one key), sorted.
func (c *Catalogue) Keys() []string { return slices.Clone(c.keys) }

// Has reports whether key is in the catalogue.
func (c *Catalogue) Has(key string) bool {
	_, ok := slices.BinarySearch(c.keys, key)
	return ok
}

// T returns key in lang (English when lang is not supported) with args, a
// list of name, value pairs, put in its {name} placeholders. A "count"
// argument (an int) chooses the plural form. An unknown key, an odd list or
// a placeholder without its argument is an error: templates stop at start,
// not in front of a person.
func (c *Catalogue) T(lang, key string, args ...any) (string, error) {
	lang = Or(lang)
	if len(args)%2 != 0 {
		return "", fmt.Errorf("locale: %q: odd number of arguments", key)
	}
	named := make(map[string]string, len(args)/2)
	count, counted := 0, false
	for i := 0; i < len(args); i += 2 {
		name, ok := args[i].(string)
		if !ok {
			return "", fmt.Errorf("locale: %q: argument name %v is not a string", key, args[i])
		}
		named[name] = fmt.Sprint(args[i+1])
		if name == "count" {
			n, err := strconv.Atoi(named[name])
			if err != nil {
				return "", fmt.Errorf("locale: %q: count %v is not a whole number", key, args[i+1])
			}
			count, counted = n, true
		}
	}
	m := c.msgs[lang]
	v, ok := m[key]
	if !ok {
		if counted {
			v, ok = m[key+"."+PluralForm(lang, count)]
			if !ok {
				v, ok = m[key+".other"]
			}
		}
		if !ok {
			return "", fmt.Errorf("locale: unknown key %q", key)
		}
	}
	var missing error
	out := placeholderRE.ReplaceAllStringFunc(v, func(p string) string {
		name := p[1 : len(p)-1]
		s, ok := named[name]
		if !ok {
			missing = fmt.Errorf("locale: %q needs argument %q", key, name)
		}
		return s
	})
	return out, missing
}

// MustT is T for keys and arguments fixed in code and checked by tests;
// an error is returned as the key itself, so a person sees something and
// the tests see the key.
func (c *Catalogue) MustT(lang, key string, args ...any) string {
	s, err := c.T(lang, key, args...)
	if err != nil {
		return key
	}
	return s
}

// PluralForm is the CLDR plural category of the whole number n in lang.
func PluralForm(lang string, n int) string {
	if n < 0 {
		n = -n
	}
	switch lang {
	case Welsh:
		switch n {
		case 0:
			return "zero"
		case 1:
			return "one"
		case 2:
			return "two"
		case 3:
			return "few"
		case 6:
			return "many"
		}
		return "other"
	default:
		if n == 1 {
			return "one"
		}
		return "other"
	}
}
