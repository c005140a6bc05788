package formapp

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/memory"
	"github.com/councilforms/idp/store/sqlite"
)

// The form app against the project's own OpenID Connect provider (real
// discovery, PKCE, tokens, ID token signature, end session). The provider's
// login pages are stood in for by a /login handler that signs in a fixed
// person at once; the browser end-to-end test runs the real pages.
func TestAgainstTheProvider(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "idp.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	eph := memory.New()
	t.Cleanup(func() { eph.Close(); db.Close() })
	now := time.Now().UTC()
	ada := &store.User{
		ID: "u-" + strings.ToLower(rand.Text()), Email: "ada@example.org", EmailVerified: true,
		GivenName: "Ada", FamilyName: "Lovelace", Phone: "+447700900123", PhoneType: "mobile",
		PhoneVerified: true, Status: store.UserActive, CreatedAt: now, UpdatedAt: now,
	}
	if err := db.CreateUser(ctx, ada); err != nil {
		t.Fatal(err)
	}

	// The form app's address must be known to register it.
	faSrv := httptest.NewUnstartedServer(nil)
	faBase := "http://" + faSrv.Listener.Addr().String()

	mux := http.NewServeMux()
	idpSrv := httptest.NewServer(mux)
	t.Cleanup(idpSrv.Close)
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	p, err := provider.New(provider.Config{
		Issuer:           idpSrv.URL,
		KeyEncryptionKey: kek,
		KeyPublishDelay:  -1, // the first key signs at once
		// Embedded mode registers this client for the demo.
		StaticClients: []*store.Client{provider.DemoClient(faBase)},
	}, db, eph, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var logins atomic.Int32
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		logins.Add(1)
		next, err := p.Complete(w, r, r.URL.Query().Get("authRequestID"), provider.Authentication{UserID: ada.ID, AMR: []string{"pwd", "sms"}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, next, http.StatusFound)
	})
	mux.Handle("/", p.Handler())

	app, err := New(ctx, Config{
		Addr: faSrv.Listener.Addr().String(), Issuer: idpSrv.URL, ClientID: provider.DemoClientID,
		RedirectURL: faBase + "/callback", PostLogoutRedirectURL: faBase + "/signed-out",
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	faSrv.Config.Handler = app.Handler()
	faSrv.Start()
	t.Cleanup(faSrv.Close)
	f := &formApp{t: t, app: app, base: faBase, c: newBrowserClient()}

	// follow walks redirects (as a browser would) until one leads back to
	// the form app, and returns that last response with an absolute location.
	follow := func(res response) response {
		t.Helper()
		for range 10 {
			if res.location == "" {
				return res
			}
			next, err := res.url.Parse(res.location)
			if err != nil {
				t.Fatalf("redirect to %q: %v", res.location, err)
			}
			res.location = next.String()
			if strings.HasPrefix(res.location, faBase) {
				return res
			}
			res = f.get(res.location)
		}
		t.Fatal("too many redirects")
		return res
	}

	wantRedirect(t, "page one", f.post("/person", pageOne), "/sign-in?next=%2Fconcern")
	res := f.post("/login", url.Values{"next": {"/concern"}})
	wantStatus(t, "Login or Register", res, http.StatusFound)
	res = follow(res)
	if !strings.HasPrefix(res.location, faBase+"/callback?") {
		t.Fatalf("the provider sent the browser to %q, want the form app's callback", res.location)
	}
	wantRedirect(t, "callback", f.get(res.location), "/concern")
	wantBody(t, "page two", f.get("/concern"), "Signed in as <strong>Ada Lovelace</strong>")
	wantBody(t, "page one kept", f.get("/person"), `value="Ann Example"`)
	wantRedirect(t, "page two", f.post("/concern", pageTwo), "/referrer")
	wantBody(t, "page three prefilled", f.get("/referrer"), `value="Ada Lovelace"`, `value="ada@example.org"`)

	res = f.get("/sign-out")
	if !strings.HasPrefix(res.location, idpSrv.URL) {
		t.Fatalf("sign out went to %q, want the provider's end session endpoint", res.location)
	}
	res = follow(res)
	if !strings.HasPrefix(res.location, faBase+"/signed-out") {
		t.Fatalf("the provider's end session sent the browser to %q, want the form app's /signed-out", res.location)
	}
	wantBody(t, "signed out", f.get(res.location), "You have signed out")

	// The provider session ended too: the next sign-in runs the login again.
	before := logins.Load()
	res = follow(f.post("/login", url.Values{"next": {"/concern"}}))
	if logins.Load() != before+1 {
		t.Errorf("after signing out, signing in again did not go through the login (logins %d -> %d)", before, logins.Load())
	}
	wantRedirect(t, "second sign-in", f.get(res.location), "/concern")
}

// With no configuration the form app presents itself as the demo client
// that the provider's embedded mode registers.
func TestDefaultsMatchTheEmbeddedDemoClient(t *testing.T) {
	cfg, err := ConfigFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	demo := provider.DemoClient("http://" + cfg.Addr)
	if cfg.ClientID != demo.ID || !demo.Public || cfg.ClientSecret != "" {
		t.Errorf("form app client %q (secret %v), demo client %q (public %v)", cfg.ClientID, cfg.ClientSecret != "", demo.ID, demo.Public)
	}
	if len(demo.RedirectURIs) != 1 || demo.RedirectURIs[0] != cfg.RedirectURL {
		t.Errorf("demo client redirect URIs %v, form app %s", demo.RedirectURIs, cfg.RedirectURL)
	}
	if len(demo.PostLogoutRedirectURIs) != 1 || demo.PostLogoutRedirectURIs[0] != cfg.PostLogoutRedirectURL {
		t.Errorf("demo client post-logout URIs %v, form app %s", demo.PostLogoutRedirectURIs, cfg.PostLogoutRedirectURL)
	}
	if demo.BackchannelLogoutURI != cfg.BackchannelLogoutURI() || !demo.BackchannelLogoutSessionRequired {
		t.Errorf("demo client back-channel logout URI %q (session required %v), form app %s",
			demo.BackchannelLogoutURI, demo.BackchannelLogoutSessionRequired, cfg.BackchannelLogoutURI())
	}
}
