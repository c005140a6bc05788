// Package app owns the wiring of a running idp: it opens the durable and ephemeral
// stores that the configuration selects (a plain switch, no registration), migrates
// the database, loads or creates the key-encryption key in embedded mode, and builds
// the HTTP handler with every route mounted in one place (routes.go).
//
// Backend choice:
//
//	IDP_DATABASE_URL postgres://... -> store/postgres    sqlite:PATH (default) -> store/sqlite
//	IDP_REDIS_URL    redis://...    -> store/redis       empty (default)       -> store/memory
//
// Migrations run automatically at start on both databases: the SQLite file is the
// process's own, and PostgreSQL migrations serialise on an advisory lock, so several
// replicas starting together apply each migration once. `idp migrate` runs the same
// migrations without serving, for deployments that migrate before rolling out.
//
// It is the only package that imports the store backends. It holds no business
// rules: those live in the packages it mounts and configures. It hands the journeys
// the phone rules (factors/phone.Rules, from IDP_PHONE_COUNTRIES and IDP_DEV) and the
// new-password rule (idp/password.Check), and puts idp/sendguard (the same phone
// rules and the daily ceiling of idp/limits) in front of every text and call
// (delivery.go).
package app
