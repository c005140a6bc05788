// Package limits is the one home of every rule about how often something may
// happen: wrong passwords (the account lockout, the known browser's own budget,
// the throttle on a network and on a journey), wrong entries of a code, resends,
// the budgets on codes and calls per recipient, per client network and per
// account, the daily ceiling of texts and calls and its shares, the countries
// numbers may be in, and guesses at client secrets. Each rule has its default,
// its setting (an IDP_ variable, or none), its window and the reason for it, and
// Rules lists them all; the README's "Limits" table is generated from Rules and
// checked against it by a test.
//
// Defaults are defined here once. idp/config takes its defaults from here,
// idp/journey its policy, idp/web the budgets it asks the store about,
// idp/provider the client-secret throttle and idp/app the daily ceiling; none of
// them keeps a number of its own. NetworkKey is the one definition of a client
// network (an IPv4 address, an IPv6 /64).
//
// The package is pure: it holds rules and the arithmetic of their windows
// (Sliding, Fixed, WindowLeft, Ceiling), and answers questions about counts that
// the callers read from the stores, as the journey's queries are answered. It
// does no I/O and imports only the standard library, never net/http,
// database/sql, a store backend, pgx or go-redis (imports_test.go at the module root checks).
//
// # Adding rules
//
// A file holds the rules of one subject and a function that describes them for
// Rules: lockoutRules (lockout.go), passwordRules (passwords.go), journeyRules
// (journeys.go), sendRules (sends.go), clientSecretRules (clientsecrets.go). Rules
// names each of these functions in one list, so a new file adds its function
// there, and TestRules asks for a table test of each new rule in ruleTests. Then
// go test ./idp/limits -update regenerates the README's table.
package limits
