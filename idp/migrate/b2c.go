package migrate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/store"
)

// GraphUser is a Microsoft Graph user object as `GET /v1.0/users?$select=...`
// returns it, with the user's phone methods (`GET /users/{id}/authentication/
// phoneMethods`) inline as PhoneMethods: the --from-b2c file format.
type GraphUser struct {
	ID              string          `json:"id"`
	GivenName       *string         `json:"givenName"`
	Surname         *string         `json:"surname"`
	DisplayName     *string         `json:"displayName"`
	AccountEnabled  *bool           `json:"accountEnabled"`
	CreatedDateTime *string         `json:"createdDateTime"`
	Identities      []GraphIdentity `json:"identities"`
	PhoneMethods    []PhoneMethod   `json:"phoneMethods,omitempty"`
}

// GraphIdentity is one entry of a user's identities.
type GraphIdentity struct {
	SignInType       string `json:"signInType"`
	Issuer           string `json:"issuer"`
	IssuerAssignedID string `json:"issuerAssignedId"`
}

// PhoneMethod is a phoneAuthenticationMethod.
type PhoneMethod struct {
	ID          string `json:"id"`
	PhoneNumber string `json:"phoneNumber"`
	PhoneType   string `json:"phoneType"`
}

// GraphSelect is the $select of the users list: every field the import reads.
const GraphSelect = "id,givenName,surname,displayName,accountEnabled,createdDateTime,identities"

// phoneOrder is the order in which phone methods are tried.
var phoneOrder = []string{"mobile", "alternateMobile", "office"}

// Position is where a record was in its file: a line of JSON Lines, or an item of
// a Graph list page (Page from 1, Index from 0 as in `.value[Index]`).
type Position struct {
	Line  int `json:"line,omitempty"`
	Page  int `json:"page,omitempty"`
	Index int `json:"index"`
}

// MarshalJSON gives {"line": n} or {"page": p, "index": i}.
func (p Position) MarshalJSON() ([]byte, error) {
	if p.Line > 0 {
		return json.Marshal(struct {
			Line int `json:"line"`
		}{p.Line})
	}
	return json.Marshal(struct {
		Page  int `json:"page"`
		Index int `json:"index"`
	}{p.Page, p.Index})
}

func (p Position) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d", p.Line)
	}
	return fmt.Sprintf("page %d value[%d]", p.Page, p.Index)
}

// Record is one source record on its way in: the account it gives, or why it is
// skipped (Skip), and notes on what of it was left out (a phone).
type Record struct {
	Pos      Position
	SourceID string
	User     *store.User // nil when the record could not be read
	Skip     *Problem    // set when the record is not imported
	Notes    []Problem   // parts left out of an imported record
}

// Rules are the settings the import rules depend on.
type Rules struct {
	Phone phone.Rules // IDP_PHONE_COUNTRIES and development mode, as enrolment uses
	Now   time.Time   // creation time of a record that has none
}

// ReadB2C reads a --from-b2c file: one or several Graph list responses
// ({"value": [...], "@odata.nextLink": ...}) one after another, or JSON Lines of
// user objects. It gives one Record per user; an error is a file it cannot read
// at all (not JSON, neither shape). A record that cannot be read is a Record with a
// Problem of ReasonUnreadable.
func ReadB2C(r io.Reader, rules Rules) ([]Record, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if isJSONLines(data) {
		var recs []Record
		err := eachLine(data, func(pos Position, line []byte) {
			recs = append(recs, b2cRecord(pos, line, rules))
		})
		return recs, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var recs []Record
	for page := 1; ; page++ {
		var p struct {
			Value *[]json.RawMessage `json:"value"`
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			if page == 1 {
				return nil, errors.New("the file is empty")
			}
			return recs, nil
		} else if err != nil {
			return recs, fmt.Errorf("page %d: not a Graph list response (%v)", page, err)
		}
		if p.Value == nil {
			return recs, fmt.Errorf("page %d: not a Graph list response (no \"value\" array)", page)
		}
		for i, raw := range *p.Value {
			recs = append(recs, b2cRecord(Position{Page: page, Index: i}, raw, rules))
		}
	}
}

// isJSONLines tells JSON Lines of user objects from Graph list pages: its first
// line is a whole JSON object without a "value" array.
func isJSONLines(data []byte) bool {
	for line := range bytes.Lines(data) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var probe map[string]json.RawMessage
		if json.Unmarshal(line, &probe) != nil {
			return false // a page written over several lines, or not JSON at all
		}
		_, page := probe["value"]
		return !page
	}
	return false
}

// eachLine calls fn with each non-blank line and its 1-based number.
func eachLine(data []byte, fn func(Position, []byte)) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			fn(Position{Line: n}, line)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return nil
}

// b2cRecord applies the import rules to one Graph user as JSON.
func b2cRecord(pos Position, raw []byte, rules Rules) Record {
	var g GraphUser
	if err := json.Unmarshal(raw, &g); err != nil {
		rec := Record{Pos: pos}
		rec.Skip = rec.problem(ReasonUnreadable, "not a Graph user object: "+jsonProblem(err))
		return rec
	}
	return graphRecord(pos, &g, rules)
}

// graphRecord applies the import rules to one Graph user.
func graphRecord(pos Position, g *GraphUser, rules Rules) Record {
	rec := Record{Pos: pos, SourceID: g.ID}
	if msg := checkID(g.ID); msg != "" {
		rec.Skip = rec.problem(ReasonUnreadable, msg)
		return rec
	}
	created := rules.Now
	if g.CreatedDateTime != nil && *g.CreatedDateTime != "" {
		t, err := time.Parse(time.RFC3339Nano, *g.CreatedDateTime)
		if err != nil {
			rec.Skip = rec.problem(ReasonUnreadable, fmt.Sprintf("createdDateTime %q is not a date and time", *g.CreatedDateTime))
			return rec
		}
		created = t
	}
	var email string
	found := false
	for _, id := range g.Identities {
		if id.SignInType == "emailAddress" {
			email, found = id.IssuerAssignedID, true
			break
		}
	}
	if !found {
		rec.Skip = rec.problem(ReasonNoEmail, "no emailAddress identity (an administrator, a federated or a username account)")
		return rec
	}
	email, ok := journey.NormaliseEmail(email)
	if !ok {
		rec.Skip = rec.problem(ReasonBadEmail, "the emailAddress identity is not an address sign-up accepts")
		return rec
	}
	given, family := name(g.GivenName), name(g.Surname)
	if given == "" && family == "" {
		given = name(g.DisplayName)
	}
	status := store.UserActive
	if g.AccountEnabled != nil && !*g.AccountEnabled {
		status = store.UserDisabled
	}
	u := &store.User{
		ID: g.ID, Email: email, EmailVerified: true, GivenName: given, FamilyName: family,
		Status: status, ImportedFrom: store.ImportedB2C, CreatedAt: created.UTC(),
	}
	rec.User = u
	if n, left := choosePhone(g.PhoneMethods, rules.Phone); n != nil {
		u.Phone, u.PhoneType, u.PhoneVerified = n.E164, string(n.Type), true
	} else if left != "" {
		rec.Notes = append(rec.Notes, *rec.problem(ReasonPhoneLeftOut, left))
	}
	return rec
}

// choosePhone gives the first usable of the mobile, alternateMobile and office
// methods; with none usable, why each was left out (empty when there were none).
func choosePhone(methods []PhoneMethod, rules phone.Rules) (*phone.Number, string) {
	var why []string
	for _, typ := range phoneOrder {
		for _, m := range methods {
			if m.PhoneType != typ {
				continue
			}
			n, err := rules.Parse(m.PhoneNumber)
			if err == nil {
				return &n, ""
			}
			why = append(why, fmt.Sprintf("%s %s: %s", typ, maskInput(m.PhoneNumber), phoneReason(err)))
		}
	}
	for _, m := range methods {
		if !contains(phoneOrder, m.PhoneType) {
			why = append(why, fmt.Sprintf("%s %s: not a mobile, alternateMobile or office method", orQuoted(m.PhoneType), maskInput(m.PhoneNumber)))
		}
	}
	return nil, strings.Join(why, "; ")
}

func phoneReason(err error) string {
	switch {
	case errors.Is(err, phone.ErrRegion):
		return "outside IDP_PHONE_COUNTRIES"
	case errors.Is(err, phone.ErrNotPersonal):
		return "not a landline or mobile number (" + phone.Message(err) + ")"
	case errors.Is(err, phone.ErrEmpty):
		return "empty"
	default:
		return "not a phone number libphonenumber understands"
	}
}

// maskInput hides all but the last 3 digits of a number as written, so that the
// report (which admins keep) does not hold whole numbers.
func maskInput(s string) string {
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			if digits > 3 {
				r = '*'
			}
			digits--
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

func orQuoted(s string) string {
	if s == "" {
		return `phoneType ""`
	}
	return s
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// maxIDLen bounds a source id, the OIDC sub of the account (B2C object ids are
// 36-character GUIDs).
const maxIDLen = 255

// checkID says what is wrong with a source id, or "" when it can be a sub.
func checkID(id string) string {
	switch {
	case id == "":
		return "no id"
	case len(id) > maxIDLen:
		return "the id is longer than 255 bytes"
	case !utf8.ValidString(id) || strings.ContainsFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return "the id has spaces or control characters"
	}
	return ""
}

// name trims a name and drops control characters, which sign-up refuses.
func name(s *string) string {
	if s == nil {
		return ""
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, *s))
}

// jsonProblem says what is wrong with a JSON value without quoting its content.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s is a %s, not a %s", te.Field, te.Value, te.Type)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	return "invalid JSON"
}

// GraphPage is one Graph list response of users.
type GraphPage struct {
	Value    []GraphUser `json:"value"`
	NextLink string      `json:"@odata.nextLink,omitempty"`
}

// GraphRecords applies the import rules to pages of users fetched from Graph,
// with the positions ReadB2C gives the same pages written by WriteB2C.
func GraphRecords(pages []GraphPage, rules Rules) []Record {
	var recs []Record
	for p, page := range pages {
		for i := range page.Value {
			recs = append(recs, graphRecord(Position{Page: p + 1, Index: i}, &page.Value[i], rules))
		}
	}
	return recs
}

// WriteB2C writes pages in the --from-b2c format: one Graph list response after
// another, each user with its phoneMethods.
func WriteB2C(w io.Writer, pages []GraphPage) error {
	enc := json.NewEncoder(w)
	for _, p := range pages {
		if p.Value == nil {
			p.Value = []GraphUser{}
		}
		if err := enc.Encode(p); err != nil {
			return err
		}
	}
	return nil
}
