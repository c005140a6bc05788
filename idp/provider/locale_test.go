package provider

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// The pages' languages are advertised, ui_locales reaches the login pages,
// and the account's language is the locale claim of the profile scope.
func TestLocale(t *testing.T) {
	e := newEnv(t, memorySQLite(t), nil)
	resp, err := e.srv.Client().Get(e.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UILocales []string `json:"ui_locales_supported"`
		Claims    []string `json:"claims_supported"`
	}
	err = json.NewDecoder(resp.Body).Decode(&d)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.UILocales, []string{"en", "cy"}) || !slices.Contains(d.Claims, "locale") {
		t.Errorf("discovery: ui_locales_supported %v, claims_supported %v", d.UILocales, d.Claims)
	}

	u := e.newUser()
	u.Locale = "cy"
	if err := e.st.db.UpdateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	e.signInAs(u, time.Time{})
	r := e.rp("formapp")
	f := newFlow()
	tok := r.mustExchange(r.signIn(e.browser(), f, oauth2.SetAuthURLParam("ui_locales", "cy-GB en")), f)
	e.mu.Lock()
	got := e.lastUILocales
	e.mu.Unlock()
	if got != "cy-GB en" {
		t.Errorf("LoginRequest.UILocales = %q, want %q", got, "cy-GB en")
	}
	if tok.claims["locale"] != "cy" {
		t.Errorf("ID token locale = %v, want cy", tok.claims["locale"])
	}
	info, err := r.userinfo(tok.raw.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if info["locale"] != "cy" {
		t.Errorf("userinfo locale = %v, want cy", info["locale"])
	}
}
