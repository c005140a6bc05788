// Package faults holds the fault-injection suite: the idp as it is deployed, broken
// under load, and what a person and a form app see. The package is tests only (this
// file is all it compiles to); `make test` runs it, `go test -short` leaves it out.
//
// A test builds a Cluster from real parts, every one its own and thrown away:
//
//	person / form app -> Proxy (round robin, keep-alive) -> Node 1..n: `idp serve`
//	                                                           |- Postgres (initdb + pg_ctl, free port)
//	                                                           `- Redis (redis-server, free port)
//
// The parts:
//   - the idp binary is built once per `go test` run (go build into a temporary
//     directory) and each Node is a process of it, so SIGTERM, kill -9 and restarts
//     are the operating system's, not a goroutine's;
//   - PostgreSQL and Redis are started by the test on free ports in a temporary
//     directory (as root, PostgreSQL runs as the postgres user, as .ci/test does), so
//     they can be stopped, started and frozen (SIGSTOP) without touching the services
//     the rest of the tests share;
//   - the Proxy behaves like a load balancer in front of the nodes: it keeps
//     connections to them alive, with a millisecond of latency on reads as across a
//     network; it takes a node out of rotation while its /readyz is not 200 (as a
//     Kubernetes Service does) and for 3 s after a connection error, and retries only
//     a request the node cannot have received (the connection was never made), as
//     nginx does; it never resends a POST that was sent. Without the readiness check,
//     a draining node still loses a POST now and then when its listener closes with
//     connections in its queue: the drain exists so that the balancer stops first;
//   - a Person is a cookie-jar browser that reads pages and presses buttons by their
//     visible labels, and is also the form app: it starts at /authorize and redeems
//     the code at the token endpoint, all through the Proxy. Codes are read from the
//     dev inbox through the Proxy too: it is in Redis, so every node shows every code.
//
// Helpers for new scenarios: Cluster.Postgres and Cluster.Redis (Stop, Start, Pause,
// Resume), Node (Terminate, Kill, Wait, Start, Restart, Ready, Get, Log),
// Cluster.Person (SignUp and the steps it is made of: StartSignIn, Press, Follow,
// Expect, LatestCode, Exchange), Cluster.StartLoad (steady traffic through the proxy,
// every failed request kept for the report).
//
// Scenarios: TestRollingRestartFailsNoRequest, TestDevInboxIsOneForEveryNode,
// TestSIGTERMDrainsBeforeStopping,
// TestRedisStallIsAnsweredNotHung, TestPostgresStallIsAnsweredNotHung,
// TestRestoredBackupSignsExistingPersonIn (deploy/RUNBOOK.md's pg_dump and
// pg_restore, then a sign-in on the restored copy), and
// TestHarnessStopsAndStartsEverything for the helpers themselves.
// IDP_FAULTS_RESTART_ROUNDS=N restarts every node N times instead of twice.
//
// Time is used only as a bound: a scenario fails when something hangs past a generous
// deadline, never because it was slower than a tight one (speed is measured by
// benchmarks).
package faults
