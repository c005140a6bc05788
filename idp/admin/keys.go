package admin

import (
	"net/http"
	"strings"
	"time"

	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui"
)

// The signing keys page (RoleClients): the keys and their states, a
// scheduled rotation (the new key published an hour before it signs) and an
// emergency rotation (the current key withdrawn at once), as `idp keys list`
// and `idp keys rotate [--emergency]` do. Both are confirmed with a reason and
// audited; the emergency one asks for a fresh sign-in first.

func init() { areas = append(areas, (*Console).keyRoutes) }

func (c *Console) keyRoutes() {
	c.navPage("Signing keys", "/signing-keys", RoleClients, "See the token signing keys, rotate them, or replace a compromised one at once.")
	c.handle("GET /signing-keys", RoleClients, c.signingKeys)
	c.handle("GET /signing-keys/rotate", RoleClients, c.rotateKeysConfirm(false))
	c.handle("POST /signing-keys/rotate", RoleClients, c.rotateKeys(false))
	c.handle("GET /signing-keys/emergency", RoleClients, c.rotateKeysConfirm(true))
	c.handle("POST /signing-keys/emergency", RoleClients, c.rotateKeys(true))
}

func stampOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return stamp(t)
}

// signingKeys (GET /signing-keys) lists the keys.
func (c *Console) signingKeys(w http.ResponseWriter, r *http.Request) {
	infos, err := provider.ListSigningKeys(r.Context(), c.deps.Store, c.deps.Ops.Keys)
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	m := &ui.AdminSigningKeysPage{RotateURL: "/signing-keys/rotate", EmergencyURL: "/signing-keys/emergency"}
	switch r.URL.Query().Get("done") {
	case "rotated":
		m.Notice = "New signing keys are published: they sign from an hour from now"
	case "emergency":
		m.Notice = "The signing keys are replaced: the old ones no longer sign and have left JWKS. Form apps must fetch JWKS again"
	}
	for _, k := range infos {
		m.Keys = append(m.Keys, ui.AdminKeyRow{ID: k.ID, Algorithm: k.Algorithm, State: string(k.State), Created: stamp(k.CreatedAt),
			SignsFrom: stamp(k.ActiveFrom), Retired: stampOrDash(k.RetiredAt), LeavesJWKS: stampOrDash(k.ExpiresAt)})
	}
	c.render(w, r, http.StatusOK, ui.PageAdminSigningKeys, m)
}

func (c *Console) renderKeysConfirm(w http.ResponseWriter, r *http.Request, status int, emergency bool, reason string, errs []ui.FieldError) {
	m := &ui.AdminConfirmPage{Page: ui.Page{Title: "Rotate the signing keys", Errors: errs, BackURL: "/signing-keys"},
		Action: "/signing-keys/rotate", Reason: reason, Button: "Rotate keys", CancelURL: "/signing-keys",
		Paragraphs: []string{"A new RS256 key and a new ES256 key are published in JWKS now and sign from an hour from now; the current keys stay published until the tokens they signed have expired. Form apps need do nothing."}}
	if emergency {
		m.Title, m.Action, m.Button = "Emergency rotation of the signing keys", "/signing-keys/emergency", "Replace keys now"
		m.Paragraphs = []string{"For keys presumed compromised. New keys sign from now, and the current keys leave JWKS at once."}
		m.Warning = "Every token signed with the current keys stops validating: form apps must fetch JWKS again, and people signed in to them may have to sign in again."
	}
	c.render(w, r, status, ui.PageAdminConfirm, m)
}

func (c *Console) rotateKeysConfirm(emergency bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if emergency && !c.requireFresh(w, r) {
			return
		}
		c.renderKeysConfirm(w, r, http.StatusOK, emergency, "", nil)
	}
}

func (c *Console) rotateKeys(emergency bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if emergency && !c.requireFresh(w, r) {
			return
		}
		reason, errs := reasonOf(r, "rotating the keys")
		if errs != nil {
			c.renderKeysConfirm(w, r, http.StatusBadRequest, emergency, reason, errs)
			return
		}
		ctx := r.Context()
		if !emergency {
			ks, err := provider.RotateSigningKeys(ctx, c.deps.Store, c.deps.Ops.Keys, "")
			for _, k := range ks {
				if aerr := c.audit(r, store.AuditEvent{Kind: "key.rotated", Detail: k.Algorithm + " signing key " + k.ID + " created in the operators' console"}, reason); aerr != nil && err == nil {
					err = aerr
				}
			}
			if err != nil {
				c.unavailable(w, r, err)
				return
			}
			http.Redirect(w, r, "/signing-keys?done=rotated", http.StatusSeeOther)
			return
		}
		rots, err := provider.EmergencyRotateSigningKeys(ctx, c.deps.Store, c.deps.Ops.Keys, "")
		for _, rot := range rots {
			if rot.New.ID == "" {
				continue
			}
			var old []string
			for _, w := range rot.Withdrawn {
				old = append(old, w.ID)
			}
			detail := "emergency: " + rot.New.Algorithm + " signing key " + rot.New.ID + " signs at once"
			if len(old) > 0 {
				detail += "; withdrawn from JWKS: " + strings.Join(old, " ")
			}
			if aerr := c.audit(r, store.AuditEvent{Kind: "key.rotated_emergency", Detail: detail}, reason); aerr != nil && err == nil {
				err = aerr
			}
		}
		if err != nil {
			c.unavailable(w, r, err)
			return
		}
		http.Redirect(w, r, "/signing-keys?done=emergency", http.StatusSeeOther)
	}
}
