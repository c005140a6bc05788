package b2c_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/factors/b2c"
	"github.com/councilforms/idp/factors/b2c/b2ctest"
)

const (
	clientID = "0b1e6f4c-3f1a-4d8e-9a55-2c0f1f6b9d21"
	objectID = "4f1a7c2e-8d3b-4b6a-9e0f-1c2d3e4f5a6b"
	email    = "sam.jones@example.gov.uk"
	secret   = "Correct-Horse-Battery-9"
)

func newChecker(t *testing.T, f *b2ctest.Fake, clientID string, timeout time.Duration) (*b2c.ROPC, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	c, err := b2c.New(b2c.Config{TokenURL: f.TokenURL(), ClientID: clientID, Timeout: timeout,
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return c, &logs
}

func TestCheckPassword(t *testing.T) {
	f := b2ctest.New(t, clientID)
	f.AddUser(objectID, email, secret)
	f.AddUser("9d8c7b6a-0000-4000-8000-000000000001", "other@example.gov.uk", "another-password-1")
	f.SignInAs("other@example.gov.uk", "9d8c7b6a-0000-4000-8000-00000000ffff")
	c, logs := newChecker(t, f, clientID, 0)
	ctx := context.Background()

	for _, tc := range []struct {
		name, objectID, user, password string
		want                           bool
	}{
		{"right password", objectID, email, secret, true},
		{"user name in capitals", strings.ToUpper(objectID), strings.ToUpper(email), secret, true},
		{"wrong password", objectID, email, "not-the-password", false},
		{"unknown user", objectID, "nobody@example.gov.uk", secret, false},
		{"token for another object id", "9d8c7b6a-0000-4000-8000-000000000001", "other@example.gov.uk", "another-password-1", false},
		{"right password, another account's object id", "9d8c7b6a-0000-4000-8000-000000000002", email, secret, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := c.CheckPassword(ctx, tc.objectID, tc.user, tc.password)
			if err != nil || ok != tc.want {
				t.Fatalf("CheckPassword = %v, %v; want %v, nil", ok, err, tc.want)
			}
		})
	}
	if !strings.Contains(logs.String(), "another account") {
		t.Errorf("a token for another object id is not logged at WARN:\n%s", logs)
	}
	for _, pw := range []string{secret, "not-the-password", "another-password-1"} {
		if strings.Contains(logs.String(), pw) {
			t.Errorf("the log holds a password:\n%s", logs)
		}
	}
}

func TestCannotCheck(t *testing.T) {
	ctx := context.Background()
	t.Run("B2C down", func(t *testing.T) {
		for _, status := range []int{http.StatusServiceUnavailable, http.StatusInternalServerError, http.StatusTooManyRequests} {
			f := b2ctest.New(t, clientID)
			f.AddUser(objectID, email, secret)
			f.Down(status)
			c, _ := newChecker(t, f, clientID, 0)
			if ok, err := c.CheckPassword(ctx, objectID, email, secret); ok || !errors.Is(err, b2c.ErrUnavailable) {
				t.Errorf("%d: CheckPassword = %v, %v; want ErrUnavailable", status, ok, err)
			}
		}
	})
	t.Run("slow", func(t *testing.T) {
		f := b2ctest.New(t, clientID)
		f.AddUser(objectID, email, secret)
		f.Slow(time.Second)
		c, _ := newChecker(t, f, clientID, 100*time.Millisecond)
		if ok, err := c.CheckPassword(ctx, objectID, email, secret); ok || !errors.Is(err, b2c.ErrUnavailable) {
			t.Errorf("CheckPassword = %v, %v; want ErrUnavailable", ok, err)
		}
	})
	t.Run("another client id: 400 that is not a wrong password", func(t *testing.T) {
		f := b2ctest.New(t, clientID)
		f.AddUser(objectID, email, secret)
		c, _ := newChecker(t, f, "11111111-2222-3333-4444-555555555555", 0)
		if ok, err := c.CheckPassword(ctx, objectID, email, secret); ok || !errors.Is(err, b2c.ErrUnavailable) {
			t.Errorf("CheckPassword = %v, %v; want ErrUnavailable", ok, err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		c, err := b2c.New(b2c.Config{TokenURL: "http://127.0.0.1:1/contoso.onmicrosoft.com/B2C_1_ROPC/oauth2/v2.0/token", ClientID: clientID})
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := c.CheckPassword(ctx, objectID, email, secret); ok || !errors.Is(err, b2c.ErrUnavailable) {
			t.Errorf("CheckPassword = %v, %v; want ErrUnavailable", ok, err)
		}
	})
}

// The fake refuses what B2C would: each request below is missing something the
// ROPC documentation requires.
func TestFakeIsStrict(t *testing.T) {
	f := b2ctest.New(t, clientID)
	f.AddUser(objectID, email, secret)
	good := url.Values{"grant_type": {"password"}, "username": {email}, "password": {secret}, "client_id": {clientID},
		"scope": {"openid " + clientID + " offline_access"}, "response_type": {"token id_token"}}
	post := func(v url.Values) (int, string) {
		resp, err := http.PostForm(f.TokenURL(), v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if status, body := post(good); status != 200 || !strings.Contains(body, `"id_token"`) {
		t.Fatalf("a right request: %d %s", status, body)
	}
	for _, tc := range []struct{ name, field, value, want string }{
		{"another client id", "client_id", "nope", "AADB2C90018"},
		{"no scope", "scope", "", "invalid_scope"},
		{"scope without the client id", "scope", "openid offline_access", "invalid_scope"},
		{"another grant", "grant_type", "client_credentials", "unsupported_grant_type"},
		{"no id token asked for", "response_type", "token", "unsupported_response_type"},
		{"no password", "password", "", "AADB2C90083"},
		{"wrong password", "password", "wrong", "AADB2C90225"},
	} {
		v := url.Values{}
		for k, vv := range good {
			v[k] = vv
		}
		v.Set(tc.field, tc.value)
		if status, body := post(v); status != 400 || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s; want 400 %s", tc.name, status, body, tc.want)
		}
	}
}

func TestDiscoveryURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_ROPC_Auth/oauth2/v2.0/token",
			"https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_ROPC_Auth/v2.0/.well-known/openid-configuration"},
		{"https://contoso.b2clogin.com/contoso.onmicrosoft.com/oauth2/v2.0/token?p=B2C_1_ROPC_Auth",
			"https://contoso.b2clogin.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration?p=B2C_1_ROPC_Auth"},
		{"http://127.0.0.1:8443/contoso.onmicrosoft.com/B2C_1_ROPC/oauth2/v2.0/token",
			"http://127.0.0.1:8443/contoso.onmicrosoft.com/B2C_1_ROPC/v2.0/.well-known/openid-configuration"},
		{"http://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_ROPC_Auth/oauth2/v2.0/token", ""},
		{"https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_ROPC_Auth/oauth2/v2.0/authorize", ""},
		{"https://contoso.b2clogin.com/contoso.onmicrosoft.com/oauth2/v2.0/token", ""},
		{"contoso.b2clogin.com/x/y/oauth2/v2.0/token", ""},
	} {
		got, err := b2c.DiscoveryURL(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("DiscoveryURL(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("DiscoveryURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
