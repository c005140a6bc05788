package ui

import (
	"html"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/councilforms/idp/ui/locale"
)

var (
	invisible  = regexp.MustCompile(`(?is)<(script|style|head)\b.*?</(script|style|head)>`)
	blockEnd   = regexp.MustCompile(`(?i)</(p|h1|h2|h3|li|label|button|a|div|dt|dd|th|td|summary|caption|nav|pre)>|<br\s*/?>`)
	anyTag     = regexp.MustCompile(`<[^>]*>`)
	spaces     = regexp.MustCompile(`[ \t\r]+`)
	titleMatch = regexp.MustCompile(`(?is)<title>(.*?)</title>`)
)

// visibleText is what a person reads of a page, one piece a line: the title,
// then the body's text.
func visibleText(page string) string {
	var out []string
	if m := titleMatch.FindStringSubmatch(page); m != nil {
		out = append(out, "title: "+strings.TrimSpace(html.UnescapeString(m[1])))
	}
	body := invisible.ReplaceAllString(page, "")
	body = blockEnd.ReplaceAllString(body, "\n")
	body = anyTag.ReplaceAllString(body, " ")
	for _, line := range strings.Split(html.UnescapeString(body), "\n") {
		line = strings.TrimSpace(spaces.ReplaceAllString(line, " "))
		if line != "" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n") + "\n"
}

// inLanguage returns a copy of a page model with Page.Lang set.
func inLanguage(model any, lang string) any {
	v := reflect.New(reflect.TypeOf(model)).Elem()
	v.Set(reflect.ValueOf(model))
	v.FieldByName("Page").FieldByName("Lang").SetString(lang)
	return v.Interface()
}

// TestPageWords holds every page's words, in English and in Welsh, against
// reviewed files (testdata/text/<page>.<lang>.txt): a change of wording
// shows in review as a change of those files (go test ./ui -update writes
// them). Words the handlers put into the samples (errors, names) stay as the
// samples have them.
func TestPageWords(t *testing.T) {
	tmpl := newTemplates(t, false)
	for _, s := range samples() {
		for _, variant := range []struct {
			suffix string
			model  any
		}{{"", s.model}, {"-errors", s.withErrors}} {
			for _, lang := range locale.Supported {
				name := s.page + variant.suffix + "." + lang
				t.Run(name, func(t *testing.T) {
					_, _, body := renderPage(t, tmpl, s.page, inLanguage(variant.model, lang))
					golden(t, filepath.Join("testdata", "text", name+".txt"), visibleText(body))
				})
			}
		}
	}
}

// TestWordsOfTheGuide: the labels the council's guide names, exactly, on
// the English pages; and the drift the newcomers' review found is gone.
func TestWordsOfTheGuide(t *testing.T) {
	tmpl := newTemplates(t, false)
	var all strings.Builder
	for _, s := range samples() {
		_, _, body := renderPage(t, tmpl, s.page, s.model)
		all.WriteString(visibleText(body))
	}
	text := all.String()
	for _, label := range []string{"Sign In", "Sign up now", "Send verification code", "Verification code",
		"Verify code", "Continue", "Create", "Call Me", "Send Code"} {
		if !strings.Contains(text, "\n"+label+"\n") {
			t.Errorf("no page carries the guide's label %q on a line of its own", label)
		}
	}
	for _, drift := range []string{"e-mail", "E-mail", "Surname", "a few minutes.", "sign you in in a way"} {
		if strings.Contains(text, drift) {
			t.Errorf("a page says %q", drift)
		}
	}
	// One heading style: "Sign In" only as the guide's page title.
	if n := strings.Count(text, "Sign In"); n != strings.Count(text, "title: Sign In")*2 {
		t.Errorf("'Sign In' appears %d times, beyond the Sign In page's title and heading", n)
	}
}
