// Command testsummary reads `go test -json` on its standard input and writes what
// `go test` would have written without -json (a package's "ok" line; a failing
// test's output and its "--- FAIL" line; build errors), and each skipped test's
// "--- SKIP" line with its reason, then one line counting the tests and subtests
// that passed, failed and were skipped. `make test` (.ci/test)
// pipes its runs through it so that the last line of the run is the count.
//
// With -v every line of output is passed through, as `go test -v` writes it. With
// -tally FILE the counts are added to those already in FILE and written back, so
// that several runs end with one line for them all. It exits with status 1 when a
// test, a package or a build failed, 0 otherwise.
//
// It imports only the standard library.
package main
