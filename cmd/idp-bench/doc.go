// Command idp-bench is the load driver of BENCHMARKS.md. It runs simulated
// people against an idp, each acting as a browser would (cookie jar,
// redirects followed, forms parsed and posted by their field names and button
// labels), and a relying party (golang.org/x/oauth2, PKCE S256) that redeems
// codes and refresh tokens, then reports throughput, p50/p95/p99 latency and
// errors per scenario and exits non-zero on any error.
//
// Scenarios: sign-up of every simulated person (setup), the complete sign-in
// journey (authorize, password, SMS code read from the dev inbox, code
// exchange, userinfo), authorization with an IdP session, code exchange,
// refresh-token grants with rotation (and one reuse check), discovery, JWKS
// and userinfo. In the same run it measures the limit of a password sign-in,
// raw argon2id hashes per second with the server's parameters on the same
// cores, and where it can: server RSS and CPU per operation (when it started
// the server or is given its pid), Redis memory per in-flight journey, and,
// with -peer, the same discovery, JWKS, code exchange, refresh and userinfo
// scenarios against peers installed from the registries into a temporary
// directory (the zitadel/oidc example OP and oidc-provider, in memory; Ory
// Hydra, built from the module proxy, on a PostgreSQL database of its own,
// with the driver as its login and consent app), reported side by side as
// ratios.
//
// By default it builds ./cmd/idp and starts it in dev mode on a free port
// (SQLite, or PostgreSQL and Redis with -postgres and -redis), registering
// its own public client "idp-bench" through a clients file, because the demo
// client may not ask for offline_access. -issuer targets a running idp in dev
// mode instead (register the client there with `idp clients add`).
//
// It is a tool, not part of the server: it may import idp/app (to serve the
// idp in-process), idp/config, idp/password and ui (for the fixed field
// names), and must not be imported by anything.
package main
