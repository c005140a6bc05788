// Package provider is the OpenID Connect provider: discovery, JWKS, the
// authorization, token, userinfo, introspection, revocation and end-session
// endpoints, the IdP single-sign-on session, client registration rules and
// signing-key rotation.
//
// It is the only package that imports github.com/zitadel/oidc/v3/pkg/op; the
// library's types never leave it. The login pages talk to it through
// LoginRequest, ResumeSession, Complete, SessionUser and RevokeUserTokens.
//
// Where state lives:
//   - durable store: clients, signing keys (private parts sealed with AES-GCM
//     under the key-encryption key), refresh tokens (SHA-256 of the value only);
//   - ephemeral store: auth requests, authorization codes (taken atomically,
//     so each is redeemed once), opaque access tokens, IdP sessions and the
//     revocation markers that invalidate access tokens early.
//
// Nothing here renders the login journey or sends messages: it must not
// import idp/web, idp/journey, factors or any store backend.
package provider
