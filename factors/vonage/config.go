package vonage

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Default API base URLs.
const (
	DefaultRestURL = "https://rest.nexmo.com"
	DefaultAPIURL  = "https://api.nexmo.com"
)

// Config is how to reach one Vonage account and application. The configuration
// variable that sets each field is named in its comment; Validate's errors name it.
type Config struct {
	APIKey        string // IDP_VONAGE_API_KEY
	APISecret     string // IDP_VONAGE_API_SECRET
	ApplicationID string // IDP_VONAGE_APPLICATION_ID (voice)
	PrivateKeyPEM []byte // contents of IDP_VONAGE_PRIVATE_KEY_FILE (voice)
	// SignatureSecret verifies signed webhooks: IDP_VONAGE_SIGNATURE_SECRET.
	SignatureSecret string
	// From is the SMS sender id (up to 11 letters and digits) or a Vonage number in
	// E.164: IDP_VONAGE_FROM. Calls come from it when it is a number; otherwise Vonage
	// picks one of the numbers linked to the application.
	From string
	// RestURL is the SMS API base (IDP_VONAGE_REST_URL), default DefaultRestURL.
	RestURL string
	// APIURL is the Voice API base (IDP_VONAGE_API_URL), default DefaultAPIURL.
	APIURL string
	// EventBaseURL is this server's public base URL (IDP_ISSUER); webhook URLs given to
	// Vonage are built from it.
	EventBaseURL string
}

// withDefaults fills the base URLs and trims trailing slashes.
func (c Config) withDefaults() Config {
	if c.RestURL == "" {
		c.RestURL = DefaultRestURL
	}
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	c.RestURL = strings.TrimRight(c.RestURL, "/")
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	c.EventBaseURL = strings.TrimRight(c.EventBaseURL, "/")
	return c
}

// Validate checks that every field is present and well formed. Its error is one line
// naming the configuration variable at fault; it never repeats a secret.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case strings.TrimSpace(c.APIKey) == "":
		return errors.New("IDP_VONAGE_API_KEY is not set")
	case strings.TrimSpace(c.APISecret) == "":
		return errors.New("IDP_VONAGE_API_SECRET is not set")
	case strings.TrimSpace(c.ApplicationID) == "":
		return errors.New("IDP_VONAGE_APPLICATION_ID is not set")
	case len(c.PrivateKeyPEM) == 0:
		return errors.New("IDP_VONAGE_PRIVATE_KEY_FILE is not set or the file is empty")
	case strings.TrimSpace(c.SignatureSecret) == "":
		return errors.New("IDP_VONAGE_SIGNATURE_SECRET is not set")
	case strings.TrimSpace(c.From) == "":
		return errors.New("IDP_VONAGE_FROM is not set")
	}
	if _, err := parsePrivateKey(c.PrivateKeyPEM); err != nil {
		return fmt.Errorf("IDP_VONAGE_PRIVATE_KEY_FILE: %v", err)
	}
	if !validSender(c.From) {
		return errors.New("IDP_VONAGE_FROM must be a number in international format or a sender id of up to 11 letters and digits")
	}
	if err := checkBaseURL(c.RestURL, false); err != nil {
		return fmt.Errorf("IDP_VONAGE_REST_URL %v", err)
	}
	if err := checkBaseURL(c.APIURL, false); err != nil {
		return fmt.Errorf("IDP_VONAGE_API_URL %v", err)
	}
	if err := checkBaseURL(c.EventBaseURL, true); err != nil {
		return fmt.Errorf("IDP_ISSUER %v (Vonage webhooks are built from it)", err)
	}
	return nil
}

func checkBaseURL(raw string, needHTTPSUnlessLocal bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must be an http(s) URL without query or fragment")
	}
	if needHTTPSUnlessLocal && u.Scheme != "https" && !isLocalHost(u.Hostname()) {
		return errors.New("must be https for Vonage to call it")
	}
	return nil
}

func isLocalHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

// validSender accepts a number (optionally with +) of 7 to 15 digits or an
// alphanumeric sender id of 1 to 11 characters.
func validSender(s string) bool {
	if n, ok := phoneDigits(s); ok {
		return len(n) >= 7
	}
	if len(s) == 0 || len(s) > 11 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ' ') {
			return false
		}
	}
	return true
}

// phoneDigits turns an E.164 number (+ optional) into the digits-only form Vonage
// wants; ok is false when s is not such a number.
func phoneDigits(s string) (string, bool) {
	d := strings.TrimPrefix(s, "+")
	if len(d) < 2 || len(d) > 15 || d[0] == '0' {
		return "", false
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return d, true
}

// parsePrivateKey reads an RSA private key in PKCS#8 (as Vonage's dashboard issues it)
// or PKCS#1 PEM.
func parsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("the key is not an RSA key")
		}
		return rk, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	return nil, errors.New("cannot parse the RSA private key (want PKCS#8 or PKCS#1 PEM)")
}
