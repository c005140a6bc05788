package app_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/webtest"
	"github.com/councilforms/idp/store"
)

// consoleSignIn opens the console at path in a new browser and signs in
// through the journey, the phone check answered from the dev inbox tab.
func consoleSignIn(t *testing.T, c *console, js bool, p person, path, step string) (*webtest.Browser, *guide) {
	t.Helper()
	b := webtest.NewBrowser(t, js)
	b.Navigate(c.url + path)
	g := &guide{t: t, d: c.idp, b: b, p: p, js: js}
	g.signIn(step)
	g.proveBySMS(step)
	return b, g
}

// chooseLabel picks value in the select whose label is label.
func chooseLabel(t *testing.T, b *webtest.Browser, label, value string) {
	t.Helper()
	ok := webtest.Eval[bool](b, fmt.Sprintf(`(() => {
  const l = [...document.querySelectorAll('label')].find(l => l.textContent.trim() === %q);
  const s = l && document.getElementById(l.htmlFor);
  if (!s) return false;
  s.value = %q;
  return s.value === %q;
})()`, label, value, value))
	if !ok {
		t.Fatalf("no choice %q in the field labelled %q:\n%s", value, label, b.Text())
	}
}

// download fetches the link labelled text as the browser would, with its
// cookies for the console (the console's downloads are attachments).
func download(t *testing.T, b *webtest.Browser, text string) (http.Header, string) {
	t.Helper()
	href := webtest.Eval[string](b, fmt.Sprintf(`(() => { const a = [...document.querySelectorAll('a')].find(a => a.textContent.trim() === %q); return a ? a.href : '' })()`, text))
	if href == "" {
		t.Fatalf("no link %q:\n%s", text, b.Text())
	}
	req, _ := http.NewRequest(http.MethodGet, href, nil)
	for _, ck := range b.Cookies() {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("download %s: %d %v\n%s", href, resp.StatusCode, resp.Header, body)
	}
	return resp.Header, string(body)
}

// Issue 18, in a real browser with JavaScript and without: an owner grants
// support to a colleague in the console; the support operator signs in
// through the journey with the phone check, finds a locked person, unlocks
// them with a reason and resets their phone after a fresh sign-in (the person
// is emailed; the audit events name the operator), and cannot open the pages
// of other roles; an auditor filters the audit log and exports it as CSV and
// JSON Lines.
func TestBrowserConsole(t *testing.T) {
	jsModes(t, func(t *testing.T, js bool) {
		c := startConsole(t, embedded, nil)
		owner, _ := c.signedUp(t, "owner")
		kim, kimUser := c.signedUp(t)
		alex, alexUser := c.signedUp(t)
		auditor, _ := c.signedUp(t, "auditor")
		c.lockOut(t, alexUser)

		// The owner grants support to Kim.
		b, _ := consoleSignIn(t, c, js, owner, "/", "owner-")
		see(t, b, "console-home", "Operators' console")
		b.FollowLink("Operators")
		see(t, b, "operators", "Operators")
		b.FillLabel("Email address", kim.email)
		chooseLabel(t, b, "Role", "support")
		b.ClickButton("Grant role")
		see(t, b, "operators-no-reason", "Operators")
		showsError(t, b, "Enter the reason for granting the role")
		chooseLabel(t, b, "Role", "support")
		b.FillLabel("Reason", "joined the helpdesk")
		b.ClickButton("Grant role")
		see(t, b, "operators-granted", "Operators")
		says(t, b, "The role is granted", kimUser.Email)

		// Kim signs in with the phone check and finds Alex, who is locked out.
		kb, kg := consoleSignIn(t, c, js, kim, "/people", "support-")
		see(t, kb, "people", "People")
		for _, other := range []string{"Operators", "Audit log", "Form apps"} {
			if kb.Has(other) {
				t.Errorf("the support operator's page links to %q", other)
			}
		}
		kb.FillLabel("Email address or sub", strings.ToLower(alex.email[:strings.Index(alex.email, "@")]))
		kb.ClickButton("Search")
		see(t, kb, "people-found", "People")
		says(t, kb, alexUser.Email, "locked until")
		kb.FollowLink(alexUser.Email)
		see(t, kb, "person", alexUser.Email)
		hidesNumber(t, kb, alex)
		kb.Click("Unlock")
		see(t, kb, "unlock", "Unlock the account of "+alexUser.Email)
		kb.ClickButton("Unlock")
		see(t, kb, "unlock-no-reason", "Unlock the account of "+alexUser.Email)
		showsError(t, kb, "Enter the reason for unlocking the account")
		kb.FillLabel("Reason", "helpdesk call 4411")
		kb.ClickButton("Unlock")
		see(t, kb, "unlocked", alexUser.Email)
		says(t, kb, "The account is unlocked")

		// Later, resetting the phone asks Kim to sign in again first.
		c.clock.advance(10 * time.Minute)
		kb.Click("Reset phone")
		kg.signIn("fresh-")
		kg.proveBySMS("fresh-")
		see(t, kb, "reset-phone", "Reset the phone of "+alexUser.Email)
		kb.FillLabel("Reason", "lost phone, helpdesk call 4412")
		kb.ClickButton("Reset phone")
		see(t, kb, "phone-reset", alexUser.Email)
		says(t, kb, "The phone number is removed")
		if notice := c.latest("email", alex.email); !strings.Contains(notice.Body, "removed the phone number") {
			t.Errorf("Alex's notice: %+v", notice)
		}
		byKim := store.ConsoleOperator(kimUser.Email, kimUser.ID)
		es, err := c.app.Durable.QueryAudit(context.Background(), store.AuditFilter{UserID: alexUser.ID, Kind: "admin.reset_phone"})
		if err != nil || len(es) != 1 || es[0].Operator != byKim || es[0].Reason != "lost phone, helpdesk call 4412" {
			t.Errorf("the reset's audit event: %+v %v", es, err)
		}

		// The pages of other roles are refused.
		for _, path := range []string{"/operators", "/audit"} {
			kb.Navigate(c.url + path)
			see(t, kb, "refused"+strings.ReplaceAll(path, "/", "-"), "You cannot open this page")
		}

		// Signing out ends the console session and the idp's: the console's
		// start asks for a whole sign-in again.
		kb.Navigate(c.url + "/people")
		kb.ClickButton("Sign out")
		see(t, kb, "signed-out", "Sign In")
		if strings.HasPrefix(kb.URL(), c.url) {
			t.Errorf("after signing out the browser is at %s, want the idp's sign-in", kb.URL())
		}

		// An auditor filters the audit log and exports it.
		ab, _ := consoleSignIn(t, c, js, auditor, "/audit", "auditor-")
		see(t, ab, "audit", "Audit log")
		ab.FillLabel("Event type", "admin.reset_phone")
		ab.ClickButton("Filter")
		see(t, ab, "audit-filtered", "Audit log")
		says(t, ab, byKim, "lost phone, helpdesk call 4412")
		if strings.Contains(ab.Text(), "admin.unlock") {
			t.Errorf("the filtered log shows other events:\n%s", ab.Text())
		}
		hdr, body := download(t, ab, "Download as CSV")
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") || len(rows) != 2 ||
			rows[1][2] != "admin.reset_phone" || rows[1][3] != alexUser.ID || rows[1][6] != byKim || rows[1][8] != "lost phone, helpdesk call 4412" {
			t.Errorf("CSV export: %v %v\n%s", hdr, err, body)
		}
		_, body = download(t, ab, "Download as JSON Lines")
		lines := strings.Split(strings.TrimSpace(body), "\n")
		var ev map[string]any
		if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &ev) != nil || ev["kind"] != "admin.reset_phone" || ev["operator"] != byKim {
			t.Errorf("JSON Lines export:\n%s", body)
		}
	})
}
