package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// maxBody bounds what the browser reads of one response.
const maxBody = 4 << 20

// browser is one simulated person's web browser: its own cookie jar, redirects
// followed as a browser follows them, forms posted with the Origin and
// Sec-Fetch-Site headers a browser sends, until a redirect leads to the relying
// party's redirect URI, where it stops (nothing listens there) and keeps the
// Location for the relying party to read.
type browser struct {
	client   *http.Client
	origin   string // the idp's origin, sent on form posts
	redirect *url.URL
	page     *page    // the last HTML page shown
	callback *url.URL // set when a redirect reached the redirect URI
	// onRequest, when set, is told how long each request took, redirects
	// followed included, labelled by method and path.
	onRequest func(label string, d time.Duration, err error)
}

// newBrowser returns a browser with an empty cookie jar that shares transport
// (and so its connection pool) with every other simulated browser.
func newBrowser(transport http.RoundTripper, issuer, redirectURI string) (*browser, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	iss, err := url.Parse(issuer)
	if err != nil {
		return nil, err
	}
	ru, err := url.Parse(redirectURI)
	if err != nil {
		return nil, err
	}
	b := &browser{origin: iss.Scheme + "://" + iss.Host, redirect: ru}
	b.client = &http.Client{
		Transport: transport,
		Jar:       jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if b.atRedirectURI(req.URL) {
				b.callback = req.URL
				return http.ErrUseLastResponse
			}
			if len(via) >= 20 {
				return errors.New("stopped after 20 redirects")
			}
			return nil
		},
	}
	return b, nil
}

func (b *browser) atRedirectURI(u *url.URL) bool {
	return u.Scheme == b.redirect.Scheme && u.Host == b.redirect.Host && u.Path == b.redirect.Path
}

// open navigates to rawURL (a GET, as typed into the address bar or reached
// by following a link).
func (b *browser) open(ctx context.Context, rawURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	return b.do(req)
}

// click follows the link whose visible text is text.
func (b *browser) click(ctx context.Context, text string) error {
	if b.page == nil {
		return fmt.Errorf("no page to find link %q on", text)
	}
	href, ok := b.page.link(text)
	if !ok {
		return fmt.Errorf("no link %q on page %s", text, b.page.describe())
	}
	u, err := b.page.url.Parse(href)
	if err != nil {
		return fmt.Errorf("link %q: %w", text, err)
	}
	return b.open(ctx, u.String())
}

// press fills the fields of the form holding the button labelled label and
// submits it by pressing that button.
func (b *browser) press(ctx context.Context, label string, fill map[string]string) error {
	if b.page == nil {
		return fmt.Errorf("no page to press %q on", label)
	}
	f, btn, ok := b.page.button(label)
	if !ok {
		return fmt.Errorf("no button %q on page %s", label, b.page.describe())
	}
	return b.submit(ctx, f, btn, fill)
}

func (b *browser) submit(ctx context.Context, f *form, btn *button, fill map[string]string) error {
	vals, err := f.values(btn, fill)
	if err != nil {
		return fmt.Errorf("page %s: %w", b.page.describe(), err)
	}
	action, err := b.page.url.Parse(f.action)
	if err != nil {
		return fmt.Errorf("form action %q: %w", f.action, err)
	}
	var req *http.Request
	if f.method == "post" {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(vals.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.origin)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	} else {
		action.RawQuery = vals.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, action.String(), nil)
		if err != nil {
			return err
		}
	}
	return b.do(req)
}

// do sends req, follows redirects and reads the page it ends on, or records
// the redirect URI reached.
func (b *browser) do(req *http.Request) (err error) {
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	req.Header.Set("User-Agent", userAgent)
	b.callback = nil
	if b.onRequest != nil {
		start, label := time.Now(), req.Method+" "+pathLabel(req.URL.Path)
		defer func() { b.onRequest(label, time.Since(start), err) }()
	}
	res, err := b.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s %s: read body: %w", req.Method, res.Request.URL.Path, err)
	}
	if b.callback != nil {
		if res.StatusCode < 300 || res.StatusCode >= 400 {
			return fmt.Errorf("redirect URI reached with status %d", res.StatusCode)
		}
		b.page = nil
		return nil
	}
	ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if ct != "text/html" {
		return fmt.Errorf("%s %s: status %d, %s instead of a page: %.200s", req.Method, res.Request.URL.Path, res.StatusCode, ct, body)
	}
	b.page = parsePage(res.Request.URL, res.StatusCode, string(body))
	if res.StatusCode >= 400 {
		return fmt.Errorf("page %s", b.page.describe())
	}
	return nil
}

// pathLabel names a request path for the step breakdown: segments that look
// like random ids become {id}.
func pathLabel(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if len(s) >= 16 && strings.ContainsAny(s, "0123456789") {
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}
