package graphtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/councilforms/idp/idp/migrate"
)

// Graph is a strict fake of Microsoft Graph v1.0 (users and their phone
// methods) and of the Microsoft identity platform's token endpoint for one
// tenant. It refuses what they refuse, with their status codes and error
// bodies: a wrong client secret is 401 with the AADSTS7000215 body, a request
// without the bearer token is 401 InvalidAuthenticationToken, an unknown path
// is 404, and every ThrottleEvery-th Graph request is 429 with Retry-After.
type Graph struct {
	Tenant       string // the domain; TenantID works too
	TenantID     string
	ClientID     string
	ClientSecret string
	Users        []migrate.GraphUser // with their PhoneMethods, served apart
	PageSize     int                 // users a page when $top asks for more; default 100
	// ThrottleEvery > 0 answers every ThrottleEvery-th Graph request 429 with
	// Retry-After: RetryAfter seconds (default 1).
	ThrottleEvery int
	RetryAfter    int
	// PhoneMethodsForbidden answers the phone methods 403, as a tenant that
	// did not grant UserAuthenticationMethod.Read.All does.
	PhoneMethodsForbidden bool
	// NextLinkBase, when set, is the scheme and host of the @odata.nextLink
	// links instead of the request's own (a link elsewhere).
	NextLinkBase string

	mu        sync.Mutex
	tokens    map[string]bool
	requests  int
	throttled int
	issued    int
	phoneGets int
}

// Start serves g; the URL is both the authority and the Graph base URL.
func (g *Graph) Start() *httptest.Server {
	g.tokens = map[string]bool{}
	return httptest.NewServer(g)
}

// Stats are what the fake saw.
func (g *Graph) Stats() (graphRequests, throttled, tokensIssued, phoneMethodGets int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.requests, g.throttled, g.issued, g.phoneGets
}

func (g *Graph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		g.token(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/v1.0/") {
		g.graph(w, r)
		return
	}
	graphErr(w, http.StatusNotFound, "UnknownError", "")
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// tokenErr writes the identity platform's error body.
func tokenErr(w http.ResponseWriter, status int, code string, aadsts int, text string) {
	trace, corr := newID(), newID()
	now := time.Now().UTC()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"error": code,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			aadsts, text, trace, corr, now.Format("2006-01-02 15:04:05Z")),
		"error_codes":    []int{aadsts},
		"timestamp":      now.Format("2006-01-02 15:04:05Z"),
		"trace_id":       trace,
		"correlation_id": corr,
		"error_uri":      fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", aadsts),
	})
}

func (g *Graph) token(w http.ResponseWriter, r *http.Request) {
	tenant := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/oauth2/v2.0/token")
	switch {
	case r.Method != http.MethodPost:
		tokenErr(w, http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts POST requests. Received a GET request.")
		return
	case tenant != g.Tenant && (g.TenantID == "" || tenant != g.TenantID):
		tokenErr(w, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
		return
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		tokenErr(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if err := r.ParseForm(); err != nil {
		tokenErr(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	f := r.PostForm
	switch {
	case f.Get("grant_type") == "":
		tokenErr(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
	case f.Get("grant_type") != "client_credentials":
		tokenErr(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '"+f.Get("grant_type")+"'.")
	case f.Get("client_id") != g.ClientID:
		tokenErr(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", f.Get("client_id"), g.Tenant))
	case f.Get("client_secret") == "":
		tokenErr(w, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	case f.Get("client_secret") != g.ClientSecret:
		tokenErr(w, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+g.ClientID+"'.")
	case f.Get("scope") != migrate.GraphScope:
		tokenErr(w, http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope "+f.Get("scope")+" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
	default:
		tok := "eyJ0eXAiOiJKV1QifQ." + newID()
		g.mu.Lock()
		g.tokens[tok] = true
		g.issued++
		g.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
	}
}

// graphErr writes Graph's error body.
func graphErr(w http.ResponseWriter, status int, code, msg string) {
	id := newID()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", id)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": id, "client-request-id": id}}})
}

func (g *Graph) graph(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.requests++
	throttle := g.ThrottleEvery > 0 && g.requests%g.ThrottleEvery == 0
	if throttle {
		g.throttled++
	}
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	known := ok && g.tokens[bearer]
	g.mu.Unlock()
	switch {
	case r.Method != http.MethodGet:
		graphErr(w, http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request uri.")
		return
	case !ok || bearer == "":
		graphErr(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return
	case !known:
		graphErr(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed, there are no dots (.).")
		return
	case throttle:
		after := g.RetryAfter
		if after <= 0 {
			after = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(after))
		graphErr(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests from Identifier:"+g.ClientID+" under category:throttle.aad.ags.dc.list. Please try again later.")
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1.0")
	if path == "/users" {
		g.list(w, r)
		return
	}
	if rest, ok := strings.CutPrefix(path, "/users/"); ok {
		if id, ok := strings.CutSuffix(rest, "/authentication/phoneMethods"); ok && !strings.Contains(id, "/") {
			g.phoneMethods(w, id)
			return
		}
	}
	graphErr(w, http.StatusNotFound, "UnknownError", "")
}

// list serves GET /users: $select (without it Graph leaves identities,
// accountEnabled and createdDateTime out), $top (1 to 999) and $skiptoken; B2C
// supports no $count, $search or $orderby.
func (g *Graph) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "$select", "$top", "$skiptoken", "$filter":
		default:
			graphErr(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported Query.")
			return
		}
	}
	size := g.PageSize
	if size <= 0 {
		size = 100
	}
	if t := q.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > 999 {
			graphErr(w, http.StatusBadRequest, "Request_BadRequest", "Invalid page size specified: '"+t+"'. Must be between 1 and 999 inclusive.")
			return
		}
		size = min(size, n)
	}
	start := 0
	if s := q.Get("$skiptoken"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > len(g.Users) {
			graphErr(w, http.StatusBadRequest, "Directory_InvalidSkipToken", "The specified skiptoken is invalid.")
			return
		}
		start = n
	}
	selected := map[string]bool{}
	for _, f := range strings.Split(q.Get("$select"), ",") {
		selected[strings.TrimSpace(f)] = true
	}
	end := min(start+size, len(g.Users))
	value := []map[string]any{}
	for _, u := range g.Users[start:end] {
		full := map[string]any{"id": u.ID, "givenName": u.GivenName, "surname": u.Surname, "displayName": u.DisplayName,
			"accountEnabled": u.AccountEnabled, "createdDateTime": u.CreatedDateTime, "identities": u.Identities}
		out := map[string]any{}
		for k, v := range full {
			if len(selected) == 1 && selected[""] {
				if k == "id" || k == "givenName" || k == "surname" || k == "displayName" {
					out[k] = v // Graph's default properties
				}
			} else if selected[k] || k == "id" {
				out[k] = v
			}
		}
		value = append(value, out)
	}
	page := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": value}
	if end < len(g.Users) {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("$skiptoken", strconv.Itoa(end))
		base := "http://" + r.Host
		if g.NextLinkBase != "" {
			base = g.NextLinkBase
		}
		page["@odata.nextLink"] = base + "/v1.0/users?" + next.Encode()
	}
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	json.NewEncoder(w).Encode(page)
}

func (g *Graph) phoneMethods(w http.ResponseWriter, id string) {
	g.mu.Lock()
	g.phoneGets++
	g.mu.Unlock()
	if g.PhoneMethodsForbidden {
		graphErr(w, http.StatusForbidden, "accessDenied", "Request Authorization failed")
		return
	}
	for _, u := range g.Users {
		if u.ID == id {
			methods := u.PhoneMethods
			if methods == nil {
				methods = []migrate.PhoneMethod{}
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{
				"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('" + id + "')/authentication/phoneMethods",
				"value":          methods})
			return
		}
	}
	graphErr(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.")
}
