package config

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/councilforms/idp/factors/email"
	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/factors/vonage"
)

// vonageRequired are the Vonage settings that go together: the SMS API needs the key,
// secret and sender; the Voice API the application and its key; the webhooks of both
// the signature secret. The idp offers 'Call Me' on every number and texts only on
// mobiles, so a Vonage account without calls (or without texts) is not enough.
var vonageRequired = []string{
	"IDP_VONAGE_API_KEY",
	"IDP_VONAGE_API_SECRET",
	"IDP_VONAGE_APPLICATION_ID",
	"IDP_VONAGE_PRIVATE_KEY_FILE",
	"IDP_VONAGE_SIGNATURE_SECRET",
	"IDP_VONAGE_FROM",
}

// maxPrivateKeyFile bounds what is read of IDP_VONAGE_PRIVATE_KEY_FILE: an RSA key in
// PEM is a few kilobytes.
const maxPrivateKeyFile = 64 << 10

// checkDelivery checks the SMTP and Vonage settings together, once Settings are
// parsed: production (IDP_DEV off) needs both providers when p.requireDelivery, and
// Vonage is all or nothing. The grammar of IDP_SMTP_URL and the checks on the
// Vonage values are the factors' own (email.SMTPConfig.Validate,
// vonage.Config.Validate), so that what loads here is what the senders accept.
func checkDelivery(p *parsing) error {
	c, raw := p.c, p.raw
	switch {
	case c.SMTPURL != "":
		// Its errors name IDP_SMTP_URL or IDP_EMAIL_FROM and never repeat the password.
		if err := c.SMTP().Validate(); err != nil {
			return err
		}
	case !c.Dev && p.requireDelivery:
		return errors.New("IDP_SMTP_URL: required when IDP_DEV is off (verification codes are emailed through it, " +
			"e.g. smtp://user:password@relay.example.gov.uk:587 with IDP_EMAIL_FROM; or set IDP_DEV=true to capture email in the dev inbox)")
	}

	var set, missing []string
	for _, k := range vonageRequired {
		if strings.TrimSpace(raw[k].text) != "" {
			set = append(set, raw[k].source)
		} else {
			missing = append(missing, k)
		}
	}
	switch {
	case len(set) == 0 && (c.Dev || !p.requireDelivery):
		return nil
	case len(set) == 0:
		return fmt.Errorf("IDP_VONAGE_API_KEY: required when IDP_DEV is off (text messages and calls are sent through Vonage: "+
			"set %s; or set IDP_DEV=true to capture them in the dev inbox)", strings.Join(vonageRequired, ", "))
	case len(missing) > 0:
		verb := "is"
		if len(set) > 1 {
			verb = "are"
		}
		return fmt.Errorf("%s: not set, but %s %s: Vonage needs all of %s",
			strings.Join(missing, ", "), strings.Join(set, ", "), verb, strings.Join(vonageRequired, ", "))
	}

	keyPEM, err := readPrivateKey(raw["IDP_VONAGE_PRIVATE_KEY_FILE"])
	if err != nil {
		return err
	}
	// Its errors name the variable at fault and never repeat a secret.
	return c.Vonage(keyPEM).Validate()
}

// Vonage is the client configuration of these settings, with keyPEM the contents of
// VonagePrivateKeyFile. Webhook URLs are built from the issuer.
func (c *Config) Vonage(keyPEM []byte) vonage.Config {
	return vonage.Config{
		APIKey:          c.VonageAPIKey,
		APISecret:       c.VonageAPISecret,
		ApplicationID:   c.VonageApplicationID,
		PrivateKeyPEM:   keyPEM,
		SignatureSecret: c.VonageSignatureSecret,
		From:            c.VonageFrom,
		RestURL:         c.VonageRestURL,
		APIURL:          c.VonageAPIURL,
		EventBaseURL:    c.Issuer,
	}
}

// SMTP is the relay configuration of these settings.
func (c *Config) SMTP() email.SMTPConfig {
	return email.SMTPConfig{URL: c.SMTPURL, From: c.EmailFrom}
}

// ReadVonagePrivateKey reads the key file named by IDP_VONAGE_PRIVATE_KEY_FILE (Load
// has checked it once; it is read again when the client is built, so the key itself
// is not kept in the Config).
func (c *Config) ReadVonagePrivateKey() ([]byte, error) {
	return readPrivateKey(rawValue{text: c.VonagePrivateKeyFile, source: "IDP_VONAGE_PRIVATE_KEY_FILE"})
}

// readPrivateKey reads an RSA private key in PEM, PKCS#8 (as the Vonage dashboard
// issues it) or PKCS#1. The errors name the file, never its contents.
func readPrivateKey(r rawValue) ([]byte, error) {
	f, err := os.Open(r.text)
	if err != nil {
		reason := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			reason = pe.Err.Error()
		}
		return nil, settingError(r, "cannot read the file: "+reason)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPrivateKeyFile+1))
	if err != nil {
		return nil, settingError(r, "cannot read the file: "+err.Error())
	}
	if len(b) > maxPrivateKeyFile {
		return nil, settingError(r, "is too large for a private key file")
	}
	const want = "must be the Vonage application's RSA private key in PEM (the private.key file the dashboard issues)"
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, settingError(r, want+": no PEM block found")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if _, ok := k.(*rsa.PrivateKey); !ok {
			return nil, settingError(r, want+": the key is not an RSA key")
		}
		return b, nil
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return b, nil
	}
	return nil, settingError(r, want+": the PEM block is not a PKCS#8 or PKCS#1 private key")
}

// parseCountries reads a comma-separated list of ISO 3166 region codes.
func parseCountries(r rawValue) ([]string, error) {
	countries, err := phone.Countries(r.text)
	if err != nil {
		return nil, settingError(r, err.Error())
	}
	return countries, nil
}
