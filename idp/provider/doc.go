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
//     client authentications (limits.ClientSecrets);
//   - ephemeral store: auth requests, authorization codes (taken atomically,
//     so each is redeemed once), opaque access tokens, IdP sessions and the
//     markers that revoke access tokens and sessions early.
//
// Cross-origin reads (cors.go): only discovery, keys, token, userinfo and
// revocation answer CORS, only for registered clients' redirect-URI origins,
// never with credentials.
//
// Nothing here renders the login journey or sends messages: it must not
// import idp/web, idp/journey, factors, ui or any store backend.
package provider
