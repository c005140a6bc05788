package config

import (
	"strings"

	"github.com/councilforms/idp/factors/b2c"
)

// checkB2C checks the ROPC user flow of Azure AD B2C once Settings are parsed: the
// URL and the client id go together, and the URL's shape is b2c's own rule
// (b2c.DiscoveryURL).
func checkB2C(p *parsing) error {
	c := p.c
	url, id := p.raw["IDP_B2C_ROPC_URL"], p.raw["IDP_B2C_ROPC_CLIENT_ID"]
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
