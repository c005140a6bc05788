// Package b2c checks a password against Azure AD B2C, once, at the first sign-in
// here of an account imported from a B2C tenant (seamless migration: B2C never
// exports password hashes). It posts the password to the tenant's resource-owner
// password credentials (ROPC) user flow, as Microsoft documents it, and verifies
// the ID token that comes back: its signature against the policy's JWKS (found from
// the policy's OpenID Connect discovery document, derived from the ROPC URL), its
// issuer, its audience (the client id) and its subject (sub, or oid), which must be
// the account's object id.
//
// It knows nothing of accounts, journeys or pages: it takes an object id, a user
// name and a password and says accepted, refused or cannot tell. It never logs the
// password or a token. b2ctest is a strict fake of the ROPC endpoint for tests.
package b2c
