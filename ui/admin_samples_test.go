package ui

import (
	"html"
	"regexp"
	"testing"
)

func init() { sampleSets = append(sampleSets, adminSamples) }

// adminNav is the console's header navigation of an owner on the people pages.
var adminNav = []NavItem{
	{Text: "People", Href: "/people", Current: true}, {Text: "Form apps", Href: "/form-apps"},
	{Text: "Audit log", Href: "/audit"}, {Text: "Operators", Href: "/operators"},
}

func adminSamples() []sample {
	console := Page{Service: ServiceConsole, SignedInAs: "sam.jones@example.org", Nav: adminNav}
	withTitle := func(p Page, title string, errs ...FieldError) Page { p.Title, p.Errors = title, errs; return p }
	reasonErr := FieldError{Field: FieldReason, Message: "Enter the reason for resetting their phone"}
	event := AdminAuditRow{Time: "2 December 2026 at 4:25pm", Kind: "admin.reset_phone", User: "alex@example.org", IP: "192.0.2.7",
		Operator: "console:sam.jones@example.org (u-1)", Detail: "phone number ending 789 removed; reason: helpdesk call 4411"}
	return []sample{
		{
			page: PageAdminHome,
			model: AdminHomePage{Page: console, Email: "sam.jones@example.org", Roles: []string{"owner"},
				Sections: []AdminSection{{Title: "People", Href: "/people", Description: "Find people and help them with their accounts."}}},
			withErrors: AdminHomePage{Page: Page{Service: ServiceConsole, Errors: []FieldError{{Message: "Something went wrong. Try again."}}}, Email: "sam.jones@example.org", Roles: []string{"support"}},
			labels:     []string{">Operators' console</h1>", "sam.jones@example.org", `href="/people"`, `aria-current="true"`, "Sign out"},
		},
		{
			page:       PageAdminForbidden,
			model:      AdminForbiddenPage{Page: Page{Service: ServiceConsole, SignedInAs: "kim@example.org"}, Email: "kim@example.org"},
			withErrors: AdminForbiddenPage{Page: Page{Service: ServiceConsole, Errors: []FieldError{{Message: "x"}}}, Email: "kim@example.org", Roles: []string{"support"}, Needed: "clients"},
			labels:     []string{"You do not have access to the operators' console", "no role", "idp admins grant kim@example.org ROLE"},
		},
		{
			page: PageAdminConfirm,
			model: AdminConfirmPage{Page: withTitle(console, "Reset the phone of alex@example.org"), Action: "/people/u-2/reset-phone",
				Summary: []SummaryRow{{Key: "Phone number", Value: "07*** ***789"}}, Warning: "They will be asked to enrol a new phone at their next sign-in.",
				Button: "Reset phone", CancelURL: "/people/u-2"},
			withErrors: AdminConfirmPage{Page: withTitle(console, "Reset the phone of alex@example.org", reasonErr), Action: "/people/u-2/reset-phone",
				Button: "Reset phone", CancelURL: "/people/u-2"},
			labels: []string{">Reset the phone of alex@example.org</h1>", "Reason", "Reset phone", "govuk-button--warning", "Cancel"},
		},
		{
			page: PageAdminPeople,
			model: AdminPeoplePage{Page: console, Action: "/people", Query: "alex", Searched: true,
				People: []AdminPersonRow{{Email: "alex@example.org", Name: "Alex Smith", MaskedPhone: "07*** ***789", State: "locked until 4:40pm", URL: "/people/u-2"}}},
			withErrors: AdminPeoplePage{Page: Page{Service: ServiceConsole, Errors: []FieldError{{Field: FieldQuery, Message: "Enter part of an email address, or a sub"}}}, Action: "/people", Searched: true},
			labels:     []string{">People</h1>", "Email address or sub", "Search", "alex@example.org", "locked until", `role="search"`},
		},
		{
			page: PageAdminPerson,
			model: AdminPersonPage{Page: withTitle(console, "alex@example.org"),
				Details:  []SummaryRow{{Key: "Name", Value: "Alex Smith"}, {Key: "Phone number", Value: "07*** ***789"}},
				Browsers: []AdminBrowserSessionRow{{Session: "a1b2c3d4", Started: "2 Dec 2026 16:20:07 UTC", LastUsed: "2 Dec 2026 16:24:51 UTC", FormApps: "Make a social care referral (referral-form)"}},
				Sessions: []AdminSessionRow{{Client: "Make a social care referral", Session: "a1b2c3d4"}},
				Events:   []AdminAuditRow{event}, AuditURL: "/audit?person=u-2",
				Actions: []AdminAction{{Text: "Unlock", Href: "/people/u-2/unlock"}, {Text: "Reset phone", Href: "/people/u-2/reset-phone", Warning: true}}},
			withErrors: AdminPersonPage{Page: withTitle(console, "alex@example.org", FieldError{Message: "The database is not answering. Try again."})},
			labels:     []string{">alex@example.org</h1>", "Unlock", "Reset phone", "Sessions at the idp", "Last used", "Form apps holding tokens", "Make a social care referral", "admin.reset_phone"},
		},
		{
			page: PageAdminAudit,
			model: AdminAuditPage{Page: console, Action: "/audit", Kind: "admin.reset_phone", Searched: true, Events: []AdminAuditRow{event},
				OlderURL: "/audit?kind=admin.reset_phone&before=9", ExportCSV: "/audit/export.csv?kind=admin.reset_phone", ExportJSONL: "/audit/export.jsonl?kind=admin.reset_phone"},
			withErrors: AdminAuditPage{Page: Page{Service: ServiceConsole, Errors: []FieldError{{Field: FieldSince, Message: "Enter a date such as 2026-12-02 or a time such as 2026-12-02T16:25:00Z"}}}, Action: "/audit", Since: "yesterday"},
			labels:     []string{">Audit log</h1>", "Person", "Form app", "Event type", "Operator", "From", "Before", "Filter", "Older events", "Download as CSV", "Download as JSON Lines"},
		},
		{
			page: PageAdminOperators,
			model: AdminOperatorsPage{Page: console, GrantAction: "/operators/grant", RoleChoices: []string{"support", "clients", "auditor", "owner"},
				Operators: []AdminOperatorRow{{Email: "sam.jones@example.org", Roles: []AdminRoleRow{{Role: "owner", GrantedBy: "cli:root", GrantedAt: "1 December 2026 at 9:00am", RevokeURL: "/operators/u-1/revoke/owner"}}}}},
			withErrors: AdminOperatorsPage{Page: Page{Service: ServiceConsole, Errors: []FieldError{{Field: FieldEmail, Message: "There is no account with that email address"}, {Field: FieldReason, Message: "Enter the reason"}}},
				GrantAction: "/operators/grant", Email: "nobody@example.org", RoleChoices: []string{"support", "owner"}, Role: "owner"},
			labels: []string{">Operators</h1>", "Grant a role", "Email address", "Role", "Reason", "Grant role", "Revoke", "cli:root"},
		},
	}
}

// The console's pages name the console in the header, in every sample, not
// the service people sign in to ("Your account").
func TestConsoleSamplesNameTheConsole(t *testing.T) {
	tmpl := newTemplates(t, false)
	for _, s := range append(adminSamples(), adminOpsSamples()...) {
		for _, model := range []any{s.model, s.withErrors} {
			_, _, body := renderPage(t, tmpl, s.page, model)
			if got := serviceNavRe.FindStringSubmatch(body); got == nil || html.UnescapeString(got[1]) != "Operators' console" {
				t.Errorf("%s: the header does not name the operators' console: %q", s.page, got)
			}
		}
	}
}

var serviceNavRe = regexp.MustCompile(`<span class="govuk-service-navigation__text">([^<]*)</span>`)
