package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui"
)

// The operators page (RoleOwner): who holds which role; grant and revoke by
// email address with a reason, audited (admin.role_granted, admin.role_revoked).

func init() { areas = append(areas, (*Console).operatorRoutes) }

func (c *Console) operatorRoutes() {
	c.navPage("Operators", "/operators", RoleOwner, "See who may use the console, and grant and revoke their roles.")
	c.handle("GET /operators", RoleOwner, c.operators)
	c.handle("POST /operators/grant", RoleOwner, c.grantRole)
	c.handle("GET /operators/{id}/revoke/{role}", RoleOwner, c.revokeRoleConfirm)
	c.handle("POST /operators/{id}/revoke/{role}", RoleOwner, c.revokeRole)
}

func revokeURL(userID, role string) string {
	return "/operators/" + url.PathEscape(userID) + "/revoke/" + url.PathEscape(role)
}

// operators (GET /operators) lists the operators and the grant form.
func (c *Console) operators(w http.ResponseWriter, r *http.Request) {
	m := &ui.AdminOperatorsPage{}
	switch r.URL.Query().Get("done") {
	case "granted":
		m.Notice = "The role is granted"
	case "revoked":
		m.Notice = "The role is revoked: it stops working on their next request"
	}
	c.renderOperators(w, r, http.StatusOK, m)
}

func (c *Console) renderOperators(w http.ResponseWriter, r *http.Request, status int, m *ui.AdminOperatorsPage) {
	roles, err := c.deps.Store.ListRoles(r.Context())
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	byUser := map[string]int{}
	for _, role := range roles {
		i, ok := byUser[role.UserID]
		if !ok {
			email := role.UserID
			if u, err := c.deps.Store.UserByID(r.Context(), role.UserID); err == nil {
				email = u.Email
			}
			m.Operators = append(m.Operators, ui.AdminOperatorRow{Email: email})
			i = len(m.Operators) - 1
			byUser[role.UserID] = i
		}
		m.Operators[i].Roles = append(m.Operators[i].Roles, ui.AdminRoleRow{Role: role.Role, GrantedBy: role.GrantedBy,
			GrantedAt: stamp(role.GrantedAt), RevokeURL: revokeURL(role.UserID, role.Role)})
	}
	m.GrantAction, m.RoleChoices = "/operators/grant", Roles
	c.render(w, r, status, ui.PageAdminOperators, m)
}

// grantRole (POST /operators/grant) grants a role to the account with an email address.
func (c *Console) grantRole(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostFormValue(ui.FieldEmail))
	role := r.PostFormValue(ui.FieldRole)
	reason, errs := reasonOf(r, "granting the role")
	m := &ui.AdminOperatorsPage{Email: email, Role: role, Reason: reason}
	var u *store.User
	if email == "" {
		errs = append([]ui.FieldError{{Field: ui.FieldEmail, Message: "Enter the email address of their account"}}, errs...)
	} else {
		var err error
		u, err = c.deps.Store.UserByEmail(r.Context(), email)
		if errors.Is(err, store.ErrNotFound) {
			errs = append([]ui.FieldError{{Field: ui.FieldEmail, Message: "There is no account with that email address: they sign up, or sign in once, first"}}, errs...)
		} else if err != nil {
			c.unavailable(w, r, err)
			return
		}
	}
	if !ValidRole(role) {
		errs = append(errs, ui.FieldError{Field: ui.FieldRole, Message: "Choose a role"})
	}
	if len(errs) > 0 {
		m.Errors = errs
		c.renderOperators(w, r, http.StatusBadRequest, m)
		return
	}
	op := operatorFrom(r)
	granted, err := c.deps.Store.GrantRole(r.Context(), &store.AdminRole{UserID: u.ID, Role: role, GrantedBy: op.Name(), GrantedAt: c.deps.Now()})
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	if !granted {
		m.Errors = []ui.FieldError{{Field: ui.FieldEmail, Message: u.Email + " already holds the role " + role}}
		c.renderOperators(w, r, http.StatusBadRequest, m)
		return
	}
	if err := c.audit(r, store.AuditEvent{Kind: "admin.role_granted", UserID: u.ID, Detail: "role " + role + " granted in the operators' console"}, reason); err != nil {
		c.unavailable(w, r, err)
		return
	}
	http.Redirect(w, r, "/operators?done=granted", http.StatusSeeOther)
}

// revokeTarget reads the account and role of a revoke URL, answering itself
// when there is none.
func (c *Console) revokeTarget(w http.ResponseWriter, r *http.Request) (*store.User, string, bool) {
	role := r.PathValue("role")
	u, err := c.deps.Store.UserByID(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !ValidRole(role)) {
		c.message(w, r, http.StatusNotFound, "There is no such role", "Go back to the Operators page.")
		return nil, "", false
	}
	if err != nil {
		c.unavailable(w, r, err)
		return nil, "", false
	}
	return u, role, true
}

func (c *Console) renderRevoke(w http.ResponseWriter, r *http.Request, status int, u *store.User, role, reason string, errs []ui.FieldError) {
	c.render(w, r, status, ui.PageAdminConfirm, &ui.AdminConfirmPage{
		Page:   ui.Page{Title: "Revoke the role " + role + " from " + u.Email, Errors: errs, BackURL: "/operators"},
		Action: revokeURL(u.ID, role), Summary: []ui.SummaryRow{{Key: "Operator", Value: u.Email}, {Key: "Role", Value: role}},
		Paragraphs: []string{"It stops working on their next request."}, Reason: reason, Button: "Revoke role", CancelURL: "/operators",
	})
}

// revokeRoleConfirm (GET /operators/{id}/revoke/{role}) asks, with a reason.
func (c *Console) revokeRoleConfirm(w http.ResponseWriter, r *http.Request) {
	if !c.requireFresh(w, r) {
		return
	}
	u, role, ok := c.revokeTarget(w, r)
	if !ok {
		return
	}
	c.renderRevoke(w, r, http.StatusOK, u, role, "", nil)
}

// revokeRole (POST /operators/{id}/revoke/{role}) revokes it. The last
// owner's owner role is kept: someone must be able to grant roles.
func (c *Console) revokeRole(w http.ResponseWriter, r *http.Request) {
	if !c.requireFresh(w, r) {
		return
	}
	u, role, ok := c.revokeTarget(w, r)
	if !ok {
		return
	}
	reason, errs := reasonOf(r, "revoking the role")
	if errs != nil {
		c.renderRevoke(w, r, http.StatusBadRequest, u, role, reason, errs)
		return
	}
	// The store refuses to take the role owner from the last owner, in the
	// same transaction as the revoke: two owners revoking each other at once
	// leave one.
	revoked, err := c.deps.Store.RevokeRole(r.Context(), u.ID, role)
	if errors.Is(err, store.ErrLastOwner) {
		c.renderRevoke(w, r, http.StatusBadRequest, u, role, reason,
			[]ui.FieldError{{Field: ui.FieldReason, Message: "This is the last owner: grant the role owner to someone else first"}})
		return
	}
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	if revoked {
		if err := c.audit(r, store.AuditEvent{Kind: "admin.role_revoked", UserID: u.ID, Detail: "role " + role + " revoked in the operators' console"}, reason); err != nil {
			c.unavailable(w, r, err)
			return
		}
	}
	http.Redirect(w, r, "/operators?done=revoked", http.StatusSeeOther)
}
