// Package webtest is the browser that end-to-end tests share: a headless Chromium
// (Debian's chromium package) driven by chromedp, which finds fields and buttons by
// their visible labels as a person does, opens a second tab on the same cookies,
// waits for a page that moves on by itself, and saves a PNG screenshot of each page
// under the test's artifact directory (go test -artifacts keeps them).
//
// Without chromium a test is skipped, unless IDP_TEST_REQUIRE_SERVICES=1 (the test
// script sets it), when it fails.
//
// It is imported only by tests; it imports nothing of the idp. Tests that drive
// the idp over plain HTTP (most end-to-end tests, the fault suite) and the load
// driver use its subpackage sim instead: a simulated browser, the dev inbox
// client, the relying party and the test clock.
package webtest
