// Command idp is the identity provider's one binary. With no subcommand it serves;
// `idp migrate` applies database migrations; `idp version` prints the build.
// Settings come from IDP_... environment variables or the matching flags
// (`idp serve -h` lists them).
//
// It is wiring only: configuration, logger, dispatch. Everything it runs lives in
// idp/app and the packages that mounts.
package main
