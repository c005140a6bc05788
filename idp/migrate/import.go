package migrate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/councilforms/idp/store"
)

// Accounts is what an import needs of the store.
type Accounts interface {
	ImportUsers(ctx context.Context, batch []*store.User, now time.Time) ([]store.ImportOutcome, error)
	UserByID(ctx context.Context, id string) (*store.User, error)
	UserByEmail(ctx context.Context, email string) (*store.User, error)
}

// DefaultBatchSize is how many accounts one transaction writes.
const DefaultBatchSize = 500

// Import writes records to the store.
type Import struct {
	Accounts  Accounts
	DryRun    bool // only look: decide every record as a run would, write nothing
	BatchSize int  // <= 0 means DefaultBatchSize
	Now       func() time.Time
	// Progress, when set, is told after each batch how many records are done.
	Progress func(done, total int)
}

// ErrIncomplete is the error of a run that could not read or write everything;
// the report says what was done.
var ErrIncomplete = errors.New("import incomplete")

// Run imports recs (in their order, a transaction per batch) and reports. The
// error is ErrIncomplete, wrapped with the reason, when a record was unreadable or
// a write failed; the report is complete either way for what was done.
func (im *Import) Run(ctx context.Context, source string, recs []Record) (*Report, error) {
	now := time.Now
	if im.Now != nil {
		now = im.Now
	}
	size := im.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	rep := &Report{Source: source, DryRun: im.DryRun, Records: len(recs)}
	markDuplicates(recs)

	outcomes := make([]store.ImportOutcome, len(recs))
	var batch []*store.User
	var at []int // index in recs of each batch entry
	var writeErr error
	flush := func() {
		if len(batch) == 0 || writeErr != nil {
			return
		}
		var out []store.ImportOutcome
		var err error
		if im.DryRun {
			out, err = im.decide(ctx, batch)
		} else {
			out, err = im.Accounts.ImportUsers(ctx, batch, now().UTC())
		}
		if err != nil {
			writeErr = fmt.Errorf("records %s to %s: %w", recs[at[0]].Pos, recs[at[len(at)-1]].Pos, err)
			return
		}
		for j, i := range at {
			outcomes[i] = out[j]
		}
		if im.Progress != nil {
			im.Progress(at[len(at)-1]+1, len(recs))
		}
		batch, at = batch[:0], at[:0]
	}
	for i := range recs {
		if recs[i].Skip != nil || recs[i].User == nil {
			continue
		}
		batch, at = append(batch, recs[i].User), append(at, i)
		if len(batch) >= size {
			flush()
		}
	}
	flush()

	unreadable := 0
	for i := range recs {
		r := &recs[i]
		if r.Skip != nil {
			rep.Skipped++
			rep.Problems = append(rep.Problems, *r.Skip)
			if r.Skip.Reason == ReasonUnreadable {
				unreadable++
			}
			continue
		}
		switch outcomes[i] {
		case store.ImportCreated:
			rep.Created++
		case store.ImportUpdated:
			rep.Updated++
		case store.ImportUnchanged:
			rep.Unchanged++
		case store.ImportExists:
			rep.Skipped++
			rep.Problems = append(rep.Problems, *r.problem(ReasonExists,
				"an account with this email or id was made here or has signed in here already; left as it is"))
			continue
		default:
			continue // not reached: a failed write stopped the run
		}
		if len(r.Notes) > 0 {
			rep.PartlyImported++
			rep.Problems = append(rep.Problems, r.Notes...)
		}
	}
	var errs []string
	if unreadable > 0 {
		errs = append(errs, plural(unreadable, "record", "records")+" could not be read")
	}
	if writeErr != nil {
		errs = append(errs, "a write failed, and the records after it were not imported (run it again to resume): "+writeErr.Error())
	}
	if len(errs) > 0 {
		rep.Error = strings.Join(errs, "; ")
		return rep, fmt.Errorf("%w: %s", ErrIncomplete, rep.Error)
	}
	return rep, nil
}

// decide gives the outcomes a run would give, from reads only.
func (im *Import) decide(ctx context.Context, batch []*store.User) ([]store.ImportOutcome, error) {
	out := make([]store.ImportOutcome, len(batch))
	for i, u := range batch {
		byID, err := im.Accounts.UserByID(ctx, u.ID)
		if errors.Is(err, store.ErrNotFound) {
			byID, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
		byEmail, err := im.Accounts.UserByEmail(ctx, u.Email)
		if errors.Is(err, store.ErrNotFound) {
			byEmail, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
		out[i] = store.DecideImport(u, byID, byEmail)
	}
	return out, nil
}

// markDuplicates skips every record that shares its email (in any case) or its id
// with another record of the source: the import never guesses which is the person.
func markDuplicates(recs []Record) {
	byEmail, byID := map[string][]int{}, map[string][]int{}
	for i, r := range recs {
		if r.Skip != nil || r.User == nil {
			continue
		}
		byEmail[strings.ToLower(r.User.Email)] = append(byEmail[strings.ToLower(r.User.Email)], i)
		byID[r.User.ID] = append(byID[r.User.ID], i)
	}
	mark := func(groups map[string][]int, reason Reason, what string) {
		keys := make([]string, 0, len(groups))
		for k, g := range groups {
			if len(g) > 1 {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			g := groups[k]
			for _, i := range g {
				if recs[i].Skip != nil {
					continue
				}
				var others []string
				for _, j := range g {
					if j != i {
						others = append(others, recs[j].Pos.String())
					}
				}
				recs[i].Skip = recs[i].problem(reason, "the same "+what+" as "+strings.Join(others, ", ")+"; none of them is imported")
			}
		}
	}
	mark(byEmail, ReasonDuplicateEmail, "email (in any case)")
	mark(byID, ReasonDuplicateID, "id")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
