package migrate

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/store"
)

// ExportedUser is one line of `idp users export` (JSON Lines), for portability
// and subject-access requests. It never holds a secret: no password hash, no
// failure counts or lockouts.
type ExportedUser struct {
	Sub        string `json:"sub"`
	Email      string `json:"email"`
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
	// PhoneNumber is the verified phone in E.164; empty when there is none.
	PhoneNumber string `json:"phone_number"`
	PhoneType   string `json:"phone_type"` // "mobile" or "landline"; empty with no phone
	CreatedAt   string `json:"created_at"` // RFC 3339, UTC
	// LastSignInAt is when the person last signed in; null before the first sign-in.
	LastSignInAt *string `json:"last_sign_in_at"`
	State        string  `json:"state"` // "active" or "disabled"
}

// Export gives u as an export line.
func Export(u *store.User) ExportedUser {
	e := ExportedUser{
		Sub: u.ID, Email: u.Email, GivenName: u.GivenName, FamilyName: u.FamilyName,
		CreatedAt: u.CreatedAt.UTC().Format(time.RFC3339), State: string(u.Status),
	}
	if u.Phone != "" && u.PhoneVerified {
		e.PhoneNumber, e.PhoneType = u.Phone, u.PhoneType
	}
	if !u.LastSignInAt.IsZero() {
		s := u.LastSignInAt.UTC().Format(time.RFC3339)
		e.LastSignInAt = &s
	}
	return e
}

// WriteExport writes users as JSON Lines.
func WriteExport(w io.Writer, users []*store.User) error {
	enc := json.NewEncoder(w)
	for _, u := range users {
		if err := enc.Encode(Export(u)); err != nil {
			return fmt.Errorf("export %s: %w", u.ID, err)
		}
	}
	return nil
}

// ReadExport reads a file WriteExport wrote (on another instance) for an import
// with ImportedFrom store.ImportedExport: each account keeps its sub, and sets a
// new password at its first sign-in here. Phones are checked again against this
// instance's rules; last_sign_in_at is not carried over (it says when the person
// last signed in here).
func ReadExport(r io.Reader, rules Rules) ([]Record, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	var recs []Record
	err = eachLine(data, func(pos Position, line []byte) {
		recs = append(recs, exportRecord(pos, line, rules))
	})
	return recs, err
}

func exportRecord(pos Position, line []byte, rules Rules) Record {
	rec := Record{Pos: pos}
	var e ExportedUser
	if err := json.Unmarshal(line, &e); err != nil {
		rec.Skip = rec.problem(ReasonUnreadable, "not an export line: "+jsonProblem(err))
		return rec
	}
	rec.SourceID = e.Sub
	if msg := checkID(e.Sub); msg != "" {
		rec.Skip = rec.problem(ReasonUnreadable, "sub: "+msg)
		return rec
	}
	created := rules.Now
	if e.CreatedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, e.CreatedAt)
		if err != nil {
			rec.Skip = rec.problem(ReasonUnreadable, fmt.Sprintf("created_at %q is not a date and time", e.CreatedAt))
			return rec
		}
		created = t
	}
	var status store.UserStatus
	switch store.UserStatus(e.State) {
	case store.UserActive, store.UserDisabled:
		status = store.UserStatus(e.State)
	default:
		rec.Skip = rec.problem(ReasonUnreadable, fmt.Sprintf("state %q is neither active nor disabled", e.State))
		return rec
	}
	email, ok := journey.NormaliseEmail(e.Email)
	if e.Email == "" {
		rec.Skip = rec.problem(ReasonNoEmail, "no email")
		return rec
	}
	if !ok {
		rec.Skip = rec.problem(ReasonBadEmail, "the email is not an address sign-up accepts")
		return rec
	}
	given, family := e.GivenName, e.FamilyName
	u := &store.User{
		ID: e.Sub, Email: email, EmailVerified: true, GivenName: name(&given), FamilyName: name(&family),
		Status: status, ImportedFrom: store.ImportedExport, CreatedAt: created.UTC(),
	}
	rec.User = u
	if e.PhoneNumber != "" {
		n, err := rules.Phone.Parse(e.PhoneNumber)
		if err != nil {
			rec.Notes = append(rec.Notes, *rec.problem(ReasonPhoneLeftOut, maskInput(e.PhoneNumber)+": "+phoneReason(err)))
		} else {
			u.Phone, u.PhoneType, u.PhoneVerified = n.E164, string(n.Type), true
		}
	}
	return rec
}
