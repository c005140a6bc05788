// Package storetest is the contract every store backend passes: RunDurable for
// store.Durable (PostgreSQL, SQLite) and RunEphemeral for store.Ephemeral (Redis,
// memory), run by each backend's tests. PostgresURL and Redis give a test its own
// database or key prefix on the services the test script provides, and skip only
// when IDP_TEST_REQUIRE_SERVICES is not 1 (it is 1 in CI, so nothing is skipped).
//
// It is imported only by tests and benchmarks.
package storetest
