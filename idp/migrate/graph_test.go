package migrate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/migrate"
	"github.com/councilforms/idp/idp/migrate/graphtest"
)

func fakeGraph(users int) *graphtest.Graph {
	return &graphtest.Graph{Tenant: graphtest.TenantDomain, TenantID: "7c1f4a6e-0000-4000-8000-000000000001",
		ClientID: "app-1", ClientSecret: "s3cret~value", Users: graphtest.Tenant(users), PageSize: 40}
}

func client(srvURL string, f *graphtest.Graph, waits *[]time.Duration) *migrate.Graph {
	return &migrate.Graph{Tenant: f.Tenant, ClientID: f.ClientID, ClientSecret: f.ClientSecret,
		AuthorityURL: srvURL, GraphURL: srvURL,
		Sleep: func(_ context.Context, d time.Duration) error { *waits = append(*waits, d); return nil }}
}

// Every page is followed, every user's phone methods fetched, and each 429 is
// waited out for its Retry-After before the same request is sent again.
func TestGraphFetch(t *testing.T) {
	f := fakeGraph(130)
	f.ThrottleEvery, f.RetryAfter = 25, 3
	srv := f.Start()
	defer srv.Close()
	var waits []time.Duration
	g := client(srv.URL, f, &waits)
	var progress []int
	g.Progress = func(n int) { progress = append(progress, n) }
	pages, err := g.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 4 || len(pages[0].Value) != 40 || len(pages[3].Value) != 10 {
		t.Fatalf("pages of %d", len(pages))
	}
	var got []migrate.GraphUser
	for _, p := range pages {
		if p.NextLink != "" {
			t.Errorf("a fetched page keeps its next link %q", p.NextLink)
		}
		got = append(got, p.Value...)
	}
	if !reflect.DeepEqual(got, f.Users) {
		t.Errorf("fetched users differ from the tenant's")
	}
	requests, throttled, tokens, phoneGets := f.Stats()
	if throttled == 0 || len(waits) != throttled || tokens != 1 || phoneGets < 130 {
		t.Errorf("requests %d, throttled %d, waits %v, tokens %d, phone gets %d", requests, throttled, waits, tokens, phoneGets)
	}
	for _, w := range waits {
		if w != 3*time.Second {
			t.Errorf("waited %v after a 429 with Retry-After: 3", w)
		}
	}
	if !reflect.DeepEqual(progress, []int{40, 80, 120, 130}) {
		t.Errorf("progress %v", progress)
	}

	// What --save writes reads back as the same records.
	var saved bytes.Buffer
	if err := migrate.WriteB2C(&saved, pages); err != nil {
		t.Fatal(err)
	}
	rules := migrate.Rules{Now: time.Now()}
	recs, err := migrate.ReadB2C(&saved, rules)
	if err != nil {
		t.Fatal(err)
	}
	if direct := migrate.GraphRecords(pages, rules); !reflect.DeepEqual(recs, direct) {
		t.Errorf("the saved file reads as other records than the fetch")
	}
}

// A tenant that refuses phone methods is said once, and the users come without phones.
func TestGraphPhoneMethodsRefused(t *testing.T) {
	f := fakeGraph(50)
	f.PhoneMethodsForbidden = true
	srv := f.Start()
	defer srv.Close()
	var waits []time.Duration
	g := client(srv.URL, f, &waits)
	var warnings []string
	g.Warn = func(m string) { warnings = append(warnings, m) }
	pages, err := g.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, phoneGets := f.Stats(); phoneGets != 1 {
		t.Errorf("asked for phone methods %d times after a 403, want once", phoneGets)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "UserAuthenticationMethod.Read.All") {
		t.Errorf("warnings %q", warnings)
	}
	for _, p := range pages {
		for _, u := range p.Value {
			if len(u.PhoneMethods) != 0 {
				t.Fatalf("user %s has phones", u.ID)
			}
		}
	}
}

// The fake refuses what Graph and the token endpoint refuse, and the client says
// what it was told.
func TestGraphRefusals(t *testing.T) {
	f := fakeGraph(5)
	srv := f.Start()
	defer srv.Close()
	var waits []time.Duration
	for _, c := range []struct {
		name   string
		change func(g *migrate.Graph)
		want   string
	}{
		{"wrong secret", func(g *migrate.Graph) { g.ClientSecret = "wrong" }, "401 invalid_client: AADSTS7000215: Invalid client secret provided"},
		{"unknown app", func(g *migrate.Graph) { g.ClientID = "other" }, "400 unauthorized_client: AADSTS700016"},
		{"unknown tenant", func(g *migrate.Graph) { g.Tenant = "fabrikam.onmicrosoft.com" }, "AADSTS90002: Tenant 'fabrikam.onmicrosoft.com' not found"},
		{"http to another host", func(g *migrate.Graph) { g.GraphURL = "http://graph.example.org" }, "IDP_B2C_GRAPH_URL: must be https"},
		{"no tenant", func(g *migrate.Graph) { g.Tenant = "" }, "IDP_B2C_TENANT"},
	} {
		g := client(srv.URL, f, &waits)
		c.change(g)
		_, err := g.Fetch(context.Background())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// The tenant id works as well as its domain.
	g := client(srv.URL, f, &waits)
	g.Tenant = f.TenantID
	if _, err := g.Fetch(context.Background()); err != nil {
		t.Errorf("by tenant id: %v", err)
	}

	get := func(path, bearer string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		json.NewDecoder(res.Body).Decode(&body)
		return res.StatusCode, body
	}
	code, body := get("/v1.0/users", "")
	if e, _ := body["error"].(map[string]any); code != 401 || e["code"] != "InvalidAuthenticationToken" || e["innerError"] == nil {
		t.Errorf("no bearer: %d %v", code, body)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {f.ClientID}, "client_secret": {f.ClientSecret}, "scope": {migrate.GraphScope}}
	res, err := http.PostForm(srv.URL+"/"+f.Tenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if code, _ := get("/v1.0/groups", tok.AccessToken); code != 404 {
		t.Errorf("unknown path: %d", code)
	}
	if code, _ := get("/v1.0/users/nobody/authentication/phoneMethods", tok.AccessToken); code != 404 {
		t.Errorf("phone methods of an unknown user: %d", code)
	}
	if code, _ := get("/v1.0/users?$count=true", tok.AccessToken); code != 400 {
		t.Errorf("$count, which B2C does not support: %d", code)
	}
	form.Set("scope", "User.Read.All")
	res, _ = http.PostForm(srv.URL+"/"+f.Tenant+"/oauth2/v2.0/token", form)
	var te map[string]any
	json.NewDecoder(res.Body).Decode(&te)
	res.Body.Close()
	if res.StatusCode != 400 || te["error"] != "invalid_scope" || te["error_codes"] == nil || te["trace_id"] == nil {
		t.Errorf("a scope without /.default: %d %v", res.StatusCode, te)
	}
}

// A next link to another host is not followed: the token goes to Graph only.
func TestGraphNextLinkElsewhere(t *testing.T) {
	f := fakeGraph(50)
	f.NextLinkBase = "https://graph.example.org"
	srv := f.Start()
	defer srv.Close()
	var waits []time.Duration
	pages, err := client(srv.URL, f, &waits).Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "another host") || len(pages) != 1 {
		t.Errorf("next link elsewhere: %d pages, %v", len(pages), err)
	}
	if requests, _, _, _ := f.Stats(); requests != 1+40 {
		t.Errorf("%d Graph requests, want the first page and its 40 users' phone methods", requests)
	}
}
