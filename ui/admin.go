package ui

import "reflect"

// The operators' console's pages (idp/admin), each templates/admin/<name>.html
// with one view model here. A console page is added like any page: a name
// "admin/<name>", a template and a model registered in pageModels (by
// addPages from an init of the file holding the models, so that each area of
// the console keeps its pages in a file of its own: admin.go, admin_clients.go
// ...), and a sample in a samples_test.go file so the golden tests cover it.
const (
	PageAdminHome      = "admin/home"      // AdminHomePage
	PageAdminForbidden = "admin/forbidden" // AdminForbiddenPage
	PageAdminConfirm   = "admin/confirm"   // AdminConfirmPage
	PageAdminPeople    = "admin/people"    // AdminPeoplePage
	PageAdminPerson    = "admin/person"    // AdminPersonPage
	PageAdminAudit     = "admin/audit"     // AdminAuditPage
	PageAdminOperators = "admin/operators" // AdminOperatorsPage
)

func init() {
	addPages(map[string]reflect.Type{
		PageAdminHome:      reflect.TypeFor[AdminHomePage](),
		PageAdminForbidden: reflect.TypeFor[AdminForbiddenPage](),
		PageAdminConfirm:   reflect.TypeFor[AdminConfirmPage](),
		PageAdminPeople:    reflect.TypeFor[AdminPeoplePage](),
		PageAdminPerson:    reflect.TypeFor[AdminPersonPage](),
		PageAdminAudit:     reflect.TypeFor[AdminAuditPage](),
		PageAdminOperators: reflect.TypeFor[AdminOperatorsPage](),
	})
}

// addPages registers pages and their models; a name given twice is a
// programming error.
func addPages(m map[string]reflect.Type) {
	for name, model := range m {
		if _, dup := pageModels[name]; dup {
			panic("ui: page " + name + " registered twice")
		}
		pageModels[name] = model
	}
}

// Console form field names.
const (
	FieldReason = "reason" // why an operator does an action: in its audit event
	FieldQuery  = "q"      // the people search
	FieldRole   = "role"   // a console role (the operators page)
	// The audit filter's fields.
	FieldPerson   = "person"
	FieldClient   = "client"
	FieldKind     = "kind"
	FieldOperator = "operator"
	FieldSince    = "since"
	FieldUntil    = "until"
)

// SummaryRow is one row of a summary list: a key and its value.
type SummaryRow struct{ Key, Value string }

// AdminSection is a part of the console the home page links to.
type AdminSection struct{ Title, Href, Description string }

// AdminHomePage is the console's start page: who is signed in, their roles
// and the parts of the console those roles open.
type AdminHomePage struct {
	Page
	Email    string
	Roles    []string
	Sections []AdminSection
}

// AdminForbiddenPage (403) says the operator may not open a page: no role at
// all (Needed empty) or not the role the page needs.
type AdminForbiddenPage struct {
	Page
	Email  string
	Roles  []string // the roles they hold
	Needed string   // the role the page needs; empty when they hold none
}

// AdminConfirmPage asks an operator to confirm an action, with the reason
// that goes into its audit event (FieldReason, required). Every destructive
// action of the console goes through one.
type AdminConfirmPage struct {
	Page
	Action     string // where the form posts
	Summary    []SummaryRow
	Paragraphs []string
	Warning    string // shown in warning text; empty for none
	Hidden     []HiddenField
	Reason     string // the reason typed, shown again after an error
	Button     string // e.g. "Reset phone"
	CancelURL  string
}

// AdminPersonRow is one account found by the people search.
type AdminPersonRow struct {
	Email, Name, MaskedPhone, State, URL string
}

// AdminPeoplePage finds people by part of their email address or by sub.
type AdminPeoplePage struct {
	Page
	Action   string // the search form's GET target
	Query    string
	Searched bool
	People   []AdminPersonRow
	More     bool // more accounts matched than are listed
}

// AdminBrowserSessionRow is one of a person's sessions at the idp (a
// browser signed in): its short id, when it started and was last used, and
// the form apps it signed in to.
type AdminBrowserSessionRow struct {
	Session, Started, LastUsed, FormApps string
}

// AdminSessionRow is a form app holding a person's refresh tokens, and the
// sign-in session they came from.
type AdminSessionRow struct {
	Client, Session string
}

// AdminAuditRow is one audit event as the console lists it.
type AdminAuditRow struct {
	Time, Kind, User, Client, IP, Operator, Detail string
}

// AdminAction is a button link to an action's confirmation page.
type AdminAction struct {
	Text, Href string
	Warning    bool // a destructive action (a red button)
}

// AdminPersonPage is one person's account.
type AdminPersonPage struct {
	Page
	Details []SummaryRow
	// Browsers are their sessions at the idp, newest first.
	Browsers []AdminBrowserSessionRow
	Sessions []AdminSessionRow
	Events   []AdminAuditRow
	AuditURL string // the audit log filtered to this person
	Actions  []AdminAction
}

// AdminAuditPage is the audit log, filtered, a page at a time.
type AdminAuditPage struct {
	Page
	Action                                       string // the filter form's GET target
	Person, Client, Kind, Operator, Since, Until string
	Events                                       []AdminAuditRow
	Searched                                     bool
	NewerURL, OlderURL                           string // pages of results; empty at an end
	ExportCSV, ExportJSONL                       string // downloads of every matching event
}

// AdminRoleRow is one role an operator holds.
type AdminRoleRow struct {
	Role, GrantedBy, GrantedAt, RevokeURL string
}

// AdminOperatorRow is one operator and their roles.
type AdminOperatorRow struct {
	Email string
	Roles []AdminRoleRow
}

// AdminOperatorsPage lists the operators and grants roles (owners only).
type AdminOperatorsPage struct {
	Page
	Operators   []AdminOperatorRow
	GrantAction string
	Email       string // the grant form's values, shown again after an error
	Role        string
	Reason      string
	RoleChoices []string
}
