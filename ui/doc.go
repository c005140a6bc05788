// Package ui renders the identity provider's pages: server-side
// html/template pages in the GOV.UK Frontend style, their view models, the
// standard wordings of journey-ending messages, and the static assets
// (GOV.UK Frontend compiled with a non-GDS font, plus app.js) embedded with
// embed.FS so the binary needs no Node.
//
// Contract with handlers: each page (Page* constants) has one view model
// (a struct embedding Page) and one template file under templates/pages.
// Button and field labels that the council's published guide names ('Sign
// In', 'Sign up now', 'Send verification code', 'Verification code',
// 'Verify code', 'Continue', 'Create', 'Call Me', 'Send Code') keep that
// exact wording here. Form field names are the Field* constants. Every
// form posts (method=post, novalidate) and works without JavaScript; no
// page carries inline script or style, so a strict Content-Security-Policy
// (script-src 'self'; style-src 'self') holds.
//
// New parses and test-executes every template, so a broken template stops
// the server at start. Render writes a whole page or a plain 500, never
// half a page. Assets serves /assets/ with cache headers keyed to content
// hashes.
//
// The built assets in static/ come from build/build.sh (npm govuk-frontend
// and sass, pinned in build/package.json) and are committed.
//
// ui holds no business rules: it must not import store, factors or any
// idp/* package; handlers fill the view models.
package ui
