package main

import (
	"net/http"

	"github.com/councilforms/idp/idp/webtest/sim"
)

// maxBody bounds what the driver reads of one response.
const maxBody = sim.MaxBody

// browser is one simulated person's web browser (package sim, which the
// end-to-end tests and the fault suite share): its own cookie jar, redirects
// followed, forms posted with the headers a browser sends, stopping at the
// relying party's redirect URI. Labels are compared ignoring case, as the
// guide writes them ('verify code' for 'Verify code').
type browser = sim.Browser

// newBrowser returns a browser with an empty cookie jar that shares transport
// (and so its connection pool) with every other simulated browser.
func newBrowser(transport http.RoundTripper, issuer, redirectURI string) (*browser, error) {
	b, err := sim.NewBrowser(issuer, redirectURI, sim.Options{Transport: transport})
	if err != nil {
		return nil, err
	}
	b.FoldLabels = true
	b.MainOnly = true // every form, heading and error of the idp is in <main>
	b.Header.Set("Accept", "text/html,application/xhtml+xml")
	b.Header.Set("User-Agent", userAgent)
	return b, nil
}
