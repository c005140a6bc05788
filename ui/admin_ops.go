package ui

import "reflect"

// The console's form apps, signing keys and texts-and-calls pages
// (idp/admin formapps.go, keys.go, costs.go).
const (
	PageAdminFormApps      = "admin/form-apps"       // AdminFormAppsPage
	PageAdminFormApp       = "admin/form-app"        // AdminFormAppPage
	PageAdminFormAppSecret = "admin/form-app-secret" // AdminFormAppSecretPage
	PageAdminFormAppRotate = "admin/form-app-rotate" // AdminFormAppRotatePage
	PageAdminSigningKeys   = "admin/signing-keys"    // AdminSigningKeysPage
	PageAdminCosts         = "admin/costs"           // AdminCostsPage
)

func init() {
	addPages(map[string]reflect.Type{
		PageAdminFormApps:      reflect.TypeFor[AdminFormAppsPage](),
		PageAdminFormApp:       reflect.TypeFor[AdminFormAppPage](),
		PageAdminFormAppSecret: reflect.TypeFor[AdminFormAppSecretPage](),
		PageAdminFormAppRotate: reflect.TypeFor[AdminFormAppRotatePage](),
		PageAdminSigningKeys:   reflect.TypeFor[AdminSigningKeysPage](),
		PageAdminCosts:         reflect.TypeFor[AdminCostsPage](),
	})
}

// Form fields of a form app's registration (the add and change forms).
const (
	FieldClientID           = "client_id"
	FieldClientName         = "name"
	FieldRedirectURIs       = "redirect_uris"             // one a line
	FieldPostLogoutURIs     = "post_logout_redirect_uris" // one a line
	FieldBackchannelURI     = "backchannel_logout_uri"
	FieldBackchannelSession = "backchannel_logout_session_required"
	FieldScopes             = "scopes" // separated by spaces
	FieldSigningAlg         = "id_token_signed_response_alg"
	FieldClientType         = "client_type" // confidential or public (adding only)
	FieldOverlap            = "overlap"     // hours the old secret keeps working
	FieldFrom               = "from"
	FieldTo                 = "to"
	FieldBy                 = "by"
)

// AdminFormAppRow is one form app of the list.
type AdminFormAppRow struct {
	ID, Name, Type, Source, State string
	URL                           string // its page
	ReadOnly                      bool   // defined in the clients file or built in
}

// AdminFormAppsPage lists every form app: the database's, the clients
// file's and the built-in ones (read-only).
type AdminFormAppsPage struct {
	Page
	FormApps []AdminFormAppRow
	AddURL   string
}

// AdminChoice is one option of a select.
type AdminChoice struct{ Value, Text string }

// AdminFormAppPage is a form app's page: for a database one, the form that
// changes it (or, with Adding, registers a new one) and its actions; for a
// read-only one, its details.
type AdminFormAppPage struct {
	Page
	Adding   bool
	ReadOnly bool
	// Details are shown above the form (and alone when read-only).
	Details []SummaryRow
	Action  string // where the form posts
	// The form's values.
	ID, Name, RedirectURIs, PostLogoutURIs, BackchannelURI, Scopes, SigningAlg, ClientType string
	BackchannelSession                                                                     bool
	AlgChoices, TypeChoices                                                                []AdminChoice
	Actions                                                                                []AdminAction
	AuditURL                                                                               string
}

// AdminFormAppSecretPage shows a new client secret, once.
type AdminFormAppSecretPage struct {
	Page
	ClientID   string
	Secret     string
	Paragraphs []string
	BackURL    string
}

// AdminFormAppRotatePage asks for the overlap and reason of a new secret.
type AdminFormAppRotatePage struct {
	Page
	Action    string
	ClientID  string
	Overlap   string // hours
	Reason    string
	CancelURL string
}

// AdminKeyRow is one signing key.
type AdminKeyRow struct {
	ID, Algorithm, State, Created, SignsFrom, Retired, LeavesJWKS string
}

// AdminSigningKeysPage lists the signing keys and links to the rotations.
type AdminSigningKeysPage struct {
	Page
	Keys         []AdminKeyRow
	RotateURL    string
	EmergencyURL string
}

// AdminCostCell is a count of texts or calls by outcome.
type AdminCostCell struct{ Sent, Failed, Refused int64 }

// AdminCostRow is one form app's texts, calls, sign-ins and cost in a period
// (FormApp "All form apps" for the period's total).
type AdminCostRow struct {
	Period, FormApp     string
	Texts, Calls        AdminCostCell
	SignIns             int64
	Cost, CostPerSignIn string // "" without unit costs
	Total               bool
}

// AdminCostsPage is the texts and calls page: the report of a range of UTC
// days by day or month, per form app, channel and outcome, with the cost.
type AdminCostsPage struct {
	Page
	Action         string // the filter form's GET target
	From, To, By   string
	ByChoices      []AdminChoice
	UnitCosts      string // "£0.04 a text, £0.095 a call"; "" when not configured
	Rows           []AdminCostRow
	FormAppTotals  []AdminCostRow // the whole range, per form app, then all
	RangeSummary   string
	NothingCounted bool
}
