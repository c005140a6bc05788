package ui

func init() { sampleSets = append(sampleSets, adminOpsSamples) }

func adminOpsSamples() []sample {
	nav := []NavItem{{Text: "Form apps", Href: "/form-apps", Current: true}, {Text: "Signing keys", Href: "/signing-keys"}, {Text: "Texts and calls", Href: "/costs"}}
	console := Page{Service: ServiceConsole, SignedInAs: "kim.clark@example.org", Nav: nav}
	titled := func(title string, errs ...FieldError) Page { p := console; p.Title, p.Errors = title, errs; return p }
	algs := []AdminChoice{{Value: "", Text: "The service's default (RS256)"}, {Value: "RS256", Text: "RS256"}, {Value: "ES256", Text: "ES256"}}
	types := []AdminChoice{{Value: "confidential", Text: "Confidential (a server with a secret)"}, {Value: "public", Text: "Public (no secret, PKCE)"}}
	edit := AdminFormAppPage{Page: titled("Make a social care referral"), Action: "/form-apps/referral-form",
		Details: []SummaryRow{{Key: "Client ID", Value: "referral-form"}, {Key: "Secret", Value: "the previous one works until 3 Mar 2026 14:05:00 UTC"}},
		Name:    "Make a social care referral", RedirectURIs: "https://forms.example.gov.uk/referral/callback", Scopes: "openid profile email",
		SigningAlg: "ES256", AlgChoices: algs, AuditURL: "/audit?client=referral-form",
		Actions: []AdminAction{{Text: "Rotate secret", Href: "/form-apps/referral-form/rotate-secret"}, {Text: "Disable", Href: "/form-apps/referral-form/disable", Warning: true},
			{Text: "Remove", Href: "/form-apps/referral-form/remove", Warning: true}}}
	costRow := AdminCostRow{Period: "2026-03", FormApp: "referral-form", Texts: AdminCostCell{Sent: 1204, Failed: 3, Refused: 12},
		Calls: AdminCostCell{Sent: 88}, SignIns: 950, Cost: "£56.52", CostPerSignIn: "£0.05949"}
	total := costRow
	total.FormApp, total.Total = "All form apps", true
	return []sample{
		{
			page: PageAdminFormApps,
			model: AdminFormAppsPage{Page: console, AddURL: "/form-apps/new", FormApps: []AdminFormAppRow{
				{ID: "blue-badge", Name: "Apply for a Blue Badge", Type: "confidential", Source: "clients file", State: "enabled", URL: "/form-apps/blue-badge", ReadOnly: true},
				{ID: "referral-form", Name: "Make a social care referral", Type: "confidential", Source: "database", State: "disabled since 3 Mar 2026 14:05:00 UTC", URL: "/form-apps/referral-form"},
			}},
			withErrors: AdminFormAppsPage{Page: Page{Service: ServiceConsole, Errors: []FieldError{{Message: "x"}}}, AddURL: "/form-apps/new"},
			labels:     []string{">Form apps</h1>", "Add a form app", "Client ID", "Defined in", "Read-only", "referral-form", "disabled since"},
		},
		{
			page:  PageAdminFormApp,
			model: edit,
			// The add form, with an error.
			withErrors: AdminFormAppPage{Page: titled("Add a form app", FieldError{Field: FieldClientID, Message: "A form app with this client ID already exists"}),
				Adding: true, Action: "/form-apps/new", ID: "referral-form", ClientType: "confidential", AlgChoices: algs, TypeChoices: types},
			labels: []string{">Make a social care referral</h1>", "Name", "Redirect URIs", "Post-logout redirect URIs", "Back-channel logout URI",
				"Scopes", "Signing algorithm", "Save changes", "Rotate secret", "Disable", "Remove", `<option value="ES256" selected>`},
		},
		{
			page: PageAdminFormAppSecret,
			model: AdminFormAppSecretPage{Page: titled("The form app has a new secret"), ClientID: "referral-form", Secret: "s3cr3t-shown-once",
				Paragraphs: []string{"The old secret keeps working until 4 Mar 2026 14:05:00 UTC."}, BackURL: "/form-apps/referral-form"},
			withErrors: AdminFormAppSecretPage{Page: titled("The form app has a new secret", FieldError{Message: "x"}), ClientID: "referral-form"},
			labels:     []string{"s3cr3t-shown-once", "shown only now", "Go to the form app"},
		},
		{
			page:  PageAdminFormAppRotate,
			model: AdminFormAppRotatePage{Page: titled(""), Action: "/form-apps/referral-form/rotate-secret", ClientID: "referral-form", Overlap: "24", CancelURL: "/form-apps/referral-form"},
			withErrors: AdminFormAppRotatePage{Page: titled("", FieldError{Field: FieldOverlap, Message: "Enter the overlap as a whole number of hours from 0 to 720"}),
				Action: "/form-apps/referral-form/rotate-secret", ClientID: "referral-form", Overlap: "lots", CancelURL: "/form-apps/referral-form"},
			labels: []string{">Rotate the secret of referral-form</h1>", "Overlap in hours", "Reason", "Rotate secret", "Cancel"},
		},
		{
			page: PageAdminSigningKeys,
			model: AdminSigningKeysPage{Page: console, RotateURL: "/signing-keys/rotate", EmergencyURL: "/signing-keys/emergency",
				Keys: []AdminKeyRow{{ID: "k1", Algorithm: "RS256", State: "active", Created: "1 Mar 2026 09:00:00 UTC", SignsFrom: "1 Mar 2026 09:00:00 UTC", Retired: "-", LeavesJWKS: "-"}}},
			withErrors: AdminSigningKeysPage{Page: Page{Service: ServiceConsole, Errors: []FieldError{{Message: "x"}}}, RotateURL: "/signing-keys/rotate", EmergencyURL: "/signing-keys/emergency"},
			labels:     []string{">Signing keys</h1>", "Rotate keys", "Emergency rotation", "Leaves JWKS", "active"},
		},
		{
			page: PageAdminCosts,
			model: AdminCostsPage{Page: console, Action: "/costs", From: "2026-03-01", To: "2026-03-31", By: "month",
				ByChoices: []AdminChoice{{Value: "day", Text: "Day"}, {Value: "month", Text: "Month"}}, UnitCosts: "£0.04 a text and £0.095 a call",
				Rows: []AdminCostRow{costRow, total}, FormAppTotals: []AdminCostRow{costRow, total}, RangeSummary: "From 2026-03-01 to 2026-03-31 (UTC), by month."},
			withErrors: AdminCostsPage{Page: Page{Service: ServiceConsole, Errors: []FieldError{{Field: FieldFrom, Message: "Enter a date such as 2026-12-02"}}}, Action: "/costs", From: "last week",
				ByChoices: []AdminChoice{{Value: "day", Text: "Day"}}, NothingCounted: true},
			labels: []string{">Texts and calls</h1>", "From", "To", "By", "Show", "Texts sent", "Calls sent", "Sign-ins", "Cost per sign-in", "£56.52", "All form apps"},
		},
	}
}
