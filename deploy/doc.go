// Package deploy holds how the service is run outside `go run`: the
// docker compose notes, an example .env, the clients file the compose stack
// registers, a Kubernetes sketch, the Prometheus alert rules and Grafana
// dashboard (monitoring/) and the operators' runbook (RUNBOOK.md). Its Go
// code is only the tests that check docker-compose.yml and the Dockerfile against the configuration
// the programs actually accept (Docker itself is not needed to run them),
// that every build and test script names the Go toolchain of go.mod, that
// every test the OWASP ASVS table of SECURITY.md cites exists, that images are
// tagged with a version and built with what `idp version` needs, and that
// database migrations only add (RUNBOOK.md: upgrade and rollback). The
// monitoring files (monitoring/) are checked against a running idp by
// idp/app's TestMonitoringQueriesServedMetrics, the runbook's restore by
// idp/faults' TestRestoredBackupSignsExistingPersonIn.
//
// Nothing imports this package.
package deploy
