package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
)

// BrandingPrefix is the URL path under which Templates.Branding serves the
// deployment's header colour (brand.css) and logo.
const BrandingPrefix = "/branding/"

var brandColour = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// branding is what a deployment adds to the GOV.UK look: a stylesheet for
// the header colour and a logo, each served with its content hash in the
// page's link so a change reaches browsers at once.
type branding struct {
	css, logo         []byte
	logoType          string
	cssURL, logoURL   string
	cssHash, logoHash string
}

func newBranding(opts Options) (*branding, error) {
	b := &branding{}
	if opts.HeaderColour != "" {
		if !brandColour.MatchString(opts.HeaderColour) {
			return nil, fmt.Errorf("ui: header colour %q is not #rrggbb", opts.HeaderColour)
		}
		// The header's text stays white; the colour was checked for contrast
		// with it (IDP_HEADER_COLOUR).
		b.css = []byte(".govuk-template__header .govuk-generic-header{background-color:" + opts.HeaderColour +
			";border-bottom-color:" + opts.HeaderColour + "}\n" +
			".govuk-generic-header__homepage-link:link,.govuk-generic-header__homepage-link:visited{color:#ffffff}\n")
		b.cssHash = hash(b.css)
		b.cssURL = BrandingPrefix + "brand.css?v=" + b.cssHash
	}
	if len(opts.Logo) > 0 {
		switch opts.LogoType {
		case "image/png", "image/svg+xml", "image/jpeg":
		default:
			return nil, fmt.Errorf("ui: logo type %q is not a PNG, SVG or JPEG image", opts.LogoType)
		}
		b.logo, b.logoType = opts.Logo, opts.LogoType
		b.logoHash = hash(b.logo)
		b.logoURL = BrandingPrefix + "logo?v=" + b.logoHash
	}
	return b, nil
}

func hash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// Branding serves the header colour's stylesheet (/branding/brand.css) and
// the logo (/branding/logo); 404 for what the deployment has not set.
func (t *Templates) Branding() http.Handler {
	b := t.brand
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		var typ, sum string
		switch r.URL.Path {
		case BrandingPrefix + "brand.css":
			body, typ, sum = b.css, "text/css; charset=utf-8", b.cssHash
		case BrandingPrefix + "logo":
			body, typ, sum = b.logo, b.logoType, b.logoHash
			// An SVG opened on its own is a document: it may run nothing.
			w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
		}
		if body == nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", typ)
		h.Set("Content-Length", strconv.Itoa(len(body)))
		h.Set("X-Content-Type-Options", "nosniff")
		if r.URL.Query().Get("v") == sum {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		_, _ = w.Write(body)
	})
}
