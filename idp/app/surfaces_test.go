package app_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
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
