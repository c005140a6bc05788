package migrate

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// Reason is why a record was skipped or partly imported.
type Reason string

// Every reason but ReasonUnreadable is a listed one: the run still succeeds.
const (
	// ReasonUnreadable: the record is not a user object the import understands
	// (not JSON, no id, a bad date). The run fails (exit status 1) after the rest.
	ReasonUnreadable Reason = "unreadable"
	// ReasonNoEmail: no emailAddress identity (a tenant administrator, a federated user).
	ReasonNoEmail Reason = "no_email_identity"
	// ReasonBadEmail: the sign-in email is not one sign-up would accept.
	ReasonBadEmail Reason = "invalid_email"
	// ReasonDuplicateEmail: another record of the source has the same email in any
	// case; both are skipped, never merged.
	ReasonDuplicateEmail Reason = "duplicate_email"
	// ReasonDuplicateID: another record of the source has the same id; both are skipped.
	ReasonDuplicateID Reason = "duplicate_id"
	// ReasonExists: the email or id belongs to an account made here or one that has
	// signed in here already: it is left as it is.
	ReasonExists Reason = "account_exists"
	// ReasonPhoneLeftOut: the account is imported without a phone (none of its numbers
	// can be used here); the person enrols one at their next sign-in.
	ReasonPhoneLeftOut Reason = "phone_left_out"
)

// Problem is a record skipped, or a part of an imported record left out.
type Problem struct {
	Position Position `json:"position"`
	Where    string   `json:"where"` // Position as text: "line 12", "page 2 value[5]"
	SourceID string   `json:"object_id"`
	Reason   Reason   `json:"reason"`
	Detail   string   `json:"detail"`
	Skipped  bool     `json:"skipped"` // false: the account was imported without this part
}

func (r *Record) problem(reason Reason, detail string) *Problem {
	return &Problem{Position: r.Pos, Where: r.Pos.String(), SourceID: r.SourceID, Reason: reason, Detail: detail,
		Skipped: reason != ReasonPhoneLeftOut}
}

// Report is what a run did (or, in a dry run, would do).
type Report struct {
	Source  string `json:"source"`
	DryRun  bool   `json:"dry_run"` // counts are what a run would do; nothing was written
	Records int    `json:"records"`
	Created int    `json:"created"`
	Updated int    `json:"updated"`
	// Unchanged accounts were imported before, with the same names, phone and state.
	Unchanged int `json:"unchanged"`
	Skipped   int `json:"skipped"`
	// PartlyImported accounts were created, updated or unchanged without a part
	// (their phone): each has a Problem with Skipped false.
	PartlyImported int       `json:"partly_imported"`
	Problems       []Problem `json:"problems"`
	// Error says why the run failed (unreadable records, a bad file, a failed
	// write); the counts are what was done before or besides it.
	Error string `json:"error,omitempty"`
}

// WriteJSON writes the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	if r.Problems == nil {
		r.Problems = []Problem{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for a person: the counts, then a line per problem.
func (r *Report) WriteText(w io.Writer) error {
	verb := map[bool][3]string{false: {"created", "updated", "skipped"}, true: {"to create", "to update", "to skip"}}[r.DryRun]
	title := "import from " + r.Source
	if r.DryRun {
		title += " (dry run: nothing was changed)"
	}
	fmt.Fprintln(w, title)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "records read:\t%d\n", r.Records)
	fmt.Fprintf(tw, "%s:\t%d\n", verb[0], r.Created)
	fmt.Fprintf(tw, "%s:\t%d\n", verb[1], r.Updated)
	fmt.Fprintf(tw, "unchanged:\t%d\n", r.Unchanged)
	fmt.Fprintf(tw, "%s:\t%d\n", verb[2], r.Skipped)
	fmt.Fprintf(tw, "without their phone:\t%d\n", r.PartlyImported)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Problems) > 0 {
		fmt.Fprintln(w, "\nskipped or partly imported:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "WHERE\tOBJECT ID\tWHAT\tREASON\tDETAIL")
		for _, p := range r.Problems {
			what := "skipped"
			if !p.Skipped {
				what = "imported without phone"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Where, orDash(p.SourceID), what, p.Reason, p.Detail)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if r.Error != "" {
		fmt.Fprintln(w, "\nerror: "+r.Error)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
