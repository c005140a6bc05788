// Package migrate brings accounts from elsewhere into the store: Azure AD B2C users
// as Microsoft Graph returns them (a file of Graph list pages or JSON Lines, or
// fetched from the tenant through Graph), and another instance's `idp users export`.
//
// It owns the import rules (which email, which phone, which state, what is skipped
// and why), the report of a run, and the export format. The idp command only parses
// flags and prints the report. Accounts are written through store.Users.ImportUsers,
// one transaction per batch, so a run can be repeated and an interrupted run resumes.
//
// It must not import a store backend, the OIDC library or the login pages; it
// reaches Graph over net/http only in graph.go.
package migrate
