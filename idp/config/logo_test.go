package config

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A logo given by its address is fetched once at start and checked as a
// file is: a PNG, SVG or JPEG of at most 256 KB that is what it says.
func TestLogoFetch(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/logo.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(png)
		case "/page":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<!doctype html><p>not a logo"))
		case "/lies.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("hello, this is not an image"))
		case "/big.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(append(png, make([]byte, maxLogo)...))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	c, err := Load(nil, env(map[string]string{"IDP_LOGO": srv.URL + "/logo.png"}))
	if err != nil {
		t.Fatal(err)
	}
	logo, err := c.Logo.Fetch(context.Background(), srv.Client())
	if err != nil || logo.ContentType != "image/png" || string(logo.Data) != string(png) {
		t.Fatalf("Fetch = %q (%d bytes), %v; want the PNG", logo.ContentType, len(logo.Data), err)
	}
	for path, want := range map[string]string{"/page": "not a PNG, SVG or JPEG", "/lies.png": "content is not the image it says",
		"/big.png": "over 256 KB", "/missing.png": "404"} {
		_, err := Logo{URL: srv.URL + path}.Fetch(context.Background(), srv.Client())
		if err == nil || !strings.HasPrefix(err.Error(), "IDP_LOGO: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("Fetch %s = %v, want an IDP_LOGO error saying %q", path, err, want)
		}
	}
}
