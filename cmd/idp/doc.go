// Command idp is the identity provider's one binary. With no subcommand it serves
// (in embedded mode also the demo form app, see demo.go); `idp migrate` applies
// database migrations; `idp clients`, `idp keys`, `idp users` and `idp outbox` are
// the administrators' tools against the database of IDP_DATABASE_URL;
// `idp healthcheck` checks a running server (for images without curl);
// `idp version` prints the build. Settings come from IDP_... environment variables
// or the matching flags (`idp help` lists them).
//
// It is wiring only: configuration, logger, dispatch. Everything it runs lives in
// idp/app and the packages that mounts.
package main
