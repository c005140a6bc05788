package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/councilforms/idp/store"
)

// jwksKids are the kids the idp publishes now.
func jwksKids(t *testing.T, d *idp) []string {
	t.Helper()
	resp, err := http.Get(d.issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

// Issue 18: a clients operator rotates the signing keys on schedule (the new
// keys published, not yet signing) and in an emergency (the old keys leave
// JWKS at once), each with a reason, audited.
func TestConsoleSigningKeys(t *testing.T) {
	c := startConsole(t, embedded, nil)
	op, opUser := c.signedUp(t, "clients")
	ctx := context.Background()
	before, err := c.app.Durable.ListSigningKeys(ctx)
	if err != nil || len(before) != 2 {
		t.Fatalf("keys at start: %d %v", len(before), err)
	}

	b := c.signInToConsole(t, op, "/signing-keys")
	b.expectHeading("Signing keys")
	b.expectText(before[0].ID)
	b.follow("Rotate keys")
	b.expectHeading("Rotate the signing keys")
	b.press("Rotate keys", "reason", "quarterly rotation")
	b.expectText("New signing keys are published")
	if strings.Count(text(b.page.body), "pending") != 2 {
		t.Errorf("after a scheduled rotation, want two pending keys:\n%s", b.page)
	}
	// A server starting now reads the keys at once (a running one re-reads
	// them every 30 seconds).
	if kids := jwksKids(t, c.sibling()); len(kids) != 4 {
		t.Errorf("JWKS after a scheduled rotation: %v, want the old and new keys", kids)
	}

	b.follow("Emergency rotation")
	b.expectHeading("Emergency rotation of the signing keys")
	b.expectText("Every token signed with the current keys stops validating")
	b.press("Replace keys now")
	b.expectText("Enter the reason for rotating the keys")
	b.press("Replace keys now", "reason", "key material exposed in a backup")
	b.expectText("The signing keys are replaced")
	kids := jwksKids(t, c.sibling())
	for _, k := range before {
		if slices.Contains(kids, k.ID) {
			t.Errorf("the withdrawn key %s is still in JWKS %v", k.ID, kids)
		}
	}
	if len(kids) != 2 {
		t.Errorf("JWKS after the emergency rotation: %v, want only the two new keys", kids)
	}
	byOp := store.ConsoleOperator(opUser.Email, opUser.ID)
	for kind, n := range map[string]int{"key.rotated": 2, "key.rotated_emergency": 2} {
		es, err := c.app.Durable.QueryAudit(ctx, store.AuditFilter{Kind: kind, Operator: byOp})
		if err != nil || len(es) != n || es[0].Reason == "" {
			t.Errorf("audit of %s: %+v %v", kind, es, err)
		}
	}
}
