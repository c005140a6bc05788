// Package formapp is a demo form application, 'Make a social care referral',
// that uses the identity provider the way every council form should: as a
// plain OpenID Connect relying party, through github.com/coreos/go-oidc/v3
// and golang.org/x/oauth2 only (authorization code flow with PKCE S256,
// state and nonce; RP-initiated logout with id_token_hint; back-channel
// logout).
//
// What it shows integrators:
//   - page one of the form can be filled in before signing in; continuing
//     shows the council guide's message ('In order to progress with this
//     form you must either log in or complete a simple registration') and a
//     'Login or Register' button;
//   - the answers typed so far are kept on the server across the redirect,
//     and the person comes back to the page they were going to;
//   - the header then shows 'Signed in as <name>' from the ID token, and the
//     referrer's name and email are prefilled from its claims;
//   - 'Sign out' ends this app's session and the provider's;
//   - signing out anywhere else ends this app's session too: the provider
//     posts a logout token to POST /backchannel-logout (Back-Channel Logout
//     1.0; Config.BackchannelLogoutURI is the URI to register), which
//     VerifyLogoutToken checks rule by rule (section 2.6), a replay guard
//     refuses a jti seen in the last MaxLogoutTokenAge, and every session
//     holding that sid (the ID token's, kept at sign-in), or of that sub when
//     the token has no sid, ends (a session whose ID token had no sid ends by
//     the token's sub); the person's next visit signs in again.
//     The endpoint is server to server, so it alone skips the cross-origin
//     check; it answers 200 (Cache-Control: no-store) or 400 with a JSON
//     invalid_request error naming the rule that failed, and 503 while the
//     provider cannot be discovered.
//
// Discovery is lazy: New never contacts the provider, and a failed discovery
// is retried on a later request, so the app may start before the provider
// (or in the same process, a moment earlier).
//
// This is a demo: sessions (answers, ID token, the sign-in in progress) live
// in an in-memory map keyed by a random id in an HttpOnly, SameSite=Lax
// cookie (Secure and __Host- prefixed over https), with idle expiry. A
// restart forgets them and two replicas would not share them; a real form
// keeps its sessions in a shared store. Submitted referrals are only given a
// reference number.
//
// Pages are GOV.UK Frontend markup in templates/ (embed.FS), parsed and
// executed once at New; the GOV.UK Frontend assets come from ui.Assets.
//
// formapp must not import the provider's internals (idp/..., store,
// factors): it knows the provider only through discovery and the protocol.
// Its only project import is ui, for the static assets.
package formapp
