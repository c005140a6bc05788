// Package web serves the login pages: it drives the journeys of idp/journey
// from HTTP requests and renders them with the ui templates.
//
// One journey per browser: its State lives in the ephemeral store under
// "journey:<id>" (TTL Config.JourneyTTL, compare-and-set on its version) and the
// id in the __Host-idp_journey cookie. Every request loads the state, turns the
// form post into a journey.Event, runs Machine.Drive with the answers from the
// durable store (accounts, password checks and lockout, send budgets, runs of
// wrong codes across journeys), saves the new state with compare-and-set (a
// double click, a back button or a second tab loses and is shown the step
// reached), then performs the effects: messages through the factors senders,
// phone and password changes, token revocation, and at the end
// provider.Complete, which sends the browser back to the form app.
//
// Routes (mounted by idp/app):
//
//	GET  /login?authRequestID=ID   from the provider (which may serve it in its
//	                               own /authorize/continue response): a new
//	                               journey's first page, or resume the journey
//	GET  /login                    the page of the step reached
//	GET  /login/{link}             links that move the journey (sign-up, forgot
//	                               password, back, change e-mail, change number)
//	POST /login/{action}           form posts (one per kind of event)
//	GET  /login/status             JSON {"done":bool} for the call-waiting page
//	GET  /account                  the signed-in person's details
//	GET  /account/change-phone     starts a change of phone number
//	GET  /logout                   asks "Do you want to sign out?" (/end_session
//	                               without a matching hint; an old link or bookmark)
//	POST /logout                   'Sign out' (the question's, or the header's form
//	                               on every signed-in page): ends the IdP session,
//	                               then the post-logout URI or "You have signed out"
//
// After a successful post the browser is redirected (303) to GET /login, so a
// refresh never posts twice; a post with mistakes renders the page with them, and
// 'Continue' on a call-waiting page while the call has reported nothing renders
// it again saying so.
//
// Call outcomes (Handler implements factors.CallOutcomes) are recorded under the
// call's id; the waiting page applies them when it continues (its 'Continue',
// or the script's submit once its poll of /login/status says the call ended) or
// is reloaded, since completing the sign-in needs the browser. No page reloads
// itself.
//
// Where things are:
//
//	web.go        Handler, its Config, the routes
//	handlers.go   one handler per route, turning requests into events
//	journeys.go   loading and saving a browser's journey (the cookie, the key)
//	apply.go      driving the journey: Drive, save, then effects; double clicks
//	queries.go    answering the journey's queries (password check, create, budgets)
//	migration.go  the first password of an imported account (B2C, or a new one)
//	effects.go    performing its effects (durable writes, then sends)
//	calls.go      call records and outcomes
//	codeguesses.go, device.go  limits on wrong codes; the device cookie
//	account.go, render.go, metrics.go  the account pages, rendering, metrics
//
// web must not import a store backend, the OIDC library or a message provider:
// it gets them as interfaces.
package web
