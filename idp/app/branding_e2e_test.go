package app_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// IDP_LOGO as an address: the idp fetches the image once at start and serves
// it itself, so the pages' Content-Security-Policy still allows images from
// the idp only and a person's browser never asks the council's website for
// it. An address that cannot be fetched leaves the organisation's name in the
// header, and the pages work. (Before: an address was refused at start.)
func TestLogoFromAnAddress(t *testing.T) {
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
	var fetched atomic.Int32
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/images/logo.png" {
			http.NotFound(w, r)
			return
		}
		fetched.Add(1)
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte(png))
	}))
	defer site.Close()

	d := startIdP(t, embedded, map[string]string{"IDP_LOGO": site.URL + "/images/logo.png"})
	status, h, body := fetch(t, "GET", d.issuer+"/help", nil, "")
	if status != http.StatusOK || !strings.Contains(body, `src="/branding/logo?v=`) {
		t.Fatalf("/help: %d, want the header's logo from /branding/logo:\n%s", status, grepLines(body, "<img"))
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data:;") {
		t.Errorf("CSP %q, want images from the idp only", csp)
	}
	status, h, img := fetch(t, "GET", d.issuer+"/branding/logo", nil, "")
	if status != http.StatusOK || h.Get("Content-Type") != "image/png" || img != png {
		t.Errorf("/branding/logo: %d %q (%d bytes), want the council's PNG", status, h.Get("Content-Type"), len(img))
	}
	if n := fetched.Load(); n != 1 {
		t.Errorf("the council's site was asked %d times for the logo, want once (at start)", n)
	}

	down := startIdP(t, embedded, map[string]string{"IDP_LOGO": site.URL + "/images/gone.png"})
	status, _, body = fetch(t, "GET", down.issuer+"/help", nil, "")
	if status != http.StatusOK || strings.Contains(body, "/branding/logo") {
		t.Errorf("/help with a logo address that cannot be fetched: %d, want the page with the name in the header:\n%s", status, grepLines(body, "<img"))
	}
}
