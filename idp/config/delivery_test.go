package config

import (
	"github.com/councilforms/idp/idp/cost"

	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

var (
	rsaKeyOnce sync.Once
	rsaKeyPEM  []byte
)

// writeKey writes a PEM file of der with the given block type and returns its path.
func writeKey(t *testing.T, blockType string, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "private.key")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// vonageKeyFile writes an RSA key in PKCS#8 PEM, as the Vonage dashboard issues it.
func vonageKeyFile(t *testing.T) string {
	t.Helper()
	rsaKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		rsaKeyPEM = der
	})
	return writeKey(t, "PRIVATE KEY", rsaKeyPEM)
}

// providers are complete SMTP and Vonage settings, as production needs them.
func providers(t *testing.T) map[string]string {
	t.Helper()
	return map[string]string{
		"IDP_SMTP_URL":                "smtp://idp:relay-password@relay.example.gov.uk:587",
		"IDP_EMAIL_FROM":              "Norfolk County Council <no-reply@norfolk.example.gov.uk>",
		"IDP_VONAGE_API_KEY":          "abcd1234",
		"IDP_VONAGE_API_SECRET":       "api-secret-value",
		"IDP_VONAGE_APPLICATION_ID":   "app-id",
		"IDP_VONAGE_PRIVATE_KEY_FILE": vonageKeyFile(t),
		"IDP_VONAGE_SIGNATURE_SECRET": "signature-secret-value",
		"IDP_VONAGE_FROM":             "NorfolkCC",
	}
}

// without returns m less the given keys.
func without(m map[string]string, keys ...string) map[string]string {
	out := merge(m, nil)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

func TestDeliveryProduction(t *testing.T) {
	p := providers(t)
	c, err := Load(nil, env(merge(p, map[string]string{
		"IDP_DEV":             "false",
		"IDP_VONAGE_REST_URL": "https://rest.vonage.test/",
		"IDP_PHONE_COUNTRIES": " gb, IE ,gb",
	})))
	if err != nil {
		t.Fatal(err)
	}
	if c.Dev || !c.SMTPConfigured() || !c.VonageConfigured() {
		t.Errorf("dev %v smtp %v vonage %v; want false, true, true", c.Dev, c.SMTPConfigured(), c.VonageConfigured())
	}
	if c.VonageRestURL != "https://rest.vonage.test" || c.VonageAPIURL != "https://api.nexmo.com" {
		t.Errorf("Vonage URLs %q %q", c.VonageRestURL, c.VonageAPIURL)
	}
	if want := []string{"GB", "GG", "IM", "JE", "IE"}; !reflect.DeepEqual(c.PhoneCountries, want) {
		t.Errorf("PhoneCountries = %v, want %v", c.PhoneCountries, want)
	}
	v := c.Vonage([]byte("pem"))
	if v.APIKey != "abcd1234" || v.APISecret != "api-secret-value" || v.ApplicationID != "app-id" || v.From != "NorfolkCC" ||
		v.SignatureSecret != "signature-secret-value" || v.EventBaseURL != c.Issuer || string(v.PrivateKeyPEM) != "pem" {
		t.Errorf("Vonage() = %+v", v)
	}
	if s := c.SMTP(); s.URL != p["IDP_SMTP_URL"] || s.From != p["IDP_EMAIL_FROM"] {
		t.Errorf("SMTP() = %+v", s)
	}
	key, err := c.ReadVonagePrivateKey()
	if err != nil || !strings.Contains(string(key), "BEGIN PRIVATE KEY") {
		t.Errorf("ReadVonagePrivateKey() = %d bytes, %v", len(key), err)
	}
}

func TestDeliveryGoodValues(t *testing.T) {
	p := providers(t)
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := writeKey(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
	tests := []struct {
		name  string
		env   map[string]string
		check func(*Config) bool
	}{
		{"smtps", merge(p, map[string]string{"IDP_SMTP_URL": "smtps://u:p@relay.example.gov.uk"}), func(c *Config) bool { return c.SMTPURL == "smtps://u:p@relay.example.gov.uk" }},
		{"mailpit", merge(p, map[string]string{"IDP_SMTP_URL": "smtp://mailpit:1025?tls=none"}), func(c *Config) bool { return c.SMTPConfigured() }},
		{"dev with SMTP only", map[string]string{"IDP_SMTP_URL": "smtp://localhost:1025", "IDP_EMAIL_FROM": "a@example.org"}, func(c *Config) bool {
			return c.Dev && c.SMTPConfigured() && !c.VonageConfigured()
		}},
		{"dev with Vonage only", without(p, "IDP_SMTP_URL", "IDP_EMAIL_FROM"), func(c *Config) bool { return c.Dev && !c.SMTPConfigured() && c.VonageConfigured() }},
		{"email from without relay in dev", map[string]string{"IDP_EMAIL_FROM": "a@example.org"}, func(c *Config) bool { return c.Dev && !c.SMTPConfigured() }},
		{"pkcs1 key", merge(p, map[string]string{"IDP_VONAGE_PRIVATE_KEY_FILE": pkcs1}), func(c *Config) bool { return c.VonagePrivateKeyFile == pkcs1 }},
		{"sender number", merge(p, map[string]string{"IDP_VONAGE_FROM": "+447700900123"}), func(c *Config) bool { return c.VonageFrom == "+447700900123" }},
		{"countries without GB", map[string]string{"IDP_PHONE_COUNTRIES": "ie,fr"}, func(c *Config) bool { return reflect.DeepEqual(c.PhoneCountries, []string{"IE", "FR"}) }},
		{"ceiling", map[string]string{"IDP_SEND_DAILY_CEILING": " 250 "}, func(c *Config) bool { return c.SendDailyCeiling == 250 }},
		{"hourly defaults", nil, func(c *Config) bool { return c.SendPerRecipient == 10 && c.SendPerClient == 200 }},
		{"hourly limits", map[string]string{"IDP_SEND_HOURLY_PER_RECIPIENT": "30", "IDP_SEND_HOURLY_PER_CLIENT": " 1000 "}, func(c *Config) bool {
			// The daily budget, not set, follows a raised hourly one.
			return c.SendPerRecipient == 30 && c.SendPerClient == 1000 && c.SendPerRecipientDay == 30
		}},
		{"daily limit", map[string]string{"IDP_SEND_HOURLY_PER_RECIPIENT": "12", "IDP_SEND_DAILY_PER_RECIPIENT": "12"}, func(c *Config) bool {
			return c.SendPerRecipientDay == 12 && c.Sends().PerRecipientDay == 12
		}},
		{"enrolment limits", map[string]string{"IDP_ENROL_NUMBERS_PER_DAY": "1", "IDP_ENROL_SENDS_PER_DAY": "3"}, func(c *Config) bool {
			s := c.Sends()
			return s.EnrolNumbersDay == 1 && s.EnrolSendsDay == 3 && s.PerRecipientHour == 10 && s.PerClientHour == 200
		}},
		{"share", map[string]string{"IDP_SEND_CEILING_VERIFIED_SHARE": " 90% ", "IDP_SEND_DAILY_CEILING": "100"}, func(c *Config) bool {
			return c.Ceiling().VerifiedShare == 90 && c.Ceiling().Daily == 100
		}},
		{"no share", map[string]string{"IDP_SEND_CEILING_VERIFIED_SHARE": "0"}, func(c *Config) bool { return c.SendCeilingVerifiedShare == 0 }},
		{"unit costs", map[string]string{"IDP_SMS_UNIT_COST": "0.0395", "IDP_CALL_UNIT_COST": "£0.09"}, func(c *Config) bool {
			return c.UnitCosts() == cost.Prices{SMS: 3950, Call: 9000}
		}},
		{"no unit costs", map[string]string{}, func(c *Config) bool { return !c.UnitCosts().Configured() }},
		{"contact", map[string]string{"IDP_CONTACT_TEXT": " call customer services on 01632 960 001. "}, func(c *Config) bool {
			return c.ContactText == "call customer services on 01632 960 001"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(nil, env(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected config %+v", *c)
			}
		})
	}
}

func TestDeliveryBadValues(t *testing.T) {
	p := providers(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	ecFile := writeKey(t, "PRIVATE KEY", ecDER)
	notPEM := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(notPEM, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	off := map[string]string{"IDP_DEV": "false"}
	tests := []struct {
		name    string
		env     map[string]string
		prefix  string
		contain string
	}{
		{"no relay in production", merge(off, without(p, "IDP_SMTP_URL")), "IDP_SMTP_URL: required when IDP_DEV is off (", "IDP_DEV=true"},
		{"no relay with PostgreSQL", merge(without(p, "IDP_SMTP_URL"), map[string]string{"IDP_DATABASE_URL": "postgres://db/idp", "IDP_KEY_ENCRYPTION_KEY": testKey}),
			"IDP_SMTP_URL: required when IDP_DEV is off", "dev inbox"},
		{"no Vonage in production", merge(off, map[string]string{"IDP_SMTP_URL": p["IDP_SMTP_URL"], "IDP_EMAIL_FROM": p["IDP_EMAIL_FROM"]}),
			"IDP_VONAGE_API_KEY: required when IDP_DEV is off (", "IDP_VONAGE_PRIVATE_KEY_FILE"},
		{"SMS settings only", without(p, "IDP_VONAGE_APPLICATION_ID", "IDP_VONAGE_PRIVATE_KEY_FILE", "IDP_VONAGE_SIGNATURE_SECRET"),
			"IDP_VONAGE_APPLICATION_ID, IDP_VONAGE_PRIVATE_KEY_FILE, IDP_VONAGE_SIGNATURE_SECRET: not set, but IDP_VONAGE_API_KEY", "needs all of"},
		{"voice without a key", without(p, "IDP_VONAGE_PRIVATE_KEY_FILE"), "IDP_VONAGE_PRIVATE_KEY_FILE: not set, but ", "IDP_VONAGE_APPLICATION_ID"},
		{"partial in dev mode too", map[string]string{"IDP_VONAGE_FROM": "NorfolkCC"}, "IDP_VONAGE_API_KEY, ", "not set, but IDP_VONAGE_FROM is"},
		{"key file missing", merge(p, map[string]string{"IDP_VONAGE_PRIVATE_KEY_FILE": "/nonexistent/private.key"}), "IDP_VONAGE_PRIVATE_KEY_FILE: ", "no such file"},
		{"key file not PEM", merge(p, map[string]string{"IDP_VONAGE_PRIVATE_KEY_FILE": notPEM}), "IDP_VONAGE_PRIVATE_KEY_FILE: ", "no PEM block"},
		{"key not RSA", merge(p, map[string]string{"IDP_VONAGE_PRIVATE_KEY_FILE": ecFile}), "IDP_VONAGE_PRIVATE_KEY_FILE: ", "not an RSA key"},
		{"relay scheme", merge(p, map[string]string{"IDP_SMTP_URL": "http://relay.example.gov.uk"}), "IDP_SMTP_URL ", "smtp or smtps"},
		{"relay tls value", merge(p, map[string]string{"IDP_SMTP_URL": "smtp://relay:25?tls=maybe"}), "IDP_SMTP_URL ", "starttls, opportunistic or none"},
		{"relay without from", without(p, "IDP_EMAIL_FROM"), "IDP_EMAIL_FROM ", "not set"},
		{"bad from", merge(p, map[string]string{"IDP_EMAIL_FROM": "nobody"}), "IDP_EMAIL_FROM ", "not an email address"},
		{"sender too long", merge(p, map[string]string{"IDP_VONAGE_FROM": "Norfolk County Council"}), "IDP_VONAGE_FROM ", "11 letters"},
		{"rest url", merge(p, map[string]string{"IDP_VONAGE_REST_URL": "ftp://rest.example"}), "IDP_VONAGE_REST_URL ", "http(s) URL"},
		{"api url", merge(p, map[string]string{"IDP_VONAGE_API_URL": "api.nexmo.com"}), "IDP_VONAGE_API_URL ", "http(s) URL"},
		{"country UK", map[string]string{"IDP_PHONE_COUNTRIES": "UK"}, "IDP_PHONE_COUNTRIES: ", "use GB"},
		{"country unknown", map[string]string{"IDP_PHONE_COUNTRIES": "GB,XX"}, "IDP_PHONE_COUNTRIES: ", `"XX" is not an ISO 3166`},
		{"country three letters", map[string]string{"IDP_PHONE_COUNTRIES": "GBR"}, "IDP_PHONE_COUNTRIES: ", "two-letter"},
		{"country continent", map[string]string{"IDP_PHONE_COUNTRIES": "EU"}, "IDP_PHONE_COUNTRIES: ", "two-letter"},
		{"no country", map[string]string{"IDP_PHONE_COUNTRIES": " , "}, "IDP_PHONE_COUNTRIES: ", "at least one"},
		{"ceiling zero", map[string]string{"IDP_SEND_DAILY_CEILING": "0"}, "IDP_SEND_DAILY_CEILING: ", "at least 1"},
		{"sms cost words", map[string]string{"IDP_SMS_UNIT_COST": "4p"}, "IDP_SMS_UNIT_COST: ", "amount in pounds such as 0.04"},
		{"call cost negative", map[string]string{"IDP_CALL_UNIT_COST": "-0.09"}, "IDP_CALL_UNIT_COST: ", "amount in pounds"},
		{"sms cost too precise", map[string]string{"IDP_SMS_UNIT_COST": "0.000001"}, "IDP_SMS_UNIT_COST: ", "at most 5 decimal places"},
		{"ceiling words", map[string]string{"IDP_SEND_DAILY_CEILING": "lots"}, "IDP_SEND_DAILY_CEILING: ", "whole number"},
		{"per recipient too low", map[string]string{"IDP_SEND_HOURLY_PER_RECIPIENT": "2"}, "IDP_SEND_HOURLY_PER_RECIPIENT: ", "at least 3"},
		{"per recipient words", map[string]string{"IDP_SEND_HOURLY_PER_RECIPIENT": "ten"}, "IDP_SEND_HOURLY_PER_RECIPIENT: ", "whole number"},
		{"per client zero", map[string]string{"IDP_SEND_HOURLY_PER_CLIENT": "0"}, "IDP_SEND_HOURLY_PER_CLIENT: ", "at least 1"},
		{"daily below hourly", map[string]string{"IDP_SEND_HOURLY_PER_RECIPIENT": "12", "IDP_SEND_DAILY_PER_RECIPIENT": "11"},
			"IDP_SEND_DAILY_PER_RECIPIENT: ", "at least IDP_SEND_HOURLY_PER_RECIPIENT (12)"},
		{"daily words", map[string]string{"IDP_SEND_DAILY_PER_RECIPIENT": "many"}, "IDP_SEND_DAILY_PER_RECIPIENT: ", "whole number"},
		{"share 100", map[string]string{"IDP_SEND_CEILING_VERIFIED_SHARE": "100"}, "IDP_SEND_CEILING_VERIFIED_SHARE: ", "from 0 to 99"},
		{"share negative", map[string]string{"IDP_SEND_CEILING_VERIFIED_SHARE": "-1"}, "IDP_SEND_CEILING_VERIFIED_SHARE: ", "from 0 to 99"},
		{"share fraction", map[string]string{"IDP_SEND_CEILING_VERIFIED_SHARE": "0.8"}, "IDP_SEND_CEILING_VERIFIED_SHARE: ", "whole per cent"},
		{"enrol numbers zero", map[string]string{"IDP_ENROL_NUMBERS_PER_DAY": "0"}, "IDP_ENROL_NUMBERS_PER_DAY: ", "at least 1"},
		{"enrol sends too low", map[string]string{"IDP_ENROL_SENDS_PER_DAY": "2"}, "IDP_ENROL_SENDS_PER_DAY: ", "at least 3"},
		{"contact blank", map[string]string{"IDP_CONTACT_TEXT": "  "}, "IDP_CONTACT_TEXT: ", "not be blank"},
		{"contact two lines", map[string]string{"IDP_CONTACT_TEXT": "call us\non 01632 960 001"}, "IDP_CONTACT_TEXT: ", "one line"},
		{"contact too long", map[string]string{"IDP_CONTACT_TEXT": strings.Repeat("call ", 41)}, "IDP_CONTACT_TEXT: ", "200 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(nil, env(tt.env))
			if err == nil {
				t.Fatalf("Load succeeded, want an error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.prefix) || !strings.Contains(msg, tt.contain) || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line starting %q containing %q", msg, tt.prefix, tt.contain)
			}
			for _, secret := range []string{"relay-password", "api-secret-value", "signature-secret-value"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error echoes a secret: %q", msg)
				}
			}
		})
	}
}

// A bad relay URL holding a password is reported without it.
func TestSMTPPasswordNotEchoed(t *testing.T) {
	for _, u := range []string{"smtp://idp:relay-password@/", "smtp://idp:relay-password@relay:99999", "smtp://idp:relay-password@relay:25/path"} {
		_, err := Load(nil, env(map[string]string{"IDP_SMTP_URL": u, "IDP_EMAIL_FROM": "a@example.org"}))
		if err == nil || strings.Contains(err.Error(), "relay-password") {
			t.Errorf("IDP_SMTP_URL=%s: error %v", u, err)
		}
	}
}

func TestDeliveryFlags(t *testing.T) {
	p := providers(t)
	c, err := Load([]string{"--dev=false", "--smtp-url=smtp://mailpit:1025?tls=none", "--send-daily-ceiling=5", "--phone-countries=IE"}, env(p))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPURL != "smtp://mailpit:1025?tls=none" || c.SendDailyCeiling != 5 || !reflect.DeepEqual(c.PhoneCountries, []string{"IE"}) {
		t.Errorf("flags not applied: %q %d %v", c.SMTPURL, c.SendDailyCeiling, c.PhoneCountries)
	}
	if _, err := Load([]string{"--send-daily-ceiling=-1"}, env(nil)); err == nil || !strings.HasPrefix(err.Error(), "--send-daily-ceiling: ") {
		t.Errorf("bad flag: error %v, want it to name --send-daily-ceiling", err)
	}
	_, err = Load([]string{"--vonage-api-key=k"}, env(nil))
	if err == nil || !strings.Contains(err.Error(), "not set, but --vonage-api-key is") {
		t.Errorf("partial Vonage by flag: error %v", err)
	}
}

// Admin commands send nothing: they need no providers, but what is given is checked.
func TestLoadAdminNeedsNoProviders(t *testing.T) {
	vars := map[string]string{"IDP_DATABASE_URL": "postgres://db/idp", "IDP_KEY_ENCRYPTION_KEY": testKey}
	if _, err := Load(nil, env(vars)); err == nil {
		t.Fatal("Load accepted production settings without providers")
	}
	c, err := LoadAdmin(nil, env(vars))
	if err != nil {
		t.Fatalf("LoadAdmin: %v", err)
	}
	if c.Dev || c.SMTPConfigured() || c.VonageConfigured() {
		t.Errorf("dev %v smtp %v vonage %v", c.Dev, c.SMTPConfigured(), c.VonageConfigured())
	}
	for _, bad := range []map[string]string{
		{"IDP_SMTP_URL": "http://relay"},
		{"IDP_VONAGE_API_KEY": "k"},
		{"IDP_SEND_DAILY_CEILING": "none"},
	} {
		if _, err := LoadAdmin(nil, env(merge(vars, bad))); err == nil {
			t.Errorf("LoadAdmin accepted %v", bad)
		}
	}
}
