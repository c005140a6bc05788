package app_test

import (
	"database/sql"
	"strings"
	"testing"
)

// Issue 18 item 4: after a sign-up, a wrong password for another address and a
// wrong code (every kind of durable counter and run written), no counter,
// counter member or run of failures names an email address or a phone number:
// they hold keyed hashes only.
func TestCountersHoldNoAddressOrNumber(t *testing.T) {
	d := startIdP(t, embedded, nil)
	p := newPerson(t, true)
	signUp(d, d.browser(), p)

	stranger := d.browser()
	stranger.startSignIn()
	stranger.press("Sign in", "email", "nobody.here@example.gov.uk", "password", "not the password")

	b := d.browser()
	signIn(d, b, p)
	b.press("Send Code")
	wrong := "000000"
	if d.smsCode(p.e164) == wrong {
		wrong = "111111"
	}
	b.press("Verify code", "code", wrong)

	db, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(d.vars["IDP_DATABASE_URL"], "sqlite:")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT 'counters', key FROM counters
		UNION ALL SELECT 'counter_members', key || ' ' || member FROM counter_members
		UNION ALL SELECT 'failure_runs', key FROM failure_runs`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var table, key string
		if err := rows.Scan(&table, &key); err != nil {
			t.Fatal(err)
		}
		n++
		low := strings.ToLower(key)
		for _, personal := range []string{strings.ToLower(p.email), "nobody.here", "example.gov.uk", p.e164, p.e164[3:]} {
			if strings.Contains(low, strings.ToLower(personal)) {
				t.Errorf("%s key %q holds %q", table, key, personal)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Fatalf("only %d counter keys written: the journeys above did not count what they should", n)
	}
}
