// Package deploy holds how the service is run outside `go run`: the
// docker compose notes, an example .env, the clients file the compose stack
// registers, and a Kubernetes sketch. Its Go code is only the tests that
// check docker-compose.yml and the Dockerfile against the configuration
// the programs actually accept (Docker itself is not needed to run them),
// that every build and test script names the Go toolchain of go.mod, and
// that every test the OWASP ASVS table of SECURITY.md cites exists.
//
// Nothing imports this package.
package deploy
