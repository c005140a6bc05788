package graphtest

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/councilforms/idp/idp/migrate"
)

// TenantDomain is the generated tenant's domain, the issuer of its identities.
const TenantDomain = "contoso.onmicrosoft.com"

// Created is the createdDateTime of user 0; user i was created i hours later.
var Created = time.Date(2019, 5, 1, 9, 30, 0, 0, time.UTC)

// ObjectID is the object id of user i, a GUID.
func ObjectID(i int) string { return fmt.Sprintf("%08x-b2c0-4000-8000-%012x", i, i) }

// Email is the sign-in email of user i.
func Email(i int) string { return fmt.Sprintf("person%05d@example.org", i) }

// Mobile is the E.164 mobile of user i (a real UK mobile range, not a drama
// number, so it is accepted outside development mode too).
func Mobile(i int) string { return fmt.Sprintf("+447400%06d", i) }

// Tenant gives n users as Graph returns them. User i has given name "Given<i>",
// surname "Family<i>", and, by i % 4, a mobile written "+44 7400nnnnnn" (as
// Microsoft formats it), "+447400nnnnnn", "07400 nnnnnn", or no phone method.
// Every user with i % 10 == 7 is disabled.
func Tenant(n int) []migrate.GraphUser {
	users := make([]migrate.GraphUser, n)
	for i := range users {
		given, family := fmt.Sprintf("Given%d", i), fmt.Sprintf("Family%d", i)
		display := given + " " + family
		enabled := i%10 != 7
		created := Created.Add(time.Duration(i) * time.Hour).Format(time.RFC3339)
		u := migrate.GraphUser{
			ID: ObjectID(i), GivenName: &given, Surname: &family, DisplayName: &display,
			AccountEnabled: &enabled, CreatedDateTime: &created,
			Identities: []migrate.GraphIdentity{
				{SignInType: "emailAddress", Issuer: TenantDomain, IssuerAssignedID: Email(i)},
				{SignInType: "userPrincipalName", Issuer: TenantDomain, IssuerAssignedID: ObjectID(i) + "@" + TenantDomain},
			},
		}
		m := Mobile(i)
		var written string
		switch i % 4 {
		case 0:
			written = m[:3] + " " + m[3:]
		case 1:
			written = m
		case 2:
			written = "0" + m[3:7] + " " + m[7:]
		}
		if written != "" {
			u.PhoneMethods = []migrate.PhoneMethod{{ID: "3179e48a-750b-4051-897c-87b9720928f7", PhoneNumber: written, PhoneType: "mobile"}}
		}
		users[i] = u
	}
	return users
}

// WritePages writes users as Graph list responses of pageSize users each, one
// after another, each but the last with an @odata.nextLink.
func WritePages(w io.Writer, users []migrate.GraphUser, pageSize int) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	for start := 0; start < len(users) || start == 0; start += pageSize {
		end := min(start+pageSize, len(users))
		page := map[string]any{
			"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(" + migrate.GraphSelect + ")",
			"value":          users[start:end],
		}
		if end < len(users) {
			page["@odata.nextLink"] = fmt.Sprintf("https://graph.microsoft.com/v1.0/users?$select=%s&$skiptoken=%d", migrate.GraphSelect, end)
		}
		if err := enc.Encode(page); err != nil {
			return err
		}
		if len(users) == 0 {
			break
		}
	}
	return nil
}

// WriteJSONLines writes users as JSON Lines, one user object a line.
func WriteJSONLines(w io.Writer, users []migrate.GraphUser) error {
	enc := json.NewEncoder(w)
	for _, u := range users {
		if err := enc.Encode(u); err != nil {
			return err
		}
	}
	return nil
}
