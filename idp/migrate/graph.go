package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// GraphScope is the one scope of the client-credentials token: the application
// permissions granted to the app registration (User.Read.All,
// UserAuthenticationMethod.Read.All).
const GraphScope = "https://graph.microsoft.com/.default"

// Default base URLs of IDP_B2C_AUTHORITY_URL and IDP_B2C_GRAPH_URL.
const (
	DefaultAuthorityURL = "https://login.microsoftonline.com"
	DefaultGraphURL     = "https://graph.microsoft.com"
)

// maxGraphRetries is how many times one request is retried after a 429 or 503.
const maxGraphRetries = 8

// maxRetryWait bounds one wait, whatever Retry-After says.
const maxRetryWait = 5 * time.Minute

// Graph fetches a B2C tenant's users through Microsoft Graph with an app
// registration's client credentials.
type Graph struct {
	Tenant       string // the tenant's domain (contoso.onmicrosoft.com) or id
	ClientID     string
	ClientSecret string
	AuthorityURL string // e.g. DefaultAuthorityURL
	GraphURL     string // e.g. DefaultGraphURL
	HTTP         *http.Client
	// Sleep waits before a retry (tests record instead); nil sleeps.
	Sleep func(ctx context.Context, d time.Duration) error
	// Progress, when set, is told how many users have been fetched so far.
	Progress func(users int)
	// Warn, when set, is told of something the import goes on without (phones).
	Warn func(msg string)

	token       string
	tokenExpiry time.Time
}

// CheckBaseURL says what is wrong with a base URL setting: it must be absolute
// https, or http on loopback (tests), without a query or fragment.
func CheckBaseURL(setting, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%s: must be an absolute https URL without a query (got %q)", setting, raw)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("%s: must be https (http only on localhost, 127.0.0.0/8 or ::1; got %q)", setting, raw)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// GraphError is an answer of Graph or its token endpoint that is not a success.
type GraphError struct {
	Status int
	Code   string // Graph's error.code, or the token endpoint's error
	// Message is Graph's error.message or the token endpoint's
	// error_description, first line (AADSTS code and text).
	Message string
}

func (e *GraphError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// Fetch lists every user, following @odata.nextLink, and each user's phone
// methods. If the tenant refuses the phone methods (403: the permission
// UserAuthenticationMethod.Read.All is not granted), it says so once through Warn
// and goes on without phones.
func (g *Graph) Fetch(ctx context.Context) ([]GraphPage, error) {
	for _, c := range []struct{ name, v string }{{"IDP_B2C_AUTHORITY_URL", g.AuthorityURL}, {"IDP_B2C_GRAPH_URL", g.GraphURL}} {
		if err := CheckBaseURL(c.name, c.v); err != nil {
			return nil, err
		}
	}
	if g.Tenant == "" || g.ClientID == "" || g.ClientSecret == "" {
		return nil, errors.New("IDP_B2C_TENANT, IDP_B2C_GRAPH_CLIENT_ID and IDP_B2C_GRAPH_CLIENT_SECRET are all needed")
	}
	base := strings.TrimSuffix(g.GraphURL, "/")
	next := base + "/v1.0/users?" + url.Values{"$select": {GraphSelect}, "$top": {"999"}}.Encode()
	var pages []GraphPage
	users := 0
	phones := true
	for next != "" {
		if err := g.sameOrigin(next); err != nil {
			return pages, err
		}
		var page GraphPage
		if err := g.get(ctx, next, &page); err != nil {
			return pages, fmt.Errorf("list users (page %d): %w", len(pages)+1, err)
		}
		for i := range page.Value {
			u := &page.Value[i]
			if !phones || u.ID == "" {
				continue
			}
			var methods struct {
				Value []PhoneMethod `json:"value"`
			}
			err := g.get(ctx, base+"/v1.0/users/"+url.PathEscape(u.ID)+"/authentication/phoneMethods", &methods)
			var ge *GraphError
			switch {
			case errors.As(err, &ge) && ge.Status == http.StatusForbidden:
				phones = false
				if g.Warn != nil {
					g.Warn(fmt.Sprintf("the tenant refuses to list phone methods (%v): importing without phones; people enrol one at their next sign-in. Grant the app registration UserAuthenticationMethod.Read.All to import them", err))
				}
			case errors.As(err, &ge) && ge.Status == http.StatusNotFound:
				// Deleted since the list was read: it imports without phones.
			case err != nil:
				return pages, fmt.Errorf("phone methods of user %s: %w", u.ID, err)
			case len(methods.Value) > 0:
				u.PhoneMethods = methods.Value
			}
		}
		users += len(page.Value)
		next, page.NextLink = page.NextLink, ""
		pages = append(pages, page)
		if g.Progress != nil {
			g.Progress(users)
		}
	}
	return pages, nil
}

// sameOrigin refuses a next link to another host than IDP_B2C_GRAPH_URL's: the
// bearer token goes only to Graph.
func (g *Graph) sameOrigin(link string) error {
	b, _ := url.Parse(g.GraphURL)
	u, err := url.Parse(link)
	if err != nil || u.Scheme != b.Scheme || u.Host != b.Host {
		return fmt.Errorf("Graph gave a next link to another host (%q): stopping", link)
	}
	return nil
}

// get GETs u with the bearer token into v, retrying a 429 or 503 after its
// Retry-After, and getting a new token once when Graph says the token is not valid.
func (g *Graph) get(ctx context.Context, u string, v any) error {
	renewed := false
	for attempt := 0; ; attempt++ {
		tok, err := g.accessToken(ctx)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		res, err := g.client().Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
		res.Body.Close()
		if err != nil {
			return err
		}
		switch {
		case res.StatusCode == http.StatusOK:
			if err := json.Unmarshal(body, v); err != nil {
				return fmt.Errorf("Graph answered with JSON the import does not understand: %s", jsonProblem(err))
			}
			return nil
		case (res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable) && attempt < maxGraphRetries:
			if err := g.sleep(ctx, retryAfter(res.Header.Get("Retry-After"), attempt)); err != nil {
				return err
			}
			continue
		case res.StatusCode == http.StatusUnauthorized && !renewed:
			renewed = true
			g.token = ""
			continue
		}
		return graphError(res.StatusCode, body)
	}
}

// retryAfter reads Retry-After (seconds, or an HTTP date); without it, waits
// double from one second.
func retryAfter(h string, attempt int) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, maxRetryWait)
	}
	if t, err := http.ParseTime(h); err == nil {
		return min(max(time.Until(t), 0), maxRetryWait)
	}
	return min(time.Second<<attempt, maxRetryWait)
}

func (g *Graph) sleep(ctx context.Context, d time.Duration) error {
	if g.Sleep != nil {
		return g.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (g *Graph) client() *http.Client {
	if g.HTTP != nil {
		return g.HTTP
	}
	return &http.Client{Timeout: time.Minute}
}

// accessToken gets (and keeps until a minute before it expires) a
// client-credentials token from <authority>/<tenant>/oauth2/v2.0/token.
func (g *Graph) accessToken(ctx context.Context) (string, error) {
	if g.token != "" && time.Until(g.tokenExpiry) > time.Minute {
		return g.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {g.ClientID},
		"client_secret": {g.ClientSecret}, "scope": {GraphScope}}
	endpoint := strings.TrimSuffix(g.AuthorityURL, "/") + "/" + url.PathEscape(g.Tenant) + "/oauth2/v2.0/token"
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := g.client().Do(req)
		if err != nil {
			return "", fmt.Errorf("token: %w", err)
		}
		body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if err != nil {
			return "", fmt.Errorf("token: %w", err)
		}
		if (res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable) && attempt < maxGraphRetries {
			if err := g.sleep(ctx, retryAfter(res.Header.Get("Retry-After"), attempt)); err != nil {
				return "", err
			}
			continue
		}
		if res.StatusCode != http.StatusOK {
			return "", fmt.Errorf("token for the app registration %s in tenant %s: %w", g.ClientID, g.Tenant, tokenError(res.StatusCode, body))
		}
		var tr struct {
			TokenType   string `json:"token_type"`
			AccessToken string `json:"access_token"`
			ExpiresIn   int    `json:"expires_in"`
		}
		if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" || !strings.EqualFold(tr.TokenType, "Bearer") {
			return "", errors.New("token: the token endpoint's answer has no bearer access_token")
		}
		g.token, g.tokenExpiry = tr.AccessToken, time.Now().Add(time.Duration(tr.ExpiresIn)*time.Second)
		return g.token, nil
	}
}

// tokenError reads the Microsoft identity platform's error body
// ({"error", "error_description": "AADSTS...: ...\r\nTrace ID: ...", "error_codes"}).
func tokenError(status int, body []byte) error {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return &GraphError{Status: status, Code: http.StatusText(status), Message: "no error body"}
	}
	msg, _, _ := strings.Cut(e.Description, "\r\n")
	return &GraphError{Status: status, Code: e.Error, Message: msg}
}

// graphError reads Graph's error body ({"error": {"code", "message", "innerError"}}).
func graphError(status int, body []byte) error {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Code == "" {
		return &GraphError{Status: status, Code: http.StatusText(status), Message: "no error body"}
	}
	return &GraphError{Status: status, Code: e.Error.Code, Message: e.Error.Message}
}
