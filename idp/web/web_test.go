package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui"
)

func TestClientIP(t *testing.T) {
	h := &Handler{cfg: Config{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32"),
	}}}
	tests := []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no proxy", "198.51.100.7:5123", nil, "198.51.100.7"},
		{"untrusted peer's header ignored", "198.51.100.7:5123", []string{"203.0.113.9"}, "198.51.100.7"},
		{"behind the load balancer", "10.1.2.3:443", []string{"203.0.113.9"}, "203.0.113.9"},
		{"client-claimed hops further left ignored", "10.1.2.3:443", []string{"1.2.3.4, 203.0.113.9, 10.9.9.9"}, "203.0.113.9"},
		{"several headers", "10.1.2.3:443", []string{"1.2.3.4", "203.0.113.9"}, "203.0.113.9"},
		{"malformed hop", "10.1.2.3:443", []string{"203.0.113.9, nonsense"}, "10.1.2.3"},
		{"only proxies", "10.1.2.3:443", []string{"10.4.4.4"}, "10.4.4.4"},
		{"ipv6 proxy", "[2001:db8::1]:443", []string{"2001:db8:ffff::5, 2a00:1450::1"}, "2a00:1450::1"},
		{"ipv4-mapped", "10.1.2.3:443", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/login", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := h.clientIP(r); got != tt.want {
				t.Errorf("clientIP = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReturnOrigin(t *testing.T) {
	for uri, want := range map[string]string{
		"https://forms.example.gov.uk/referral/callback": "https://forms.example.gov.uk",
		"http://localhost:8081/callback":                 "http://localhost:8081",
		"https://[2001:db8::1]:8443/cb":                  "https://[2001:db8::1]:8443",
		"javascript:alert(1)":                            "",
		"https:///nohost":                                "",
		"com.example.app:/callback":                      "",
	} {
		if got := returnOrigin(uri); got != want {
			t.Errorf("returnOrigin(%q) = %q; want %q", uri, got, want)
		}
	}
}

// The journey names its mistakes by the pages' input ids.
func TestJourneyFieldsAreInputIDs(t *testing.T) {
	for journeyField, input := range map[string]string{
		journey.FieldEmail: ui.FieldEmail, journey.FieldPassword: ui.FieldPassword,
		journey.FieldConfirm: ui.FieldConfirmPassword, journey.FieldGivenName: ui.FieldGivenName,
		journey.FieldFamilyName: ui.FieldSurname, journey.FieldCode: ui.FieldCode, journey.FieldPhone: ui.FieldPhone,
	} {
		if journeyField != input {
			t.Errorf("journey field %q, page input %q", journeyField, input)
		}
	}
}

// The journey sees a stored account through accountOf: its id and phone, the phone's
// type as factors/phone names it.
func TestAccountOf(t *testing.T) {
	if accountOf(nil) != nil {
		t.Fatal("no user gave an account")
	}
	u := &store.User{ID: "u", Email: "a@example.com", Phone: "+447700900123", PhoneType: "mobile", PhoneVerified: true}
	if got, want := *accountOf(u), (journey.Account{UserID: "u", Phone: "+447700900123", PhoneType: phone.Mobile, PhoneVerified: true}); got != want {
		t.Fatalf("accountOf = %+v, want %+v", got, want)
	}
}
