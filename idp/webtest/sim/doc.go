// Package sim is the simulated side of a sign-in for code that drives the idp
// over plain HTTP, without Chromium: a person's browser (a cookie jar, redirects
// followed, pages read with golang.org/x/net/html, forms submitted by their
// buttons' visible labels), the dev inbox client that reads their codes and
// answers their calls, the form app's relying party (PKCE, state, nonce, the
// RFC 9207 iss check, ID token verification), and the clock tests move.
//
// The end-to-end tests (idp/app), the fault suite (idp/faults) and the load
// driver (cmd/idp-bench) share it, so a page contract (a field name, a button
// label) is read the same way everywhere. Its methods return errors rather than
// failing a test, so that a load generator can count what went wrong.
//
// It imports nothing of the idp; the real browser tests use package webtest.
package sim
