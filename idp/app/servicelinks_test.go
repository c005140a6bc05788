package app

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/councilforms/idp/factors/email/smtptest"
	"github.com/councilforms/idp/factors/vonage/vonagetest"
)

// Issue 19: outside development mode the server warns at start when the
// council has linked no privacy notice or accessibility statement (the
// footer then shows built-in pages saying to ask); with both set it does not.
func TestStartWarnsWithoutPrivacyOrAccessibilityURL(t *testing.T) {
	relay := smtptest.Start(t)
	for _, tc := range []struct {
		name  string
		extra map[string]string
		warn  []string
	}{
		{"neither", nil, []string{"IDP_PRIVACY_URL is not set", "IDP_ACCESSIBILITY_URL is not set"}},
		{"both", map[string]string{"IDP_PRIVACY_URL": "https://www.example.gov.uk/privacy",
			"IDP_ACCESSIBILITY_URL": "https://www.example.gov.uk/accessibility"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"IDP_ISSUER": "https://login.example.gov.uk", "IDP_KEY_ENCRYPTION_KEY": testKey,
				"IDP_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "idp.db")}
			for k, v := range tc.extra {
				vars[k] = v
			}
			cfg := dlvProduction(t, vonagetest.New(t), relay.Addr, vars["IDP_ISSUER"], vars)
			_, logs := open(t, cfg)
			for _, want := range tc.warn {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("no warning %q at start; logs:\n%s", want, logs)
				}
			}
			if tc.warn == nil && strings.Contains(logs.String(), "_URL is not set") {
				t.Errorf("a warning with both set:\n%s", logs)
			}
		})
	}
}
