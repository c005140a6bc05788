// Package admin is the operators' console: server-rendered pages (from ui,
// GOV.UK Frontend, working without JavaScript) on a listener of their own
// (IDP_ADMIN_ADDR, default localhost:8082, never the public one; IDP_ADMIN_URL
// is the URL browsers see). idp/app builds it (App.AdminHandler) and Serve
// listens on it beside the public and metrics listeners.
//
// # Signing in
//
// The console is an OpenID Connect client of the idp itself, the built-in
// confidential client ClientID (registered by idp/app beside the clients of
// IDP_CLIENTS_FILE: Client, ClientSecret). Operators sign in through the
// normal journey, phone check included (signin.go: code flow with PKCE S256,
// state bound to the browser by LoginCookie, nonce; the ID token's issuer,
// audience and nonce are checked). The browser goes to the public issuer;
// discovery, the token request and the keys are served by the idp's handler
// in process (inprocess.go), so the console works where the public address
// is an ingress. The console session (session.go) is a random id in the
// SessionCookie (__Host-, Secure, HttpOnly, SameSite=Lax) and a record in the
// ephemeral store (Redis across instances). POST /sign-out ends it and signs
// out at the idp (RP-initiated logout).
//
// # Roles
//
// RoleSupport, RoleClients, RoleAuditor and RoleOwner (all of them, and
// granting), in the store's admin_roles table (store.AdminRoles), granted
// with `idp admins grant EMAIL ROLE` or on the Operators page. They are read
// on every request: a revoked role stops working at once. A signed-in person
// with no role, or without the role a page needs, gets a 403 page saying so.
//
// # Adding a page
//
// Each area of the console is a file of this package that adds itself to
// areas from an init, and mounts its pages with handle; no other file needs
// to change:
//
//	func init() { areas = append(areas, (*Console).formAppRoutes) }
//
//	func (c *Console) formAppRoutes() {
//		c.navPage("Form apps", "/form-apps", RoleClients, "Add, change and remove the form apps that sign people in.")
//		c.handle("GET /form-apps", RoleClients, c.formApps)
//		c.handle("GET /form-apps/{id}/remove", RoleClients, c.removeFormAppConfirm)
//		c.handle("POST /form-apps/{id}/remove", RoleClients, c.removeFormApp)
//	}
//
// The framework a page handler uses:
//
//   - c.handle(pattern, role, handler) mounts a page (a ServeMux pattern with
//     its method) that needs role (RoleAny: any role; owners open every
//     page). The handler runs only for a signed-in operator holding it.
//   - c.navPage(title, path, role, description) shows the page in the header
//     navigation and on the home page, to operators holding role.
//   - operatorFrom(r) is the signed-in *Operator: UserID (their sub), Email,
//     Roles (read on this request), AuthTime; Has(role); Name() (how audit
//     events name them, store.ConsoleOperator).
//   - c.render(w, r, status, page, &model) renders a ui page for the
//     operator: the header names them and shows the navigation their roles
//     allow. page is a ui.PageAdmin... name, model a pointer to its ui model
//     (which embeds ui.Page). c.message(w, r, status, title, paragraphs...)
//     renders a message, c.unavailable(w, r, err) the 503 page of a failed
//     dependency (nothing changed: say so only when true).
//   - c.audit(r, store.AuditEvent{Kind, UserID, ClientID, Detail}, reason)
//     records an action with the operator (email and sub), the client
//     address, the time and the reason.
//   - reasonOf(r, "removing the form app") reads the required Reason field
//     (ui.FieldReason) of a confirmation form, or the field error to show.
//   - c.requireFresh(w, r) bool: destructive actions ask for a sign-in within
//     FreshFor (5 minutes) first. When it returns false it has sent the
//     browser to sign in again (max_age=300) and back to the GET of this
//     path, and the handler returns. Call it in the confirmation page's GET
//     (so the operator signs in before typing a reason) and again in the
//     POST that acts (a POST is never replayed: they come back to the
//     confirmation page).
//
// Every destructive action has a GET confirmation page (ui.PageAdminConfirm:
// summary, warning, the required Reason field, the button) and a POST at the
// same path that acts. The console handler is wrapped in idp/server's
// middleware, so a cross-origin POST is refused; cookies are SameSite=Lax.
//
// Tests: idp/app's console harness (console_harness_test.go: startConsole,
// signedUp with roles, signInToConsole through the journey) drives the console
// as a browser does. TestConsoleSignInAndRoles walks the owner's menu: every
// page added with navPage is checked to answer 403 to a support operator
// unless it is RoleSupport's, so a new area is covered by it at once.
//
// Pages: templates in ui/templates/admin/<name>.html, models in a ui file of
// the area's own (ui/admin.go holds the framework's and the people, audit and
// operators pages; an area adds ui/admin_<area>.go registering its pages with
// addPages from an init), and samples in a ui test file of its own appended to
// sampleSets from an init (ui/admin_samples_test.go), then
// `go test ./ui -update`.
//
// Routes of this package: / (home), /sign-in, /callback, /sign-out, /people
// (RoleSupport), /audit (RoleAuditor), /operators (RoleOwner); /form-apps,
// /signing-keys and /costs (RoleClients, RoleClients, RoleAuditor) are the
// areas of form apps, signing keys and cost.
package admin
