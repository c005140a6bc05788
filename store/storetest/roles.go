package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
)

// durableAdminRoles: roles are granted once, read back sorted, revoked, and
// go with the account when it is erased; granting to no account is ErrNotFound.
func durableAdminRoles(t *testing.T, s store.Durable) {
	ctx := context.Background()
	ann, bob := durableUser("u-role-ann", "ann.roles@example.org"), durableUser("u-role-bob", "bob.roles@example.org")
	for _, u := range []*store.User{ann, bob} {
		durableOK(t, "CreateUser", s.CreateUser(ctx, u))
	}
	if roles, err := s.RolesOf(ctx, ann.ID); err != nil || len(roles) != 0 {
		t.Fatalf("RolesOf before any grant: %v %v", roles, err)
	}
	grant := func(u *store.User, role, by string) bool {
		t.Helper()
		ok, err := s.GrantRole(ctx, &store.AdminRole{UserID: u.ID, Role: role, GrantedBy: by, GrantedAt: durableBase})
		durableOK(t, "GrantRole "+role, err)
		return ok
	}
	if !grant(ann, "support", "cli:sam") || !grant(ann, "auditor", "cli:sam") || !grant(bob, "owner", "cli:sam") {
		t.Fatal("a first grant says the role was held already")
	}
	if grant(ann, "support", "cli:someone-else") {
		t.Error("granting a role held already says it was granted")
	}
	roles, err := s.RolesOf(ctx, ann.ID)
	durableOK(t, "RolesOf", err)
	if !slices.Equal(roles, []string{"auditor", "support"}) {
		t.Errorf("RolesOf = %v, want [auditor support]", roles)
	}
	all, err := s.ListRoles(ctx)
	durableOK(t, "ListRoles", err)
	var mine []*store.AdminRole
	for _, r := range all {
		if r.UserID == ann.ID || r.UserID == bob.ID {
			mine = append(mine, r)
		}
	}
	if len(mine) != 3 || mine[0].UserID != ann.ID || mine[0].Role != "auditor" || mine[1].Role != "support" || mine[2].UserID != bob.ID {
		t.Fatalf("ListRoles = %+v", mine)
	}
	if mine[1].GrantedBy != "cli:sam" || !mine[1].GrantedAt.Truncate(time.Microsecond).Equal(durableBase.Truncate(time.Microsecond)) {
		t.Errorf("support grant = %+v, want the first grant's operator and time", mine[1])
	}

	if _, err := s.GrantRole(ctx, &store.AdminRole{UserID: "u-nobody", Role: "owner", GrantedBy: "cli:sam", GrantedAt: durableBase}); err == nil {
		t.Error("granting to no account succeeded")
	} else {
		durableWantErr(t, "GrantRole to no account", err, store.ErrNotFound)
	}

	revoked, err := s.RevokeRole(ctx, ann.ID, "support")
	durableOK(t, "RevokeRole", err)
	if !revoked {
		t.Error("RevokeRole of a held role says it was not held")
	}
	if revoked, err := s.RevokeRole(ctx, ann.ID, "support"); err != nil || revoked {
		t.Errorf("second RevokeRole = %v, %v; want false, nil", revoked, err)
	}
	if roles, _ := s.RolesOf(ctx, ann.ID); !slices.Equal(roles, []string{"auditor"}) {
		t.Errorf("RolesOf after revoke = %v", roles)
	}

	// Erasure: the roles go with the account, and what an operator did or
	// granted is kept under the pseudonym, without their email address.
	by := store.ConsoleOperator(ann.Email, ann.ID)
	grant(bob, "support", by)
	durableOK(t, "AppendAudit", s.AppendAudit(ctx, &store.AuditEvent{Time: durableBase, Kind: "admin.unlock", UserID: bob.ID, Operator: by, Reason: "helpdesk call 4411"}))
	durableOK(t, "AppendAudit", s.AppendAudit(ctx, &store.AuditEvent{Time: durableBase, Kind: "admin.reset_phone", UserID: ann.ID, Operator: "cli:sam", Reason: "ann called from 07700 900123"}))
	if _, err := s.EraseUser(ctx, ann.ID, ann.Email, "erased:roles"); err != nil {
		t.Fatal(err)
	}
	if roles, err := s.RolesOf(ctx, ann.ID); err != nil || len(roles) != 0 {
		t.Errorf("an erased account's roles: %v %v", roles, err)
	}
	if es, err := s.QueryAudit(ctx, store.AuditFilter{UserID: "erased:roles"}); err != nil || len(es) != 1 || es[0].Reason != "" {
		t.Errorf("an erased person's events keep a reason (which may name them): %+v %v", es, err)
	}
	all, _ = s.ListRoles(ctx)
	for _, r := range all {
		if r.UserID == bob.ID && r.Role == "support" && r.GrantedBy != "console:erased:roles" {
			t.Errorf("grant by an erased operator names %q", r.GrantedBy)
		}
	}
	es, err := s.QueryAudit(ctx, store.AuditFilter{UserID: bob.ID})
	durableOK(t, "QueryAudit", err)
	if len(es) != 1 || es[0].Operator != "console:erased:roles" || es[0].Reason != "helpdesk call 4411" {
		t.Errorf("events by an erased operator: %+v", es)
	}
}

// durableLastOwner: the last owner cannot lose the role owner; when two
// owners revoke each other's role at the same moment, one revoke is refused
// (ErrLastOwner) and one owner remains, whatever the interleaving.
func durableLastOwner(t *testing.T, s store.Durable) {
	ctx := context.Background()
	ann, bob := durableUser("u-owner-ann", "ann.owner@example.org"), durableUser("u-owner-bob", "bob.owner@example.org")
	for _, u := range []*store.User{ann, bob} {
		durableOK(t, "CreateUser", s.CreateUser(ctx, u))
	}
	grant := func(u *store.User) {
		t.Helper()
		_, err := s.GrantRole(ctx, &store.AdminRole{UserID: u.ID, Role: store.RoleOwner, GrantedBy: "cli:sam", GrantedAt: durableBase})
		durableOK(t, "GrantRole owner", err)
	}
	owners := func() []string {
		t.Helper()
		all, err := s.ListRoles(ctx)
		durableOK(t, "ListRoles", err)
		var ids []string
		for _, r := range all {
			if r.Role == store.RoleOwner {
				ids = append(ids, r.UserID)
			}
		}
		return ids
	}

	grant(ann)
	if revoked, err := s.RevokeRole(ctx, ann.ID, store.RoleOwner); !errors.Is(err, store.ErrLastOwner) || revoked {
		t.Fatalf("revoking the only owner: %v, %v; want ErrLastOwner", revoked, err)
	}
	if got := owners(); !slices.Equal(got, []string{ann.ID}) {
		t.Fatalf("owners after the refused revoke: %v", got)
	}
	if revoked, err := s.RevokeRole(ctx, ann.ID, "support"); err != nil || revoked {
		t.Errorf("revoking a role the last owner does not hold: %v, %v", revoked, err)
	}

	for round := range 20 {
		grant(ann)
		grant(bob)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		start := make(chan struct{})
		for i, u := range []*store.User{ann, bob} {
			wg.Go(func() {
				<-start
				_, errs[i] = s.RevokeRole(ctx, u.ID, store.RoleOwner)
			})
		}
		close(start)
		wg.Wait()
		left := owners()
		if len(left) != 1 {
			t.Fatalf("round %d: owners after two owners revoked each other at once: %v (errors %v)", round, left, errs)
		}
		refused := 0
		for _, err := range errs {
			switch {
			case errors.Is(err, store.ErrLastOwner):
				refused++
			case err != nil:
				t.Fatalf("round %d: revoke: %v", round, err)
			}
		}
		if refused != 1 {
			t.Fatalf("round %d: %d revokes refused, want 1 (errors %v)", round, refused, errs)
		}
	}
}
