package locale

import (
	"strings"
	"testing"
)

func TestParseRefusesAnIncompleteCatalogue(t *testing.T) {
	_, err := Parse(map[string][]byte{
		"en": []byte("a.one = A\nb = B {x}\n"),
		"cy": []byte("a.one = A\n"),
	})
	if err == nil {
		t.Fatal("a catalogue missing a key in Welsh was accepted")
	}
	for _, want := range []string{`cy.txt has no "b"`, `"a" has plural forms but no a.other`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestParseRefusesDifferentPlaceholders(t *testing.T) {
	_, err := Parse(map[string][]byte{
		"en": []byte("code = Your code is {code}\n"),
		"cy": []byte("code = Eich cod yw\n"),
	})
	if err == nil || !strings.Contains(err.Error(), "placeholders") {
		t.Fatalf("a translation without {code} was accepted: %v", err)
	}
}

func TestParseRefusesBadLines(t *testing.T) {
	for name, src := range map[string]string{
		"no equals":  "hello\n",
		"empty text": "a = \n",
		"duplicate":  "a = 1\na = 2\n",
		"bad key":    "A B = 1\n",
	} {
		if _, err := Parse(map[string][]byte{"en": []byte(src), "cy": []byte(src)}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestT(t *testing.T) {
	c, err := Parse(map[string][]byte{
		"en": []byte("# comment\nhi = Hello {name}\nmins.one = {count} minute\nmins.other = {count} minutes\n"),
		"cy": []byte("hi = Helo {name}\nmins.other = {count} munud\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c2 := range []struct {
		lang, key string
		args      []any
		want      string
	}{
		{"en", "hi", []any{"name", "Sam"}, "Hello Sam"},
		{"cy", "hi", []any{"name", "Sam"}, "Helo Sam"},
		{"fr", "hi", []any{"name", "Sam"}, "Hello Sam"},
		{"en", "mins", []any{"count", 1}, "1 minute"},
		{"en", "mins", []any{"count", 10}, "10 minutes"},
		{"cy", "mins", []any{"count", 2}, "2 munud"},
	} {
		got, err := c.T(c2.lang, c2.key, c2.args...)
		if err != nil || got != c2.want {
			t.Errorf("T(%s, %s, %v) = %q, %v; want %q", c2.lang, c2.key, c2.args, got, err, c2.want)
		}
	}
	if _, err := c.T("en", "nope"); err == nil {
		t.Error("an unknown key gave no error")
	}
	if _, err := c.T("en", "hi"); err == nil {
		t.Error("a missing argument gave no error")
	}
	if !c.Has("mins") || c.Has("mins.one") || c.Has("nope") {
		t.Errorf("Has: keys %v", c.Keys())
	}
}

func TestChoosingALanguage(t *testing.T) {
	for _, c := range []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"cy", Welsh, true},
		{"cy-GB en", Welsh, true},
		{"fr cy", Welsh, true},
		{"en-GB", English, true},
		{"fr", English, false},
		{"", English, false},
		{"!!", English, false},
	} {
		if got, ok := FromUILocales(c.in); got != c.want || ok != c.wantOK {
			t.Errorf("FromUILocales(%q) = %s, %v; want %s, %v", c.in, got, ok, c.want, c.wantOK)
		}
	}
	for _, c := range []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"cy", Welsh, true},
		{"cy-GB,cy;q=0.9,en;q=0.8", Welsh, true},
		{"en-GB,en;q=0.9,cy;q=0.8", English, true},
		{"fr-FR,fr;q=0.9", English, false},
		{"fr;q=0.9,cy;q=0.5", Welsh, true},
		{"", English, false},
	} {
		if got, ok := FromAcceptLanguage(c.in); got != c.want || ok != c.wantOK {
			t.Errorf("FromAcceptLanguage(%q) = %s, %v; want %s, %v", c.in, got, ok, c.want, c.wantOK)
		}
	}
}

func TestTranslator(t *testing.T) {
	c, err := Parse(map[string][]byte{
		"en": []byte("error.enter = Enter your email address\nerror.wait = Wait {wait}, then try again\nerror.to = Sent to {email}\nwait.minutes.one = {count} minute\nwait.minutes.other = {count} minutes\nother = Enter your email address twice\n"),
		"cy": []byte("error.enter = Rhowch eich cyfeiriad e-bost\nerror.wait = Arhoswch {wait}, yna rhowch gynnig arall arni\nerror.to = Anfonwyd at {email}\nwait.minutes.other = {count} munud\nother = Dwywaith\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	tr := c.Translator("error.", "wait.")
	for in, want := range map[string]string{
		"Enter your email address":        "Rhowch eich cyfeiriad e-bost",
		"Wait 15 minutes, then try again": "Arhoswch 15 munud, yna rhowch gynnig arall arni",
		"Sent to a@example.org":           "Anfonwyd at a@example.org",
	} {
		if got, ok := tr.Translate("cy", in); !ok || got != want {
			t.Errorf("Translate(cy, %q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if got, ok := tr.Translate("cy", "Enter your email address twice"); ok || got != "Enter your email address twice" {
		t.Errorf("a text outside the prefixes was translated: %q, %v", got, ok)
	}
	if got, ok := tr.Translate("en", "Wait 1 minute, then try again"); !ok || got != "Wait 1 minute, then try again" {
		t.Errorf("English: %q, %v", got, ok)
	}
}
