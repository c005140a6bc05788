package app_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/councilforms/idp/idp/server"
)

// routeLabels are the route label values of idp_http_requests_total in a scrape.
func routeLabels(metrics string) []string {
	re := regexp.MustCompile(`(?m)^idp_http_requests_total\{[^}]*route="([^"]*)"`)
	var routes []string
	for _, m := range re.FindAllStringSubmatch(metrics, -1) {
		if !slices.Contains(routes, m[1]) {
			routes = append(routes, m[1])
		}
	}
	slices.Sort(routes)
	return routes
}

// Issue 18 item 5 (operators' finding 11): every OpenID Connect endpoint was counted
// as route="/". Each is its own route now, the login pages by their route pattern,
// and any unknown path is one label, so the label's values stay few whatever is
// requested.
func TestMetricsNameEachEndpoint(t *testing.T) {
	d := startIdP(t, embedded, nil)
	b := d.browser()
	p := newPerson(t, true)
	tok := signUp(d, b, p) // discovery, /authorize, /authorize/continue, /login..., /oauth/token

	bearer := http.Header{"Authorization": {"Bearer " + tok.AccessToken}}
	if status, _, body := fetch(t, "GET", d.issuer+"/userinfo", bearer, ""); status != http.StatusOK {
		t.Fatalf("GET /userinfo: %d %s", status, body)
	}
	fetch(t, "GET", d.issuer+"/keys", nil, "")
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	client := url.Values{"client_id": {d.rp.ClientID}, "client_secret": {d.rp.ClientSecret}}
	introspect := url.Values{"token": {tok.AccessToken}}
	for k, v := range client {
		introspect[k] = v
	}
	if status, _, body := fetch(t, "POST", d.issuer+"/oauth/introspect", form, introspect.Encode()); status != http.StatusOK {
		t.Fatalf("POST /oauth/introspect: %d %s", status, body)
	}
	revoke := url.Values{"token": {tok.RefreshToken}}
	for k, v := range client {
		revoke[k] = v
	}
	if status, _, body := fetch(t, "POST", d.issuer+"/revoke", form, revoke.Encode()); status != http.StatusOK {
		t.Fatalf("POST /revoke: %d %s", status, body)
	}
	fetch(t, "GET", d.issuer+"/end_session", nil, "")
	// Unknown paths, one with an id in it: one label for all of them.
	fetch(t, "GET", d.issuer+"/no-such-page", nil, "")
	fetch(t, "GET", d.issuer+"/users/0f8e1c3a-5b7d-4c2e-9a1b-3d5e7f9a1c2e/delete", nil, "")

	metrics := d.metrics()
	routes := routeLabels(metrics)
	for _, want := range []string{
		"/.well-known/openid-configuration", "/authorize", "/authorize/continue", "/oauth/token",
		"/userinfo", "/keys", "/oauth/introspect", "/revoke", "/end_session",
		"/login", "/login/{action}", "/login/{link}", "/dev/inbox.json",
		server.OtherRoute,
	} {
		if !slices.Contains(routes, want) {
			t.Errorf("no requests counted for route %q; routes: %q", want, routes)
		}
	}
	if slices.Contains(routes, "/") {
		t.Errorf(`a route="/" is back: %q`, routes)
	}
	// Only patterns: no raw path (an id, an email address, a query) is ever a label.
	pattern := regexp.MustCompile(`^(/([A-Za-z0-9._-]+|\{[a-z$]*\}))*/?$`)
	for _, r := range routes {
		if r != server.OtherRoute && !pattern.MatchString(r) {
			t.Errorf("route label %q is not a route pattern", r)
		}
		if strings.Contains(r, "0f8e1c3a") || strings.Contains(r, "no-such-page") || strings.Contains(strings.ToLower(r), "example.gov.uk") {
			t.Errorf("route label %q holds a raw path", r)
		}
	}
	if len(routes) > 40 {
		t.Errorf("%d route labels, want a bounded few: %q", len(routes), routes)
	}
	if !strings.Contains(metrics, `route="/oauth/token",status="200"`) {
		t.Errorf("token requests not counted by status:\n%s", grepLines(metrics, `route="/oauth/token"`))
	}
	build := server.Build()
	if want := `idp_build_info{goversion="` + build.GoVersion + `",revision="` + build.Revision + `",version="` + build.Version + `"} 1`; !strings.Contains(metrics, want) {
		t.Errorf("metrics lack %s:\n%s", want, grepLines(metrics, "idp_build_info"))
	}
}

// The outbox's work that is not a message to a person (back-channel logout
// notices to form apps, the end of an erased account's sessions) is counted
// as outbox jobs, by kind and outcome; the message metrics count emails,
// texts and calls only (TestDeliverySMTPAndVonage).
func TestMetricsKeepOutboxJobsApartFromMessages(t *testing.T) {
	d := startIdP(t, embedded, nil)
	families := scrapedFamilies(t, d.metrics())
	scrape := d.metrics()
	jobs := []string{"backchannel_logout", "end_sessions"}
	for _, name := range []string{"idp_messages_sent_total", "idp_messages_failed_total", "idp_message_send_seconds_count"} {
		for _, kind := range jobs {
			if regexp.MustCompile(`(?m)^` + name + `\{[^}]*channel="` + kind + `"`).MatchString(scrape) {
				t.Errorf("%s counts %s as a message", name, kind)
			}
		}
	}
	if labels := families["idp_outbox_jobs_total"]; !slices.Contains(labels, "kind") || !slices.Contains(labels, "outcome") {
		t.Fatalf("idp_outbox_jobs_total has labels %q, want kind and outcome", labels)
	}
	for _, kind := range jobs {
		for _, outcome := range []string{"done", "refused", "expired"} {
			if !regexp.MustCompile(`(?m)^idp_outbox_jobs_total\{[^}]*kind="` + kind + `"[^}]*outcome="` + outcome + `"`).MatchString(scrape) {
				t.Errorf("no idp_outbox_jobs_total{kind=%q,outcome=%q} at zero", kind, outcome)
			}
		}
	}
}
