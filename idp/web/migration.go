package web

// The first sign-in of an account imported from Azure AD B2C or another
// instance (idp users import): its password checked by B2C once, or a new one.

import (
	"context"
	"net/http"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/store"
)

// firstPassword checks the first password of an account imported without one
// (from Azure AD B2C, or another instance's export). With B2C to ask and an
// account from B2C, B2C checks the password once: accepted, its argon2id hash is
// stored and the account is migrated (accepted true); refused (accepted false),
// the caller counts a wrong password; when B2C cannot tell, the answer is
// PasswordUnavailable and nothing is counted or stored. Without B2C (or for an
// export) no one can check the password: PasswordNewRequired, after the same
// hashing time as a check, counted against the network like a wrong password so
// that the page cannot list imported addresses faster than passwords are guessed.
func (h *Handler) firstPassword(ctx context.Context, r *http.Request, q journey.CheckPassword, u *store.User) (ev journey.Event, accepted bool, err error) {
	if h.B2C == nil || u.ImportedFrom != store.ImportedB2C || !u.MigratedAt.IsZero() {
		if err := h.Passwords.DummyVerify(ctx, q.Password); err != nil {
			return nil, false, err
		}
		if _, err := h.Store.Hit(ctx, "pwfail:net:"+h.clientNetwork(r), h.cfg.Passwords.NetworkWindow, h.now()); err != nil {
			return nil, false, err
		}
		h.audit(ctx, r, "login.new_password_required", u.ID, "imported ("+u.ImportedFrom+") without a password here")
		h.metrics.password(journey.PasswordNewRequired)
		return journey.PasswordChecked{Result: journey.PasswordNewRequired, Account: accountOf(u)}, false, nil
	}
	ok, err := h.B2C.CheckPassword(ctx, u.ID, u.Email, q.Password)
	if err != nil {
		h.Log.WarnContext(ctx, "b2c could not check a password", "user", u.ID, "err", err)
		h.audit(ctx, r, "login.unavailable", u.ID, "b2c could not check the password")
		h.metrics.password(journey.PasswordUnavailable)
		return journey.PasswordChecked{Result: journey.PasswordUnavailable}, false, nil
	}
	if !ok {
		return nil, false, nil
	}
	hash, err := h.Passwords.Hash(ctx, q.Password)
	if err != nil {
		return nil, false, wrapf(err, "hash migrated password")
	}
	now := h.now()
	u.PasswordHash, u.MigratedAt, u.UpdatedAt = hash, now, now
	if err := h.Store.UpdateUser(ctx, u); err != nil {
		return nil, false, wrapf(err, "store migrated password")
	}
	h.audit(ctx, r, "user.password_migrated", u.ID, "password checked by b2c")
	h.metrics.migrated.WithLabelValues("b2c_password").Inc()
	return nil, true, nil
}
