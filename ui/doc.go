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
// Words: every word a person reads comes from the message catalogue,
// locales/en.txt and locales/cy.txt (format and plural rules: package
// ui/locale). Each page is parsed once per language; Page.Lang picks one
// (empty is English) and sets <html lang>. To add a string:
//
//  1. add `page.what = English words` to locales/en.txt, under its page, and
//     the same key with the Welsh to locales/cy.txt (for a value that
//     depends on a number, key.one and key.other, looked up with "count");
//  2. use it in a template: {{t "page.what"}}, or with arguments
//     {{t "sms-code.expires" "count" .ValidMinutes}} for "{count} minutes";
//     in a component's parameters: (dict "Text" (t "page.what"));
//  3. handlers putting words into a model (errors, notices) use
//     Templates.T(lang, key, args...);
//  4. run go test ./ui: TestCatalogueIsComplete fails when a key is missing
//     from either language or a template names a key neither has, and New
//     refuses to start on the same faults.
//
// Page.LanguageURL shows the language toggle ('English | Cymraeg'); the
// handler behind it keeps the journey. Options.HeaderColour and Options.Logo
// brand the header through Templates.Branding (/branding/), a stylesheet and
// an image served by the idp, so the Content-Security-Policy stays strict.
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
