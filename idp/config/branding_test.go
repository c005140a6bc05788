package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBranding(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "logo.png")
	// A PNG's signature and an IHDR start are what content sniffing reads.
	if err := os.WriteFile(png, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	svg := filepath.Join(dir, "logo.svg")
	if err := os.WriteFile(svg, []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>`), 0o644); err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(dir, "fake.png")
	if err := os.WriteFile(fake, []byte("hello, this is not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.png")
	if err := os.WriteFile(big, make([]byte, maxLogo+1), 0o644); err != nil {
		t.Fatal(err)
	}

	c, err := Load(nil, env(map[string]string{"IDP_HEADER_COLOUR": "#00703C", "IDP_LOGO": png}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HeaderColour != "#00703c" || c.Logo.ContentType != "image/png" || len(c.Logo.Data) == 0 {
		t.Errorf("branding: colour %q, logo %q (%d bytes)", c.HeaderColour, c.Logo.ContentType, len(c.Logo.Data))
	}
	if c, err := Load(nil, env(map[string]string{"IDP_LOGO": svg})); err != nil || c.Logo.ContentType != "image/svg+xml" {
		t.Errorf("svg logo: %v, %+v", err, c)
	}
	// An address is kept to be fetched at start (Logo.Fetch).
	if c, err := Load(nil, env(map[string]string{"IDP_LOGO": "https://www.example.gov.uk/images/logo.png"})); err != nil ||
		c.Logo.URL != "https://www.example.gov.uk/images/logo.png" || c.Logo.Data != nil {
		t.Errorf("logo address: %v, %+v", err, c.Logo)
	}
	if c, err := Load(nil, env(nil)); err != nil || c.HeaderColour != "" || c.Logo.Data != nil {
		t.Errorf("defaults: %v, %+v", err, c)
	}

	for _, tt := range []struct {
		env     map[string]string
		contain string
	}{
		// GOV.UK's yellow, and a light blue, under 4.5:1 with white text.
		{map[string]string{"IDP_HEADER_COLOUR": "#ffdd00"}, "contrast of 1.34:1"},
		{map[string]string{"IDP_HEADER_COLOUR": "#5694ca"}, "WCAG AA needs at least 4.5:1"},
		{map[string]string{"IDP_HEADER_COLOUR": "green"}, "#rrggbb"},
		{map[string]string{"IDP_HEADER_COLOUR": "#123"}, "#rrggbb"},
		{map[string]string{"IDP_LOGO": "http://example.gov.uk/logo.png"}, "must be an https:// address"},
		{map[string]string{"IDP_LOGO": "https://me:secret@example.gov.uk/logo.png"}, "must not carry a user name or password"},
		{map[string]string{"IDP_LOGO": "ftp://example.gov.uk/logo.png"}, "an https:// address"},
		{map[string]string{"IDP_LOGO": "https:///logo.png"}, "an https:// address"},
		{map[string]string{"IDP_LOGO": filepath.Join(dir, "missing.png")}, "cannot read the file"},
		{map[string]string{"IDP_LOGO": fake}, "content is not the image it says"},
		{map[string]string{"IDP_LOGO": big}, "at most 256 KB"},
		{map[string]string{"IDP_LOGO": dir}, "at most 256 KB"},
	} {
		_, err := Load(nil, env(tt.env))
		var name string
		for k := range tt.env {
			name = k
		}
		if err == nil || !strings.HasPrefix(err.Error(), name+": ") || !strings.Contains(err.Error(), tt.contain) {
			t.Errorf("Load(%v) = %v, want an error naming %s saying %q", tt.env, err, name, tt.contain)
		}
	}
}

func TestContrastWithWhite(t *testing.T) {
	for hex, want := range map[string]float64{"#000000": 21, "#ffffff": 1, "#1d70b8": 5.17, "#0b0c0c": 19.6} {
		if got := ContrastWithWhite(hex); got < want-0.05 || got > want+0.05 {
			t.Errorf("ContrastWithWhite(%s) = %.2f, want %.2f", hex, got, want)
		}
	}
}

// logoFile is a PNG logo for tests.
func logoFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "logo.png")
	if err := os.WriteFile(p, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
