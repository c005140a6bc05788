package config

import (
	"strings"

	"github.com/councilforms/idp/factors/b2c"
)

// parseB2C reads the ROPC user flow of Azure AD B2C: the URL and the client id
// go together, and the URL's shape is b2c's own rule (b2c.DiscoveryURL).
func parseB2C(raw map[string]rawValue, c *Config) error {
	url, id := raw["IDP_B2C_ROPC_URL"], raw["IDP_B2C_ROPC_CLIENT_ID"]
	c.B2CROPCURL, c.B2CROPCClientID = strings.TrimSpace(url.text), strings.TrimSpace(id.text)
	var err error
	if c.B2CROPCTimeout, err = parseDuration(raw["IDP_B2C_ROPC_TIMEOUT"]); err != nil {
		return err
	}
	switch {
	case c.B2CROPCURL == "" && c.B2CROPCClientID == "":
		return nil
	case c.B2CROPCURL == "":
		return settingError(url, "is required with IDP_B2C_ROPC_CLIENT_ID")
	case c.B2CROPCClientID == "":
		return settingError(id, "is required with IDP_B2C_ROPC_URL")
	}
	if _, err := b2c.DiscoveryURL(c.B2CROPCURL); err != nil {
		return settingError(url, strings.TrimPrefix(err.Error(), "b2c: "))
	}
	return nil
}
