package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
)

// Issue 18: the audit log pages through its results, newest first, and
// refuses a filter it cannot read with a clear error.
func TestConsoleAuditPages(t *testing.T) {
	c := startConsole(t, embedded, nil)
	auditor, _ := c.signedUp(t, "auditor")
	base := time.Now().Add(-time.Hour)
	for i := range 120 {
		e := &store.AuditEvent{Time: base.Add(time.Duration(i) * time.Second), Kind: "test.paged", UserID: fmt.Sprintf("u-%03d", i), Detail: fmt.Sprintf("event %03d", i)}
		if err := c.app.Durable.AppendAudit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	b := c.signInToConsole(t, auditor, "/audit")
	b.expectHeading("Audit log")
	b.press("Filter", "since", "yesterday")
	b.expectText("Enter a date such as 2026-12-02")
	b.press("Filter", "since", "", "kind", "test.paged")
	page1 := b.page.body
	if !strings.Contains(page1, "event 119") || !strings.Contains(page1, "event 070") || strings.Contains(page1, "event 069") {
		t.Fatalf("first page: want events 119 to 070\n%s", b.page)
	}
	b.follow("Older events")
	if !strings.Contains(b.page.body, "event 069") || !strings.Contains(b.page.body, "event 020") || strings.Contains(b.page.body, "event 070") {
		t.Fatalf("second page: want events 069 to 020\n%s", b.page)
	}
	b.follow("Older events")
	if !strings.Contains(b.page.body, "event 019") || !strings.Contains(b.page.body, "event 000") || strings.Contains(b.page.body, "Older events") {
		t.Fatalf("last page: want events 019 to 000 and no older page\n%s", b.page)
	}
	b.follow("Newer events")
	b.follow("Newer events")
	if !strings.Contains(b.page.body, "event 119") || strings.Contains(b.page.body, "event 069") {
		t.Fatalf("back at the first page:\n%s", b.page)
	}
	if strings.Contains(b.page.body, "Newer events") {
		t.Error("the first page links to newer events")
	}
}
