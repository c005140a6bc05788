package config

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Logo is the organisation's logo (IDP_LOGO): an image file read at start.
type Logo struct {
	Data        []byte // the file's bytes
	ContentType string // of Data: image/png, image/svg+xml or image/jpeg
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
		// The pages' Content-Security-Policy allows images from the idp itself
		// only, so a person's browser never fetches from another site.
		return Logo{}, settingError(r, "must be the path of an image file: the pages show images from the idp itself only, so save the logo and give its path")
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
	got := http.DetectContentType(b)
	switch {
	case want == "image/svg+xml" && (strings.HasPrefix(got, "text/xml") || strings.HasPrefix(got, "text/plain")) && strings.Contains(string(b), "<svg"):
	case got == want:
	default:
		return Logo{}, settingError(r, "the file's content is not the image its name says ("+got+")")
	}
	return Logo{Data: b, ContentType: want}, nil
}
