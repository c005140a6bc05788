package migrate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/idp/migrate"
	"github.com/councilforms/idp/store"
)

// The import rules for one Graph user, as JSON Lines of one line.
func TestB2CRules(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	ident := `"identities":[{"signInType":"userName","issuer":"t","issuerAssignedId":"jo"},{"signInType":"emailAddress","issuer":"t","issuerAssignedId":"  Jo@Example.ORG "}]`
	for _, c := range []struct {
		name, line string
		skip       migrate.Reason
		note       migrate.Reason
		check      func(u *store.User) bool
	}{
		{"names, email as typed but trimmed, created kept, enabled",
			`{"id":"a","givenName":" Jo ","surname":"Bloggs","accountEnabled":true,"createdDateTime":"2020-02-03T04:05:06Z",` + ident + `}`, "", "",
			func(u *store.User) bool {
				return u.ID == "a" && u.Email == "Jo@Example.ORG" && u.EmailVerified && u.GivenName == "Jo" && u.FamilyName == "Bloggs" &&
					u.Status == store.UserActive && u.CreatedAt.Equal(time.Date(2020, 2, 3, 4, 5, 6, 0, time.UTC)) &&
					u.ImportedFrom == store.ImportedB2C && u.PasswordHash == "" && u.Phone == ""
			}},
		{"disabled; no createdDateTime is now; displayName when there are no names",
			`{"id":"b","displayName":"Jo Bloggs","accountEnabled":false,` + ident + `}`, "", "",
			func(u *store.User) bool {
				return u.Status == store.UserDisabled && u.CreatedAt.Equal(now) && u.GivenName == "Jo Bloggs" && u.FamilyName == ""
			}},
		{"mobile before alternateMobile before office, whatever their order",
			`{"id":"c",` + ident + `,"phoneMethods":[{"id":"1","phoneNumber":"+44 20 7123 4567","phoneType":"office"},{"id":"2","phoneNumber":"+447400111222","phoneType":"alternateMobile"},{"id":"3","phoneNumber":"+44 7400333444","phoneType":"mobile"}]}`, "", "",
			func(u *store.User) bool {
				return u.Phone == "+447400333444" && u.PhoneType == "mobile" && u.PhoneVerified
			}},
		{"an unusable mobile falls back to the office line, a landline",
			`{"id":"d",` + ident + `,"phoneMethods":[{"id":"3","phoneNumber":"+33 6 12 34 56 78","phoneType":"mobile"},{"id":"1","phoneNumber":"020 7123 4567","phoneType":"office"}]}`, "", "",
			func(u *store.User) bool { return u.Phone == "+442071234567" && u.PhoneType == "landline" }},
		{"no usable number: imported without a phone",
			`{"id":"e",` + ident + `,"phoneMethods":[{"id":"3","phoneNumber":"+1 202 555 0100","phoneType":"mobile"},{"id":"4","phoneNumber":"0800 123 4567","phoneType":"office"}]}`, "", migrate.ReasonPhoneLeftOut,
			func(u *store.User) bool { return u.Phone == "" && !u.PhoneVerified }},
		{"a drama number outside development mode is not a real number",
			`{"id":"f",` + ident + `,"phoneMethods":[{"id":"3","phoneNumber":"+44 7700900123","phoneType":"mobile"}]}`, "", migrate.ReasonPhoneLeftOut, nil},
		{"no email identity", `{"id":"g","identities":[{"signInType":"federated","issuer":"google.com","issuerAssignedId":"123"}]}`, migrate.ReasonNoEmail, "", nil},
		{"an email sign-up refuses", `{"id":"h","identities":[{"signInType":"emailAddress","issuer":"t","issuerAssignedId":"not an address"}]}`, migrate.ReasonBadEmail, "", nil},
		{"no id", `{"id":"",` + ident + `}`, migrate.ReasonUnreadable, "", nil},
		{"an id with a space", `{"id":"a b",` + ident + `}`, migrate.ReasonUnreadable, "", nil},
		{"a date that is not one", `{"id":"i","createdDateTime":"03/02/2020",` + ident + `}`, migrate.ReasonUnreadable, "", nil},
		{"a field of the wrong type", `{"id":"j","accountEnabled":"yes",` + ident + `}`, migrate.ReasonUnreadable, "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			recs, err := migrate.ReadB2C(strings.NewReader(c.line+"\n"), migrate.Rules{Phone: phone.Rules{Countries: []string{"GB"}}, Now: now})
			if err != nil || len(recs) != 1 {
				t.Fatalf("%d records, %v", len(recs), err)
			}
			r := recs[0]
			if r.Pos.String() != "line 1" {
				t.Errorf("position %s", r.Pos)
			}
			switch {
			case c.skip != "":
				if r.Skip == nil || r.Skip.Reason != c.skip || !r.Skip.Skipped {
					t.Errorf("skip %+v, want %s", r.Skip, c.skip)
				}
				return
			case r.Skip != nil:
				t.Fatalf("skipped: %+v", r.Skip)
			}
			if c.note != "" && (len(r.Notes) != 1 || r.Notes[0].Reason != c.note || r.Notes[0].Skipped) {
				t.Errorf("notes %+v, want %s", r.Notes, c.note)
			}
			if c.note == "" && len(r.Notes) != 0 {
				t.Errorf("notes %+v, want none", r.Notes)
			}
			if c.check != nil && !c.check(r.User) {
				t.Errorf("user %+v", r.User)
			}
		})
	}
}

// Files: pages and JSON Lines are told apart; what is not either is refused whole.
func TestReadB2CShapes(t *testing.T) {
	rules := migrate.Rules{Now: time.Now()}
	user := `{"id":"a","identities":[{"signInType":"emailAddress","issuer":"t","issuerAssignedId":"a@example.org"}]}`
	for _, c := range []struct {
		name, file string
		where      []string
		bad        bool
	}{
		{"one page", `{"value":[` + user + `,` + user + `]}`, []string{"page 1 value[0]", "page 1 value[1]"}, false},
		{"pages over several lines", "{\n \"value\": [\n" + user + "\n ],\n \"@odata.nextLink\": \"x\"\n}\n{\"value\": [" + user + "]}", []string{"page 1 value[0]", "page 2 value[0]"}, false},
		{"an empty page", `{"value":[]}`, nil, false},
		{"JSON Lines with a blank line", user + "\n\n" + user + "\n", []string{"line 1", "line 3"}, false},
		{"a broken line", user + "\n{\n", []string{"line 1", "line 2"}, false},
		{"empty", "", nil, true},
		{"an array", `[` + user + `]`, nil, true},
		{"a page without value", `{"value":[` + user + `]} {"error":{"code":"x"}}`, nil, true},
		{"not JSON", "id,email\na,a@example.org\n", nil, true},
	} {
		recs, err := migrate.ReadB2C(strings.NewReader(c.file), rules)
		if (err != nil) != c.bad {
			t.Errorf("%s: error %v", c.name, err)
			continue
		}
		if c.bad {
			continue
		}
		var where []string
		for _, r := range recs {
			where = append(where, r.Pos.String())
		}
		if strings.Join(where, ",") != strings.Join(c.where, ",") {
			t.Errorf("%s: positions %v, want %v", c.name, where, c.where)
		}
	}
}
