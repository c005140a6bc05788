// Package password owns how account passwords (and client secrets) are hashed,
// verified and judged: argon2id hashes in PHC string form with a bound on how many
// run at once, a constant-cost dummy verification for unknown accounts, and the
// password policy (length limits and a blocklist of common passwords) with
// messages a person can act on.
//
// It never logs or returns a password, and never echoes a stored hash in an error.
// It must not import net/http, store, or any backend driver: callers pass strings in
// and store the strings it returns.
package password
