// Package graphtest makes Azure AD B2C tenants for tests: generated users as
// Microsoft Graph returns them, written as --from-b2c files, and a strict fake of
// Microsoft Graph and its token endpoint that serves them.
package graphtest
