package support

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/councilforms/idp/store"
)

// Audit export formats.
const (
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
)

// exportPage is how many events one read of an export takes.
const exportPage = 1000

// ExportAudit writes every event that matches f (newest first, a page of
// the store at a time) as JSON Lines or CSV (with a header row): id, time,
// kind, user_id, client_id, ip, operator, detail, reason. f.Limit and
// f.Before are the export's own.
func ExportAudit(ctx context.Context, w io.Writer, db store.Audit, f store.AuditFilter, format string) error {
	if format != FormatJSONL && format != FormatCSV {
		return fmt.Errorf("support: unknown export format %q", format)
	}
	cw := csv.NewWriter(w)
	if format == FormatCSV {
		if err := cw.Write([]string{"id", "time", "kind", "user_id", "client_id", "ip", "operator", "detail", "reason"}); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(w)
	f.Limit, f.Before = exportPage, nil
	for {
		es, err := db.QueryAudit(ctx, f)
		if err != nil {
			return err
		}
		for _, e := range es {
			if format == FormatCSV {
				err = cw.Write([]string{strconv.FormatInt(e.ID, 10), e.Time.UTC().Format(time.RFC3339Nano), e.Kind, e.UserID,
					e.ClientID, e.IP, e.Operator, e.Detail, e.Reason})
			} else {
				err = enc.Encode(map[string]any{"id": e.ID, "time": e.Time.UTC().Format(time.RFC3339Nano), "kind": e.Kind,
					"user_id": e.UserID, "client_id": e.ClientID, "ip": e.IP, "operator": e.Operator, "detail": e.Detail, "reason": e.Reason})
			}
			if err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if len(es) < exportPage {
			return nil
		}
		f.Before = es[len(es)-1]
	}
}

// ParseTime reads a time an operator gives to filter the audit log: RFC 3339,
// or a date (midnight UTC). Empty gives the zero time.
func ParseTime(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, true
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
