// Package postgres is the production durable backend: store.Durable on
// PostgreSQL through a pgx v5 connection pool.
//
// It owns the PostgreSQL schema (numbered SQL files in migrations/, embedded and
// applied by Migrate under an advisory lock so that several processes may start
// at once) and the mapping of PostgreSQL errors to store.ErrNotFound and
// store.ErrConflict. Every compare-and-set (refresh token rotation, login failure
// counts, counters) is a single conditional statement or one transaction, so it
// is safe with any number of idp processes sharing the database.
//
// It must not import net/http, the OIDC library, other backends, or anything
// under idp/.
package postgres
