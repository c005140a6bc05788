package app_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/councilforms/idp/factors/vonage/vonagetest"
	"github.com/councilforms/idp/idp/provider"
)

// Attacks on the idp's narrower surfaces, each over HTTP against the whole app
// (security review findings 7, 12, 15, 16 and 18).

// nonLoopbackListener listens on an address of this machine that is not loopback,
// so that a client connecting to it is seen with a non-loopback peer address, as a
// browser on another machine would be.
func nonLoopbackListener(t *testing.T) net.Listener {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() || ipn.IP.IsMulticast() {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(ipn.IP.String(), "0"))
		if err == nil {
			return ln
		}
	}
	t.Fatalf("this machine has no non-loopback address to listen on (interface addresses %v)", addrs)
	return nil
}

// fetch is a plain client request (no cookie jar); it returns the status, the
// headers and the body.
func fetch(t *testing.T, method, u string, header http.Header, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// Finding 7: the dev inbox gives every code to whoever asks. It answers only
// loopback peers: a browser on another machine (a non-loopback peer address) gets
// nothing, whatever X-Forwarded-For it sends, even from a trusted proxy.
func TestDevInboxAnswersOnlyLoopbackPeers(t *testing.T) {
	d := startIdP(t, embedded, map[string]string{"IDP_TRUSTED_PROXIES": "0.0.0.0/0,::/0"})
	p := newPerson(t, true)
	startSignUp(d.browser(), p.email) // a code is now in the inbox
	if _, code := d.emailCode(p.email); code == "" {
		t.Fatal("no code in the inbox for the loopback client")
	}

	ln := nonLoopbackListener(t)
	remote := &httptest.Server{Listener: ln, Config: &http.Server{Handler: d.app.Handler()}}
	remote.Start()
	t.Cleanup(remote.Close)
	t.Logf("non-loopback peer via %s", remote.URL)

	spoofed := http.Header{"X-Forwarded-For": {"127.0.0.1"}, "X-Real-Ip": {"127.0.0.1"}, "Forwarded": {"for=127.0.0.1"}}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	for _, tc := range []struct {
		method, path string
		header       http.Header
		body         string
	}{
		{"GET", "/dev/inbox.json", nil, ""},
		{"GET", "/dev/inbox.json?to=" + url.QueryEscape(p.email), nil, ""},
		{"GET", "/dev/inbox.json", spoofed, ""},
		{"GET", "/dev/inbox", nil, ""},
		{"POST", "/dev/calls/any-call/keypress", form, "digits=%23"},
		{"POST", "/dev/calls/any-call/hangup", form, ""},
	} {
		status, _, body := fetch(t, tc.method, remote.URL+tc.path, tc.header, tc.body)
		if status != http.StatusForbidden && status != http.StatusNotFound {
			t.Errorf("%s %s from a non-loopback peer (headers %v): %d, want 403 or 404", tc.method, tc.path, tc.header, status)
		}
		if strings.Contains(strings.ToLower(body), strings.ToLower(p.email)) || codeRe.MatchString(body) {
			t.Errorf("%s %s from a non-loopback peer shows a message: %q", tc.method, tc.path, body)
		}
	}
	// The rest of the idp still answers there: only /dev/ is the machine's own.
	if status, _, _ := fetch(t, "GET", remote.URL+"/healthz", nil, ""); status != http.StatusOK {
		t.Errorf("GET /healthz from a non-loopback peer: %d", status)
	}
	if status, _, _ := fetch(t, "GET", d.issuer+"/dev/inbox.json", spoofed, ""); status != http.StatusOK {
		t.Errorf("GET /dev/inbox.json from loopback: %d", status)
	}
}

const evilOrigin = "https://evil.example"

// Finding 12: the library's default CORS reflected any origin, with credentials, on
// every endpoint. Only the endpoints a browser client needs allow CORS, only for the
// origins of registered redirect URIs, and never with credentials: cookies are for
// the idp's own pages, and /authorize and /end_session are navigations, not fetches.
func TestCORSOnlyForRegisteredOriginsWithoutCredentials(t *testing.T) {
	d := startIdP(t, embedded, nil)
	rpOrigin := "https://rp.test" // the origin of rpRedirect, registered by startIdP
	authorize := d.rp.AuthCodeURL("state-1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	token := d.issuer + "/oauth/token"
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"nothing"}, "client_id": {"referral-form"},
		"redirect_uri": {rpRedirect}}.Encode()

	type request struct {
		name, method, url, body string
		header                  http.Header
	}
	withOrigin := func(origin string, h http.Header) http.Header {
		out := http.Header{"Origin": {origin}}
		for k, v := range h {
			out[k] = v
		}
		return out
	}
	urlencoded := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	preflight := func(method string) http.Header {
		return http.Header{"Access-Control-Request-Method": {method}, "Access-Control-Request-Headers": {"authorization,content-type"}}
	}
	browserEndpoints := []request{
		{"token", "POST", token, form, urlencoded},
		{"token preflight", "OPTIONS", token, "", preflight("POST")},
		{"userinfo", "GET", d.issuer + "/userinfo", "", http.Header{"Authorization": {"Bearer nothing"}}},
		{"userinfo preflight", "OPTIONS", d.issuer + "/userinfo", "", preflight("GET")},
		{"keys", "GET", d.issuer + "/keys", "", nil},
		{"discovery", "GET", d.issuer + "/.well-known/openid-configuration", "", nil},
		{"revoke", "POST", d.issuer + "/revoke", "token=nothing&client_id=referral-form", urlencoded},
	}
	navigations := []request{
		{"authorize", "GET", authorize, "", nil},
		{"authorize preflight", "OPTIONS", authorize, "", preflight("GET")},
		{"end_session", "GET", d.issuer + "/end_session?client_id=referral-form", "", nil},
		{"end_session preflight", "OPTIONS", d.issuer + "/end_session", "", preflight("POST")},
		{"introspect", "POST", d.issuer + "/oauth/introspect", "token=nothing", urlencoded},
	}
	check := func(origin string, rq request, wantAllowed bool) {
		t.Helper()
		_, h, _ := fetch(t, rq.method, rq.url, withOrigin(origin, rq.header), rq.body)
		acao, acac := h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials")
		if acac != "" {
			t.Errorf("%s from %s: Access-Control-Allow-Credentials %q, want none", rq.name, origin, acac)
		}
		switch {
		case wantAllowed && acao != origin:
			t.Errorf("%s from %s: Access-Control-Allow-Origin %q, want %q", rq.name, origin, acao, origin)
		case !wantAllowed && acao != "":
			t.Errorf("%s from %s: Access-Control-Allow-Origin %q, want none", rq.name, origin, acao)
		}
	}
	for _, rq := range append(append([]request(nil), browserEndpoints...), navigations...) {
		check(evilOrigin, rq, false)
	}
	for _, rq := range browserEndpoints {
		check(rpOrigin, rq, true)
	}
	for _, rq := range navigations {
		check(rpOrigin, rq, false)
	}
	// A client registered while the idp runs (`idp clients add`) is allowed soon.
	if _, err := provider.AddClient(context.Background(), d.app.Durable, clientSecretsOf(t, d.app), provider.NewClient{
		ID: "late-form", Name: "Registered later", RedirectURIs: []string{"https://late.example:8443/cb"}, Public: true,
	}, time.Now()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, h, _ := fetch(t, "GET", d.issuer+"/keys", http.Header{"Origin": {"https://late.example:8443"}}, "")
		if h.Get("Access-Control-Allow-Origin") == "https://late.example:8443" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a client registered while running never got CORS on /keys")
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Finding 15: /metrics was served to anyone on the public port. It is on its own
// listener (IDP_METRICS_ADDR) and the public one answers 404.
func TestMetricsOnlyOnTheirOwnListener(t *testing.T) {
	d := startIdP(t, embedded, nil)
	if status, _, body := fetch(t, "GET", d.issuer+"/metrics", nil, ""); status != http.StatusNotFound || strings.Contains(body, "idp_http_requests_total") {
		t.Errorf("GET /metrics on the public listener: %d, want 404 without metrics", status)
	}
	metrics := httptest.NewServer(d.app.MetricsHandler())
	t.Cleanup(metrics.Close)
	status, _, body := fetch(t, "GET", metrics.URL+"/metrics", nil, "")
	if status != http.StatusOK || !strings.Contains(body, `idp_http_requests_total{method="GET",route="other",status="404"} 1`) {
		t.Errorf("GET /metrics on the metrics listener: %d, want the public 404 counted:\n%s", status, grepLines(body, "idp_http_requests_total"))
	}
}

// Finding 18: the /authorize error page dropped nosniff; the SSO redirect carrying
// a code could be cached; the provider's audit events ignored IDP_TRUSTED_PROXIES.
func TestErrorPagesRedirectsAndAuditAddresses(t *testing.T) {
	d := startIdP(t, embedded, map[string]string{"IDP_TRUSTED_PROXIES": "127.0.0.1/32,::1/128"})

	for _, u := range []string{
		d.issuer + "/authorize?client_id=nobody&response_type=code&scope=openid&redirect_uri=" + url.QueryEscape(rpRedirect),
		d.issuer + "/authorize?client_id=referral-form&response_type=code&scope=openid&redirect_uri=" + url.QueryEscape("https://evil.example/cb"),
		d.issuer + "/end_session?client_id=nobody&post_logout_redirect_uri=" + url.QueryEscape("https://evil.example/"),
	} {
		status, h, _ := fetch(t, "GET", u, nil, "")
		if status < 400 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: %d %q, want an error page", u, status, h.Get("Content-Type"))
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("GET %s: error page nosniff %q CSP %q, want both", u, h.Get("X-Content-Type-Options"), h.Get("Content-Security-Policy"))
		}
	}

	// Signed up once, the next sign-in is single sign-on: /authorize answers with
	// the redirect to the form app carrying a code, which must not be stored.
	b := d.browser()
	signUp(d, b, newPerson(t, true))
	b.verifier, b.state = oauth2.GenerateVerifier(), "state-sso"
	req, _ := http.NewRequest("GET", d.rp.AuthCodeURL(b.state, oauth2.S256ChallengeOption(b.verifier)), nil)
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode/100 != 3 || loc == nil || loc.Host != "rp.test" || loc.Query().Get("code") == "" {
		t.Fatalf("SSO sign-in: %d to %q, want a redirect to the form app with a code", res.StatusCode, res.Header.Get("Location"))
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("the SSO redirect carrying a code has Cache-Control %q, want no-store", cc)
	}

	// Behind a trusted proxy, the provider's audit events name the client's address.
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "X-Forwarded-For": {"203.0.113.7"}}
	tokenURL := strings.Replace(d.issuer, "http://", "http://referral-form:wrong-secret@", 1) + "/oauth/token"
	if status, _, _ := fetch(t, "POST", tokenURL, h, "grant_type=refresh_token&refresh_token=x"); status < 400 {
		t.Fatalf("token request with a wrong secret: %d", status)
	}
	events, err := d.app.Durable.ListAudit(context.Background(), "", 20)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events {
		if e.Kind == "client.auth_failed" {
			found = true
			if e.IP != "203.0.113.7" {
				t.Errorf("client.auth_failed audit IP %q, want the forwarded client 203.0.113.7", e.IP)
			}
		}
	}
	if !found {
		t.Errorf("no client.auth_failed audit event among %d", len(events))
	}
}

// grepLines is the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Finding 16: a validly signed webhook for one call, posted to another call's URL,
// settled that other call. The body names its call (uuid); a webhook whose uuid is
// not the call its path settles is refused and moves nothing.
func TestVonageWebhookBoundToItsCall(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startProduction(t, be)
		ctx := context.Background()
		callMe := func(p person) *browser {
			signUpToPhone(d, d.browser(), p)
			b := d.browser()
			b.startSignIn()
			b.press("Sign in", "email", p.email, "password", p.password)
			b.press("Call Me", "phone", p.phone)
			b.expectHeading("We are calling you")
			return b
		}
		latestCall := func(p person) vonagetest.Call {
			calls := d.vonage.Calls()
			for i := len(calls) - 1; i >= 0; i-- {
				if "+"+calls[i].To == p.e164 {
					return calls[i]
				}
			}
			t.Fatalf("no call to %s", p.e164)
			return vonagetest.Call{}
		}
		alice, bob := realPerson(t, false), realPerson(t, false)
		callMe(alice)
		bobPage := callMe(bob)
		a, b := latestCall(alice), latestCall(bob)

		// Alice's genuine, signed webhooks (her '#', then her call's end) at Bob's URLs.
		input := []byte(fmt.Sprintf(`{"uuid":%q,"conversation_uuid":"CON-%s","dtmf":{"digits":"#","timed_out":false}}`, a.UUID, a.UUID))
		if res, err := d.vonage.PostSigned(ctx, b.InputURL, input); err != nil || res.Status != http.StatusUnauthorized {
			t.Errorf("alice's input webhook at bob's URL: %+v %v, want 401", res, err)
		}
		event := []byte(fmt.Sprintf(`{"status":"rejected","uuid":%q}`, a.UUID))
		if res, err := d.vonage.PostSigned(ctx, b.EventURL, event); err != nil || res.Status != http.StatusUnauthorized {
			t.Errorf("alice's event webhook at bob's URL: %+v %v, want 401", res, err)
		}
		noUUID := []byte(`{"dtmf":{"digits":"#","timed_out":false}}`)
		if res, err := d.vonage.PostSigned(ctx, b.InputURL, noUUID); err != nil || res.Status != http.StatusUnauthorized {
			t.Errorf("a webhook naming no call at bob's URL: %+v %v, want 401", res, err)
		}
		bobPage.get("/login")
		bobPage.expectHeading("We are calling you") // nothing moved

		// Bob's own '#' still confirms him.
		d.pressKeys(bob.e164, "#")
		bobPage.get("/login")
		bobPage.expectHeading("Confirm your phone number")
	})
}

// Finding 16: delivery receipts are not signed, and 30 forged ones wrote 30 audit
// rows. They are rate-limited per source address (and overall): a flood from one
// address is answered 429 and barely reaches the audit log, and receipts are
// accepted again once it stops.
func TestUnsignedReceiptsCannotFloodTheAuditLog(t *testing.T) {
	d := startProduction(t, embedded)
	ctx := context.Background()
	receipt := func(i int) string {
		return url.Values{"messageId": {fmt.Sprintf("forged-%d", i)}, "msisdn": {"447400123456"}, "status": {"delivered"},
			"err-code": {"0"}, "client-ref": {"ref"}}.Encode()
	}
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	statuses := map[int]int{}
	for i := range 200 {
		status, _, _ := fetch(t, "POST", d.issuer+"/webhooks/vonage/sms-receipt", h, receipt(i))
		statuses[status]++
	}
	rows := func() int {
		events, err := d.app.Durable.ListAudit(ctx, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range events {
			if e.Kind == "sms.receipt" {
				n++
			}
		}
		return n
	}
	n := rows()
	if n > 25 || statuses[http.StatusTooManyRequests] == 0 {
		t.Errorf("200 forged receipts from one address: %d audit rows, answers %v; want at most 25 rows and 429s", n, statuses)
	}
	if n == 0 {
		t.Errorf("no receipt at all was recorded (answers %v)", statuses)
	}
	time.Sleep(1500 * time.Millisecond)
	if status, _, _ := fetch(t, "POST", d.issuer+"/webhooks/vonage/sms-receipt", h, receipt(1000)); status != http.StatusNoContent {
		t.Errorf("a receipt after the flood stopped: %d, want 204", status)
	}
	if rows() != n+1 {
		t.Errorf("the receipt after the flood was not recorded")
	}
}
