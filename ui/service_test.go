package ui

import (
	"log/slog"
	"strings"
	"testing"
)

// Issue 19: every page's footer links to help, cookies, the privacy notice,
// the accessibility statement and the contact page (before, the footer was
// the organisation's name alone); the council's own notice and statement
// when configured, built-in pages otherwise.
func TestFooterLinks(t *testing.T) {
	for _, tc := range []struct {
		name          string
		opts          Options
		privacy, a11y string
	}{
		{"no settings", Options{}, PathPrivacy, PathAccessibility},
		{"council's pages", Options{PrivacyURL: "https://www.example.gov.uk/privacy", AccessibilityURL: "https://www.example.gov.uk/a11y"},
			"https://www.example.gov.uk/privacy", "https://www.example.gov.uk/a11y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.OrgName, tc.opts.Logger = testOrg, slog.New(slog.DiscardHandler)
			tmpl, err := New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range samples() {
				_, _, body := renderPage(t, tmpl, s.page, s.model)
				_, footer, ok := strings.Cut(body, `<footer`)
				if !ok {
					t.Fatalf("%s: no footer", s.page)
				}
				for _, want := range []string{
					`href="/help">Help</a>`, `href="/cookies">Cookies</a>`, `href="` + tc.privacy + `">Privacy</a>`,
					`href="` + tc.a11y + `">Accessibility statement</a>`, `href="/contact">Contact</a>`,
				} {
					if !strings.Contains(footer, want) {
						t.Errorf("%s: the footer has no %s", s.page, want)
					}
				}
			}
		})
	}
}

// The contact details appear where a page says to contact the council, with
// the settings given and a sensible sentence without them.
func TestContactDetails(t *testing.T) {
	with, err := New(Options{OrgName: testOrg, Logger: slog.New(slog.DiscardHandler),
		Contact: Contact{Phone: "01632 960 001", Email: "help@example.gov.uk", Hours: "Monday to Friday, 9am to 5pm"}})
	if err != nil {
		t.Fatal(err)
	}
	without := newTemplates(t, false)
	textOnly, err := New(Options{OrgName: testOrg, Logger: slog.New(slog.DiscardHandler),
		Contact: Contact{Text: "call customer services on 01632 960 002"}})
	if err != nil {
		t.Fatal(err)
	}
	pages := []struct {
		page  string
		model any
	}{
		{PageContact, ContactPage{}},
		{PageHelp, HelpPage{}},
		{PageLostPhone, LostPhonePage{}},
		{PageMessage, AccountLockedMessage("en", sampleTime, "/login/forgot-password")},
		{PageMessage, ServerErrorMessage("en")},
		{PageMessage, NoPrivacyNoticeMessage("en", testOrg)},
		{PageMessage, NoAccessibilityStatementMessage("en", testOrg)},
		{PageSignIn, SignInPage{Page: Page{Contact: true}}},
	}
	for _, p := range pages {
		_, _, body := renderPage(t, with, p.page, p.model)
		text := strings.Join(strings.Fields(tagRe.ReplaceAllString(body, " ")), " ")
		for _, want := range []string{"Telephone: 01632 960 001", "Monday to Friday, 9am to 5pm", "Email: help@example.gov.uk"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s %T: with settings the page does not say %q", p.page, p.model, want)
			}
		}
		if !strings.Contains(body, `href="mailto:help@example.gov.uk"`) {
			t.Errorf("%s: no mailto link", p.page)
		}
		_, _, body = renderPage(t, without, p.page, p.model)
		if !strings.Contains(body, "You can find their details on the council's website") || strings.Contains(body, "Telephone:") {
			t.Errorf("%s %T: without settings the page does not fall back to the council's website", p.page, p.model)
		}
		_, _, body = renderPage(t, textOnly, p.page, p.model)
		if !strings.Contains(body, "To get help, call customer services on 01632 960 002.") {
			t.Errorf("%s %T: with only the contact text the page does not say it", p.page, p.model)
		}
	}
}

// The call-waiting page never reloads itself (before, a meta refresh reloaded
// it every 5 s, inside <noscript> or not: WCAG 2.2.1, focus and the screen
// reader sent back to the top). Without JavaScript it says to select
// 'Continue' once the hash key is pressed; after a 'Continue' that came too
// soon its status says nothing has come from the phone yet. The waiting status
// is a live region the script updates.
func TestCallWaitNeverRefreshes(t *testing.T) {
	tmpl := newTemplates(t, false)
	_, _, body := renderPage(t, tmpl, PageCallWait, CallWaitPage{Action: "/login/continue", MaskedPhone: "01*** ***222", StatusURL: "/login/status"})
	if strings.Contains(body, `http-equiv`) {
		t.Errorf("the page refreshes itself:\n%s", body)
	}
	if !strings.Contains(body, "When you have pressed the hash key, select 'Continue'.") {
		t.Errorf("the page does not say to select 'Continue':\n%s", body)
	}
	if !strings.Contains(body, `role="status" id="call-status"`) || !strings.Contains(body, "Waiting for you to answer the call") {
		t.Error("no status live region")
	}
	_, _, body = renderPage(t, tmpl, PageCallWait, CallWaitPage{Action: "/login/continue", MaskedPhone: "01*** ***222", NotHeard: true})
	if !strings.Contains(body, "We have not heard from your phone yet.") || strings.Contains(body, "Waiting for you to answer the call") {
		t.Errorf("after an early 'Continue' the status does not say nothing came:\n%s", body)
	}
}
