package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/councilforms/idp/idp/admin"
	"github.com/councilforms/idp/store"
)

const adminsUsage = "usage: idp admins grant|revoke EMAIL ROLE | idp admins list (roles: support, clients, auditor, owner)"

// admins grants and revokes the roles of the operators' console (idp/admin)
// in the database named by IDP_DATABASE_URL: `idp admins grant EMAIL owner`
// makes the first owner, who grants the rest in the console. The account
// must exist (the person signs up, or signs in once, first). Every change is
// audited (admin.role_granted, admin.role_revoked) with the operator.
func admins(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 {
		return usageError{errors.New(adminsUsage)}
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "list":
		if len(args) != 0 {
			return usageError{fmt.Errorf("unexpected argument %q (%s)", args[0], adminsUsage)}
		}
		return adminsList(ctx, env)
	case "grant", "revoke":
	default:
		return usageError{fmt.Errorf("unknown subcommand %q (grant, revoke, list)", sub)}
	}
	if len(args) != 2 || strings.TrimSpace(args[0]) == "" || strings.HasPrefix(args[0], "-") {
		return usageError{fmt.Errorf("usage: idp admins %s EMAIL ROLE", sub)}
	}
	email, role := strings.TrimSpace(args[0]), strings.TrimSpace(args[1])
	if !admin.ValidRole(role) {
		return usageError{fmt.Errorf("unknown role %q: give %s", role, strings.Join(admin.Roles, ", "))}
	}
	db, err := adminDatabase(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user with email %q (they sign up, or sign in once, first)", email)
	}
	if err != nil {
		return fmt.Errorf("find user: %w", err)
	}
	operator := env.auditOperator()
	if sub == "grant" {
		granted, err := db.GrantRole(ctx, &store.AdminRole{UserID: u.ID, Role: role, GrantedBy: operator, GrantedAt: time.Now()})
		if err != nil {
			return fmt.Errorf("grant role: %w", err)
		}
		if !granted {
			fmt.Fprintf(env.stdout, "%s already holds the role %s; nothing changed\n", u.Email, role)
			return nil
		}
		auditUser(ctx, env, db, "admin.role_granted", u.ID, "role "+role+" granted with the admin command")
		fmt.Fprintf(env.stdout, "%s now holds the role %s in the operators' console\n", u.Email, role)
		return nil
	}
	revoked, err := db.RevokeRole(ctx, u.ID, role)
	if errors.Is(err, store.ErrLastOwner) {
		return fmt.Errorf("%s is the last owner: grant the role owner to someone else first", u.Email)
	}
	if err != nil {
		return fmt.Errorf("revoke role: %w", err)
	}
	if !revoked {
		fmt.Fprintf(env.stdout, "%s does not hold the role %s; nothing changed\n", u.Email, role)
		return nil
	}
	auditUser(ctx, env, db, "admin.role_revoked", u.ID, "role "+role+" revoked with the admin command")
	fmt.Fprintf(env.stdout, "%s no longer holds the role %s; it stops working on their next request\n", u.Email, role)
	return nil
}

// adminsList prints every operator's roles, a line a role.
func adminsList(ctx context.Context, env *environment) error {
	db, err := adminDatabase(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	roles, err := db.ListRoles(ctx)
	if err != nil {
		return fmt.Errorf("list roles: %w", err)
	}
	if len(roles) == 0 {
		fmt.Fprintln(env.stdout, "no operators (make the first owner with: idp admins grant EMAIL owner)")
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tROLE\tGRANTED BY\tGRANTED")
	for _, r := range roles {
		email := r.UserID
		if u, err := db.UserByID(ctx, r.UserID); err == nil {
			email = u.Email
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", email, r.Role, r.GrantedBy, r.GrantedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}
