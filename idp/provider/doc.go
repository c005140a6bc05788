// Package provider is the OpenID Connect provider: discovery, JWKS, the
// authorization, token, userinfo, introspection, revocation and end-session
// endpoints, the IdP single-sign-on session, client registration rules and
// signing-key rotation.
//
// It is the only package that imports github.com/zitadel/oidc/v3/pkg/op; the
// library's types never leave it.
//
// Hand-off with the login pages:
//
//	form app --/authorize--> provider: stores the auth request
//	    --> /authorize/continue: an IdP session that satisfies prompt/max_age
//	        completes it at once; prompt=none without one returns login_required
//	    --> LoginPath?authRequestID=ID (served in the same response when
//	        Config.Login is set): the pages call LoginRequest(ID), run
//	        the journey, then Complete(w, r, ID, Authentication) and
//	        Redirect(w, r, url) with the URL it returns
//	    --> /authorize/callback (served in that same response by Redirect and
//	        by the continue step) --> form app redirect URI with code, state, iss
//
// The pages may also call ResumeSession (same rules as the continue step),
// SessionUser (who is signed in, for account pages) and RevokeUserTokens
// (after a password reset or change).
//
// Where state lives:
//   - durable store: clients (secrets as HMAC-SHA-256 under a key derived
//     from the key-encryption key), signing keys (private parts sealed with
//     AES-GCM under the key-encryption key), refresh tokens (SHA-256 of the
//     value only; a rotation's successor is derived from the presented token,
//     so that a retry can be given it again: refresh.go), counters of failed
//     client authentications (limits.ClientSecrets), and the outbox of
//     back-channel logout notices (backchannel.go);
//   - ephemeral store: auth requests, authorization codes (taken atomically,
//     so each is redeemed once), opaque access tokens, IdP sessions with
//     their ids and form apps (sessions.go), and the markers that revoke
//     access tokens and sessions early. Key names: store/keys.go.
//
// Where things are, one idea per file:
//
//	provider.go      Config, New, the routes
//	discovery.go     discovery document and JWKS
//	browser.go       the authorization hand-off, error and outage pages, per-request context
//	authrequest.go   auth requests, codes, grant records
//	tokens.go        access and refresh token issue, access-token checks
//	refresh.go       the refresh grant's rotation, retries and reuse
//	claims.go        claims, acr, whether an account may still be served
//	revocation.go    revocation markers, RP-initiated logout, RFC 7009
//	session.go       the login pages' API and the session cookie
//	sessions.go      session ids (sid), ending a session everywhere
//	backchannel.go   back-channel logout: notices, logout tokens, delivery
//	endsession.go    /end_session and the logout question
//	errors.go        error answers strict clients accept
//	clients.go       clients as the library sees them, registration rules
//	clientadmin.go   add, update, rotate secrets, disable, the clients file, the one list of form apps
//	clientauth.go    client lookup and secret check
//	clientsecrets.go, clientthrottle.go  secret hashes, limits on wrong secrets
//	keys.go          the keyring: one signing key per algorithm, rotation (scheduled and emergency), sealing
//	keyadmin.go      idp keys list and rotate [--emergency], the console's signing keys page
//	keyadapters.go   keys as the library's types
//	binding.go       the browser binding of a sign-in; cors.go: CORS
//
// Cross-origin reads (cors.go): only discovery, keys, token, userinfo and
// revocation answer CORS, only for registered clients' redirect-URI origins,
// never with credentials.
//
// Nothing here renders the login journey or sends messages: it must not
// import idp/web, idp/journey, factors, ui or any store backend.
package provider
