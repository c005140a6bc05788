// Package memory is the in-process store.Ephemeral used in embedded mode and in
// tests: journeys, auth requests, authorization codes, sessions, rate-limit
// counters and capped lists (the dev inbox) kept in a map behind a mutex, each with a TTL checked on every read and
// swept by a janitor goroutine. State is lost on restart and is not shared between
// processes, so production deployments with more than one idp process use
// store/redis. It passes the same contract suite (storetest.RunEphemeral).
//
// It must not import net/http, any database or Redis driver, or any idp package
// other than store.
package memory
