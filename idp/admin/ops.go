package admin

import (
	"github.com/councilforms/idp/idp/cost"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/store"
)

// Operations is what the form apps, signing keys and texts-and-calls pages
// (formapps.go, keys.go, costs.go) work with besides the store. They use the
// same operations as `idp clients`, `idp keys` and `idp costs`
// (idp/provider's client and key administration, idp/cost).
type Operations struct {
	// ClientSecrets hashes new client secrets as the idp does.
	ClientSecrets *provider.ClientSecrets
	// FileClients are the clients of IDP_CLIENTS_FILE and BuiltInClients
	// those the service defines (this console, the demo form app): listed,
	// read-only.
	FileClients, BuiltInClients []*store.Client
	// Keys is the provider configuration key management needs: the
	// key-encryption key, the default algorithm and the token lifetimes.
	Keys provider.Config
	// UnitCosts price the texts and calls (IDP_SMS_UNIT_COST, IDP_CALL_UNIT_COST).
	UnitCosts cost.Prices
	// DefaultSigningAlg is IDP_SIGNING_ALG, shown for form apps that chose none.
	DefaultSigningAlg string
}
