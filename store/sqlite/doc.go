// Package sqlite is the embedded durable backend: store.Durable on a single SQLite
// file through the pure-Go modernc.org/sqlite driver (no cgo).
//
// It owns the SQLite schema (numbered SQL files in migrations/, embedded and
// applied by Migrate) and the mapping of SQLite errors to store.ErrNotFound and
// store.ErrConflict. The database runs in WAL mode; every write goes through one
// connection that begins its transactions IMMEDIATE, so writers in one process
// queue instead of failing with SQLITE_BUSY, and writers in other processes wait
// up to the busy timeout. Reads use a separate pool of read-only connections.
//
// It must not import net/http, the OIDC library, other backends, or anything
// under idp/.
package sqlite
