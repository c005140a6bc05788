package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/councilforms/idp/cmd/formapp/formapp"
	"github.com/councilforms/idp/idp/provider"
)

// formApp is a form app of the end-to-end harness with its own client
// registration and a back-channel logout endpoint that validates each logout
// token with the demo form app's validator (Back-Channel Logout 1.0 section
// 2.6, against the idp's published keys) and answers 503 while it is down.
type formApp struct {
	t     *testing.T
	id    string
	idp   *idp // the harness idp as this form app sees it (its client)
	down  atomic.Bool
	tried chan struct{}
	got   chan *formapp.LogoutClaims
}

// newFormApp registers id (or, when it exists, gives the registered client a
// back-channel logout URI) and starts its logout endpoint.
func newFormApp(t *testing.T, d *idp, id string) *formApp {
	t.Helper()
	ctx := context.Background()
	fa := &formApp{t: t, id: id, tried: make(chan struct{}, 64), got: make(chan *formapp.LogoutClaims, 16)}
	var disc struct {
		JWKS string   `json:"jwks_uri"`
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := d.prov.Claims(&disc); err != nil {
		t.Fatal(err)
	}
	keys := oidc.NewRemoteKeySet(ctx, disc.JWKS)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case fa.tried <- struct{}{}:
		default:
		}
		if fa.down.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		claims, err := formapp.VerifyLogoutToken(r.Context(), r.PostFormValue("logout_token"), d.issuer, id, keys, disc.Algs, time.Now())
		if err != nil {
			t.Errorf("%s refused a logout token: %v", id, err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fa.got <- claims
	}))
	t.Cleanup(srv.Close)
	uri := srv.URL + "/backchannel-logout"

	secret := d.rp.ClientSecret
	if c, err := d.app.Durable.ClientByID(ctx, id); err == nil {
		c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired = uri, true
		if err := d.app.Durable.UpdateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	} else {
		secret, err = provider.AddClient(ctx, d.app.Durable, clientSecretsOf(t, d.app), provider.NewClient{
			ID: id, Name: "Report a safeguarding concern", RedirectURIs: []string{rpRedirect},
			Scopes:               []string{"openid", "profile", "email", "phone", "offline_access"},
			BackchannelLogoutURI: uri, BackchannelLogoutSessionRequired: true,
			// A form app that accepts ES256: its ID and logout tokens are signed so.
			IDTokenSignedResponseAlg: "ES256",
		}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
	}
	view := *d
	view.rp = &oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: d.prov.Endpoint(), RedirectURL: rpRedirect,
		Scopes: []string{oidc.ScopeOpenID, "profile", "email", "phone", oidc.ScopeOfflineAccess}}
	view.verify = d.prov.Verifier(&oidc.Config{ClientID: id})
	fa.idp = &view
	return fa
}

// await returns the next valid logout token the form app received.
func (fa *formApp) await() *formapp.LogoutClaims {
	fa.t.Helper()
	select {
	case c := <-fa.got:
		return c
	case <-time.After(15 * time.Second):
		fa.t.Fatalf("%s received no valid logout token", fa.id)
		return nil
	}
}

// jwsAlg is the alg of a compact JWS's header.
func jwsAlg(t *testing.T, raw string) string {
	t.Helper()
	head, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	var h struct {
		Alg string `json:"alg"`
	}
	if err != nil || json.Unmarshal(b, &h) != nil {
		t.Fatalf("not a JWS: %q", raw)
	}
	return h.Alg
}

func sessionID(t *testing.T, tok *tokens) string {
	t.Helper()
	var c struct {
		SID string `json:"sid"`
	}
	if err := tok.id.Claims(&c); err != nil || c.SID == "" {
		t.Fatalf("ID token without sid (%v)", err)
	}
	return c.SID
}

// Issue 16: two form apps on one single sign-on session; signing out of one
// tells the other within seconds by a valid logout token, its tokens stop
// working at userinfo and refresh, and its next visit asks for the password
// and the phone again. The same when the other form app is down during the
// logout and comes back: the outbox tries again.
func TestBackchannelLogoutEndToEnd(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, map[string]string{"IDP_BACKCHANNEL_RETRY_MAX": "2s"})
		referral := newFormApp(t, d, d.rp.ClientID)
		concern := newFormApp(t, d, "concern-form")
		ctx := context.Background()
		for _, down := range []bool{false, true} {
			p := newPerson(t, true)
			b := d.browser()
			b.idp = referral.idp
			fromReferral := signUp(referral.idp, b, p)

			b.idp = concern.idp
			b.startSignIn()
			if b.code == "" {
				t.Fatalf("the second form app asked for a sign-in again:\n%s", b.page)
			}
			fromConcern := b.exchange()
			if alg := jwsAlg(t, rawIDToken(t, fromConcern)); alg != "ES256" {
				t.Errorf("the ES256 form app's ID token is signed %s", alg)
			}
			sid := sessionID(t, fromConcern)
			if sessionID(t, fromReferral) != sid {
				t.Fatal("the two form apps of one session were given different sids")
			}

			concern.down.Store(down)
			b.idp = referral.idp
			pg := b.get("/end_session?" + url.Values{"id_token_hint": {rawIDToken(t, fromReferral)}}.Encode())
			if pg.status != http.StatusOK || b.heading() != "You have signed out" {
				t.Fatalf("sign out of the referral form: %d %q", pg.status, b.heading())
			}
			if c := referral.await(); c.SessionID != sid || c.Subject != fromReferral.id.Subject {
				t.Errorf("the form app that asked was told sid %q sub %q", c.SessionID, c.Subject)
			}
			if down {
				for i := range 2 { // the first attempt and a retry, both refused
					select {
					case <-concern.tried:
					case <-time.After(15 * time.Second):
						t.Fatalf("the form app that is down was tried %d times, want a retry", i)
					}
				}
				concern.down.Store(false)
			}
			if c := concern.await(); c.SessionID != sid || c.Subject != fromConcern.id.Subject {
				t.Errorf("the other form app was told sid %q sub %q, want %q %q", c.SessionID, c.Subject, sid, fromConcern.id.Subject)
			}

			if _, err := d.prov.UserInfo(ctx, oauth2.StaticTokenSource(fromConcern.Token)); err == nil {
				t.Error("the other form app's access token still answers userinfo")
			}
			stale := &oauth2.Token{RefreshToken: fromConcern.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
			if _, err := concern.idp.rp.TokenSource(ctx, stale).Token(); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
				t.Errorf("the other form app's refresh token: %v, want invalid_grant", err)
			}

			b.idp = concern.idp
			signIn(concern.idp, b, p) // 'Sign In', the password, then 'Confirm it is you'
			proveBySMS(concern.idp, b, p)
			if again := b.exchange(); sessionID(t, again) == sid {
				t.Error("the new sign-in kept the ended session's id")
			}
		}
	})
}
