package ui

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/councilforms/idp/ui/locale"
)

//go:embed templates locales
var templateFS embed.FS

// Options configure the pages for one deployment.
type Options struct {
	// OrgName is the organisation running the service, shown in the header,
	// the footer and every page title ("Sign In – Norfolk County Council").
	OrgName string
	// Dev shows the development-mode banner linking to the dev inbox.
	Dev bool
	// ServiceName, when set, is shown next to the organisation name in the
	// header of every page. Empty (the default): the page's own, in its
	// language ("Sign in", "Create an account", "Your account"; Page.Service).
	ServiceName string
	// HomeURL is where the organisation name in the header links. Default "/".
	HomeURL string
	// SignOutURL is where the header's 'Sign out' button, shown to a
	// signed-in person, posts its form. Default "/logout".
	SignOutURL string
	// Logger receives rendering failures. Default slog.Default().
	Logger *slog.Logger
	// Contact is how a person reaches the council's help desk, shown on the
	// contact, help and lost-phone pages and wherever a page says to contact
	// the council; empty fields are left out.
	Contact Contact
	// PrivacyURL and AccessibilityURL are the organisation's privacy notice
	// and accessibility statement, linked from every page's footer; empty
	// links to the built-in pages PathPrivacy and PathAccessibility, which
	// say to ask the council.
	PrivacyURL       string
	AccessibilityURL string
	// HeaderColour, "#rrggbb", is the header's background (checked for
	// contrast with its white text by the caller); empty for GOV.UK's.
	HeaderColour string
	// Logo and LogoType (image/png, image/svg+xml or image/jpeg) are shown in
	// the header instead of OrgName in text (OrgName is its alternative text).
	Logo     []byte
	LogoType string
}

// Contact is the council's help desk.
type Contact struct {
	Phone string // "01632 960 001"
	Email string // "help@example.gov.uk"
	Hours string // "Monday to Friday, 9am to 5pm"
	// Text ends "To get help, ..." when there is no Phone or Email
	// (IDP_CONTACT_TEXT: "contact the council's customer services").
	Text string
	// TextWelsh and HoursWelsh are Text and Hours in Welsh
	// (IDP_CONTACT_TEXT_CY, IDP_CONTACT_HOURS_CY); empty uses the English.
	TextWelsh  string
	HoursWelsh string
}

// In is the contact details in lang: in Welsh, the council's Welsh words when
// it gave them, else the catalogue's Welsh of the built-in text, else its
// English as it is.
func (c Contact) In(lang string) Contact {
	if locale.Or(lang) != locale.Welsh {
		return c
	}
	if c.TextWelsh != "" {
		c.Text = c.TextWelsh
	} else {
		c.Text = Translate(lang, c.Text)
	}
	if c.HoursWelsh != "" {
		c.Hours = c.HoursWelsh
	}
	return c
}

// Localize is s, written in English with Text inside it (the journey's
// refusals that end "..., or contact the council's customer services"), in
// lang: the catalogue's words, and the council's own Welsh for Text.
func (c Contact) Localize(lang, s string) string {
	out := Translate(lang, s)
	if in := c.In(lang).Text; c.Text != "" && in != c.Text {
		out = strings.ReplaceAll(out, c.Text, in)
	}
	return out
}

// Paths of the built-in pages every page's footer links to.
const (
	PathHelp          = "/help"          // 'Problems signing in'
	PathCookies       = "/cookies"       // the cookies the service sets
	PathContact       = "/contact"       // the council's help desk
	PathPrivacy       = "/privacy"       // when no privacy notice is configured
	PathAccessibility = "/accessibility" // when no accessibility statement is configured
	PathLostPhone     = "/help/lost-phone"
)

// Templates holds every page, checked once by New and parsed again the first
// time it is rendered in a language.
type Templates struct {
	opts  Options
	brand *branding
	cat   *locale.Catalogue
	// pages holds each page once per language: language -> page.
	pages map[string]map[string]*pageTemplate
}

// pageTemplate is one page's template in one language, built from its language's
// layout and components on first use. Keeping every page of both languages
// and the console parsed from the start held about 10 MiB of parse trees,
// two thirds of the idle heap, which every garbage collection walked (each
// password hash sets one off); a person's journey uses a few pages in one
// language.
type pageTemplate struct {
	fsys fs.FS
	base *template.Template // the language's layout and components, never executed
	file string
	once sync.Once
	tmpl *template.Template
	err  error
}

// template parses the page on first use; New has already parsed and executed
// the same files, so an error here means the embedded files changed under it.
func (p *pageTemplate) template() (*template.Template, error) {
	p.once.Do(func() { p.tmpl, p.err = parsePage(p.fsys, p.base, p.file) })
	return p.tmpl, p.err
}

// parsePage is a page's own file over a copy of its language's layout and
// components.
func parsePage(fsys fs.FS, base *template.Template, file string) (*template.Template, error) {
	clone, err := base.Clone()
	if err != nil {
		return nil, err
	}
	if _, err := clone.ParseFS(fsys, file); err != nil {
		return nil, err
	}
	return clone, nil
}

// New parses every template and executes each page once with an empty
// model, so a missing template, a syntax error or a reference to a field
// that does not exist fails here, at start, rather than on a person's
// request.
func New(opts Options) (*Templates, error) {
	if strings.TrimSpace(opts.OrgName) == "" {
		return nil, errors.New("ui: organisation name is required")
	}
	if opts.HomeURL == "" {
		opts.HomeURL = "/"
	}
	if opts.SignOutURL == "" {
		opts.SignOutURL = "/logout"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PrivacyURL == "" {
		opts.PrivacyURL = PathPrivacy
	}
	if opts.AccessibilityURL == "" {
		opts.AccessibilityURL = PathAccessibility
	}
	t, err := parse(templateFS, opts)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func parse(fsys fs.FS, opts Options) (*Templates, error) {
	cat, err := locale.Load(fsys, "locales")
	if err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	brand, err := newBranding(opts)
	if err != nil {
		return nil, err
	}
	t := &Templates{opts: opts, brand: brand, cat: cat, pages: map[string]map[string]*pageTemplate{}}
	for _, lang := range locale.Supported {
		pages, err := parseLanguage(fsys, opts, brand, cat, lang)
		if err != nil {
			return nil, err
		}
		t.pages[lang] = pages
	}
	return t, nil
}

// parseLanguage parses and test-executes every page in one language, and
// keeps only the layout and components each page is built on when first used.
func parseLanguage(fsys fs.FS, opts Options, brand *branding, cat *locale.Catalogue, lang string) (map[string]*pageTemplate, error) {
	base := template.New("layout").Funcs(funcs(opts, cat, lang)).Funcs(template.FuncMap{
		"brandCSS": func() string { return brand.cssURL },
		"logoURL":  func() string { return brand.logoURL },
	})
	shared, err := fs.Glob(fsys, "templates/components/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: list components: %w", err)
	}
	shared = append([]string{"templates/layout.html"}, shared...)
	if _, err := base.ParseFS(fsys, shared...); err != nil {
		return nil, fmt.Errorf("ui: parse layout and components: %w", err)
	}

	pages := make(map[string]*pageTemplate, len(pageModels))
	for name, model := range pageModels {
		file := pageFile(name)
		clone, err := parsePage(fsys, base, file)
		if err != nil {
			return nil, fmt.Errorf("ui: page %s: %w", name, err)
		}
		for _, block := range []string{"heading", "content"} {
			if clone.Lookup(block) == nil {
				return nil, fmt.Errorf("ui: page %s: %s does not define %q", name, file, block)
			}
		}
		empty := reflect.New(model).Elem().Interface()
		if err := clone.ExecuteTemplate(io.Discard, "layout", empty); err != nil {
			return nil, fmt.Errorf("ui: page %s (%s): %w", name, lang, err)
		}
		pages[name] = &pageTemplate{fsys: fsys, base: base, file: file}
	}
	// Every page file must be one the Go side knows about: a template
	// nobody can render is a page a handler thinks exists but does not.
	files, err := fs.Glob(fsys, "templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: list pages: %w", err)
	}
	console, err := fs.Glob(fsys, "templates/admin/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: list console pages: %w", err)
	}
	for _, f := range append(files, console...) {
		name := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(f, "templates/pages/"), "templates/"), ".html")
		if _, ok := pageModels[name]; !ok {
			return nil, fmt.Errorf("ui: %s has no view model in pageModels", f)
		}
	}
	return pages, nil
}

// pageFile is the template of a page: templates/admin/<name>.html for the
// console's pages (named "admin/<name>"), templates/pages/<name>.html for the rest.
func pageFile(name string) string {
	if strings.HasPrefix(name, "admin/") {
		return "templates/" + name + ".html"
	}
	return "templates/pages/" + name + ".html"
}

// T returns the catalogue's key in lang with args (name, value pairs), for
// the words handlers put into models (errors, notices, message pages). An
// unknown key gives the key itself; TestCatalogueKeysInGo finds those.
func (t *Templates) T(lang, key string, args ...any) string {
	return t.cat.MustT(lang, key, args...)
}

// Contact is the council's contact details in lang.
func (t *Templates) Contact(lang string) Contact { return t.opts.Contact.In(lang) }

// Catalogue is the pages' message catalogue.
func (t *Templates) Catalogue() *locale.Catalogue { return t.cat }

// Render writes page with status. The page is rendered into a buffer first,
// so a person never sees half a page: if rendering fails they get a plain
// 500 and the log gets the reason. data must be the page's view model
// (value or pointer), for example SignInPage for PageSignIn.
func (t *Templates) Render(w http.ResponseWriter, status int, page string, data any) {
	var buf bytes.Buffer
	if err := t.render(&buf, page, data); err != nil {
		t.opts.Logger.Error("ui: render page", "page", page, "err", err)
		http.Error(w, "Sorry, there is a problem with the service. Try again later.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	if h.Get("Cache-Control") == "" {
		// Pages carry personal data and journey state.
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// render executes page into w after checking that data is the page's model.
func (t *Templates) render(w io.Writer, page string, data any) error {
	if _, ok := pageModels[page]; !ok {
		return fmt.Errorf("unknown page %q", page)
	}
	want := pageModels[page]
	got := reflect.TypeOf(data)
	if got != nil && got.Kind() == reflect.Pointer {
		got = got.Elem()
	}
	if got != want {
		return fmt.Errorf("page %q wants a %v model, got %v", page, want, reflect.TypeOf(data))
	}
	if reflect.ValueOf(data).Kind() == reflect.Pointer && reflect.ValueOf(data).IsNil() {
		return fmt.Errorf("page %q: nil %v model", page, reflect.TypeOf(data))
	}
	lang := locale.English
	if l, ok := data.(interface{ Language() string }); ok {
		lang = l.Language()
	}
	tmpl, err := t.pages[lang][page].template()
	if err != nil {
		return fmt.Errorf("parse %s (%s): %w", page, lang, err)
	}
	if err := tmpl.ExecuteTemplate(w, "layout", data); err != nil {
		return fmt.Errorf("execute %s: %w", page, err)
	}
	return nil
}

// funcs are the template functions of one language; those bound to opts
// describe the deployment, which does not change between requests. t looks
// a key up in the page's language: {{t "sign-in.heading"}}, with arguments
// as name, value pairs: {{t "email-code.expires" "count" .Minutes}}.
func funcs(opts Options, cat *locale.Catalogue, lang string) template.FuncMap {
	return template.FuncMap{
		"t": func(key string, args ...any) (template.HTML, error) {
			v, err := cat.T(lang, key, args...)
			return textHTML(v), err
		},
		"lang":         func() string { return lang },
		"languages":    func() []string { return locale.Supported },
		"languageName": func(l string) string { return locale.Names[l] },
		"languageLink": languageLink,
		"orgName":      func() string { return opts.OrgName },
		"serviceName":  func() string { return opts.ServiceName },
		"dev":          func() bool { return opts.Dev },
		"homeURL":      func() string { return opts.HomeURL },
		"signOutURL":   func() string { return opts.SignOutURL },
		"contact":      func() Contact { return opts.Contact.In(lang) },
		"privacyURL":   func() string { return opts.PrivacyURL },
		"a11yURL":      func() string { return opts.AccessibilityURL },
		"helpURL":      func() string { return PathHelp },
		"cookiesURL":   func() string { return PathCookies },
		"contactURL":   func() string { return PathContact },
		"lostPhoneURL": func() string { return PathLostPhone },
		// minutes writes seconds as GOV.UK writes a duration ("less than a
		// minute", "1 minute", "59 minutes"), rounded down, so a person is never
		// told they have longer than they have.
		"minutes": func(seconds int) (string, error) {
			if seconds < 60 {
				return cat.T(lang, "timeout.less-than-a-minute")
			}
			return cat.T(lang, "timeout.minutes", "count", seconds/60)
		},
		"asset": assetURL,
		"dict":  dict,
		"list":  func(v ...any) []any { return v },
		"join":  strings.Join,
	}
}

// dict builds a component's parameters: {{template "input" (dict "ID" "email" ...)}}.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, errors.New("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// textHTML is catalogue text (with its arguments in) as HTML: '&', '<' and
// '>' escaped, so an argument cannot add markup, but apostrophes kept as
// they are, so "select 'Continue'" reads the same in the page source as in
// the English catalogue. In an attribute html/template escapes the quotes.
func textHTML(s string) template.HTML {
	return template.HTML(textReplacer.Replace(s))
}

var textReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// languageLink is the toggle's link to lang from base (Page.LanguageURL).
func languageLink(base, lang string) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "lang=" + lang
}
