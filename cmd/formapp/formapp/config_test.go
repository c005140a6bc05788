package formapp

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := ConfigFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Addr: "localhost:8081", Issuer: "http://localhost:8080", ClientID: "demo-formapp",
		RedirectURL: "http://localhost:8081/callback", PostLogoutRedirectURL: "http://localhost:8081/signed-out",
		OrgName: "Norfolk County Council", SessionTTL: time.Hour,
	}
	if cfg != want {
		t.Errorf("defaults = %+v, want %+v", cfg, want)
	}
	if cfg.secureCookies() {
		t.Error("cookies Secure over http")
	}
}

func TestConfigFromEnv(t *testing.T) {
	cfg, err := ConfigFromEnv(env(map[string]string{
		"FORMAPP_ADDR":                     ":9000",
		"FORMAPP_ISSUER":                   "https://login.example.gov.uk/",
		"FORMAPP_ISSUER_BACKCHANNEL_URL":   "http://idp:8080",
		"FORMAPP_CLIENT_ID":                "referrals",
		"FORMAPP_CLIENT_SECRET":            "s3cret",
		"FORMAPP_REDIRECT_URL":             "https://forms.example.gov.uk/callback",
		"FORMAPP_POST_LOGOUT_REDIRECT_URL": "https://forms.example.gov.uk/signed-out",
		"FORMAPP_SESSION_TTL":              "30m",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Issuer != "https://login.example.gov.uk" || cfg.ClientSecret != "s3cret" || cfg.BackchannelURL != "http://idp:8080" ||
		cfg.SessionTTL != 30*time.Minute || !cfg.secureCookies() {
		t.Errorf("config = %+v", cfg)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"FORMAPP_ADDR": "8081"}, "FORMAPP_ADDR"},
		{map[string]string{"FORMAPP_ISSUER": "localhost:8080"}, "FORMAPP_ISSUER"},
		{map[string]string{"FORMAPP_ISSUER": "http://idp.example.org"}, "FORMAPP_ISSUER: https is required"},
		{map[string]string{"FORMAPP_ISSUER": "https://idp.example.org?x=1"}, "FORMAPP_ISSUER"},
		{map[string]string{"FORMAPP_ISSUER_BACKCHANNEL_URL": "idp:8080"}, "FORMAPP_ISSUER_BACKCHANNEL_URL"},
		{map[string]string{"FORMAPP_REDIRECT_URL": "/callback"}, "FORMAPP_REDIRECT_URL"},
		{map[string]string{"FORMAPP_POST_LOGOUT_REDIRECT_URL": "ftp://x/y"}, "FORMAPP_POST_LOGOUT_REDIRECT_URL"},
		{map[string]string{"FORMAPP_INSECURE": "maybe"}, "FORMAPP_INSECURE"},
		{map[string]string{"FORMAPP_SESSION_TTL": "-1h"}, "FORMAPP_SESSION_TTL"},
	}
	for _, tc := range tests {
		_, err := ConfigFromEnv(env(tc.env))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ConfigFromEnv(%v) error = %v, want one line starting %q", tc.env, err, tc.want)
		}
	}
	// FORMAPP_INSECURE allows http to a private host name.
	if _, err := ConfigFromEnv(env(map[string]string{"FORMAPP_ISSUER": "http://idp:8080", "FORMAPP_INSECURE": "true"})); err != nil {
		t.Errorf("insecure issuer refused: %v", err)
	}
}

func TestNormalisePostcode(t *testing.T) {
	for in, want := range map[string]string{
		"nr12dh": "NR1 2DH", "NR1  2DH": "NR1 2DH", " sw1a 1aa ": "SW1A 1AA", "M11AE": "M1 1AE", "abc": "ABC",
	} {
		if got := normalisePostcode(in); got != want {
			t.Errorf("normalisePostcode(%q) = %q, want %q", in, got, want)
		}
	}
	for pc, ok := range map[string]bool{"NR1 2DH": true, "SW1A 1AA": true, "M1 1AE": true, "ABC": false, "NR1 2D1": false} {
		if postcodePattern.MatchString(pc) != ok {
			t.Errorf("postcode %q valid = %v, want %v", pc, !ok, ok)
		}
	}
}

func TestValidEmail(t *testing.T) {
	for e, ok := range map[string]bool{
		"ada@example.org": true, "a.b+c@nhs.net": true, "ada": false, "ada@localhost": false,
		"Ada <ada@example.org>": false, "@example.org": false,
	} {
		if validEmail(e) != ok {
			t.Errorf("validEmail(%q) = %v, want %v", e, !ok, ok)
		}
	}
}

func TestReferenceNumbers(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		r := newReference()
		if len(r) != len("SCR-XXXX-XXXX") || !strings.HasPrefix(r, "SCR-") || r[8] != '-' {
			t.Fatalf("reference %q has the wrong shape", r)
		}
		for _, c := range strings.ReplaceAll(r[4:], "-", "") {
			if !strings.ContainsRune(referenceAlphabet, c) {
				t.Fatalf("reference %q uses %q, which is easily misread", r, c)
			}
		}
		if seen[r] {
			t.Fatalf("reference %q repeated", r)
		}
		seen[r] = true
	}
}

func TestSessionsExpire(t *testing.T) {
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	s := newSessions(time.Hour)
	s.now = func() time.Time { return now }
	s.put(&Session{ID: "a", Answers: Answers{PersonName: "Ann"}})
	if got := s.get("a"); got == nil || got.Answers.PersonName != "Ann" {
		t.Fatalf("get = %+v", got)
	}
	now = now.Add(59 * time.Minute)
	s.put(s.get("a")) // activity extends the session
	now = now.Add(59 * time.Minute)
	if s.get("a") == nil {
		t.Fatal("session expired despite activity")
	}
	now = now.Add(time.Hour)
	if s.get("a") != nil {
		t.Fatal("idle session still there after its TTL")
	}
}
