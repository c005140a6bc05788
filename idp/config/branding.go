package config

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Logo is the organisation's logo (IDP_LOGO): an image file read at start,
// or an address the server fetches the image from at start (Fetch). Either
// way the pages show it from the idp itself (/branding/logo), so a person's
// browser never asks another site for it.
type Logo struct {
	Data        []byte // the image's bytes
	ContentType string // of Data: image/png, image/svg+xml or image/jpeg
	URL         string // https address to fetch Data from; empty for a file
}

// maxLogo bounds a logo file: a header image, not a photograph.
const maxLogo = 256 << 10

var hexColour = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// minContrast is WCAG 2.2 AA for normal text (1.4.3).
const minContrast = 4.5

// parseHeaderColour checks a header colour gives white text AA contrast.
func parseHeaderColour(r rawValue) (string, error) {
	v := strings.TrimSpace(r.text)
	if v == "" {
		return "", nil
	}
	if !hexColour.MatchString(v) {
		return "", settingError(r, "must be a colour written #rrggbb, like #00703c")
	}
	if c := ContrastWithWhite(v); c < minContrast {
		return "", settingError(r, fmt.Sprintf("gives white header text a contrast of %.2f:1; WCAG AA needs at least 4.5:1: choose a darker colour", math.Floor(c*100)/100))
	}
	return strings.ToLower(v), nil
}

// ContrastWithWhite is the WCAG contrast ratio of white on the colour
// #rrggbb (from 1 to 21).
func ContrastWithWhite(hex string) float64 {
	lum := 0.0
	for i, weight := range []float64{0.2126, 0.7152, 0.0722} {
		n, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(n) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		lum += weight * c
	}
	return 1.05 / (lum + 0.05)
}

// parseLogo reads IDP_LOGO, an image file.
func parseLogo(r rawValue) (Logo, error) {
	v := strings.TrimSpace(r.text)
	if v == "" {
		return Logo{}, nil
	}
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			return Logo{}, settingError(r, "must be the path of an image file or an https:// address of one")
		case u.User != nil:
			return Logo{}, settingError(r, "must not carry a user name or password")
		case u.Scheme == "http" && !loopbackHost(u.Hostname()):
			return Logo{}, settingError(r, "must be an https:// address (plain http only on a loopback host, for tests)")
		}
		return Logo{URL: u.String()}, nil
	}
	info, err := os.Stat(v)
	if err != nil {
		return Logo{}, settingError(r, "cannot read the file: "+err.Error())
	}
	if !info.Mode().IsRegular() || info.Size() > maxLogo {
		return Logo{}, settingError(r, "must be an image file of at most 256 KB")
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return Logo{}, settingError(r, "cannot read the file: "+err.Error())
	}
	types := map[string]string{".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
	want, ok := types[strings.ToLower(filepath.Ext(v))]
	if !ok {
		return Logo{}, settingError(r, "must be a .png, .svg or .jpg file")
	}
	if err := checkImage(b, want); err != nil {
		return Logo{}, settingError(r, "the file's "+err.Error())
	}
	return Logo{Data: b, ContentType: want}, nil
}

// checkImage reports whether b holds an image of type want.
func checkImage(b []byte, want string) error {
	got := http.DetectContentType(b)
	switch {
	case want == "image/svg+xml" && (strings.HasPrefix(got, "text/xml") || strings.HasPrefix(got, "text/plain")) && strings.Contains(string(b), "<svg"):
	case got == want:
	default:
		return fmt.Errorf("content is not the image it says (%s, not %s)", got, want)
	}
	return nil
}

// Fetch gets a logo given by its address (IDP_LOGO=https://...), once, at
// start: a PNG, SVG or JPEG of at most 256 KB. A logo read from a file is
// returned as it is.
func (l Logo) Fetch(ctx context.Context, client *http.Client) (Logo, error) {
	if l.URL == "" {
		return l, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.URL, nil)
	if err != nil {
		return l, fmt.Errorf("IDP_LOGO: %w", err)
	}
	res, err := client.Do(req)
	if err != nil {
		return l, fmt.Errorf("IDP_LOGO: fetch %s: %w", l.URL, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return l, fmt.Errorf("IDP_LOGO: fetch %s: %s", l.URL, res.Status)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, maxLogo+1))
	if err != nil {
		return l, fmt.Errorf("IDP_LOGO: fetch %s: %w", l.URL, err)
	}
	if len(b) > maxLogo {
		return l, fmt.Errorf("IDP_LOGO: %s is over 256 KB", l.URL)
	}
	typ, _, _ := strings.Cut(res.Header.Get("Content-Type"), ";")
	switch typ = strings.TrimSpace(strings.ToLower(typ)); typ {
	case "image/png", "image/svg+xml", "image/jpeg":
	default:
		return l, fmt.Errorf("IDP_LOGO: %s is %q, not a PNG, SVG or JPEG image", l.URL, typ)
	}
	if err := checkImage(b, typ); err != nil {
		return l, fmt.Errorf("IDP_LOGO: %s: %w", l.URL, err)
	}
	return Logo{Data: b, ContentType: typ, URL: l.URL}, nil
}
