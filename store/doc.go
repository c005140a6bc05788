// Package store owns the domain types that outlive a request (users, clients,
// signing keys, refresh tokens, audit events, counters, runs of failures) and the
// narrow interfaces the rest of the idp uses to keep them: Durable (PostgreSQL in
// store/postgres, SQLite in store/sqlite) and Ephemeral (Redis in store/redis,
// in-process in store/memory). store/storetest holds the contract suite every
// backend passes.
//
// It must not import net/http, the OIDC library, or any backend driver.
package store
