// Package webtest holds what end-to-end tests share: a headless Chromium driven by
// chromedp that finds fields and buttons by their visible labels and saves a
// screenshot of each page, and the start-up of a complete idp for a test.
//
// It is imported only by tests.
package webtest
