package email

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/councilforms/idp/store"
)

// WriteOutboxTable writes messages as a table for operators (idp outbox list): id,
// status, attempts, when queued, when next tried or sent, recipient, subject and the
// last error. Bodies are never shown.
func WriteOutboxTable(w io.Writer, ms []*store.OutboxMessage) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tATTEMPTS\tQUEUED\tNEXT/SENT\tRECIPIENT\tSUBJECT\tLAST ERROR")
	for _, m := range ms {
		when := ""
		switch m.Status {
		case store.OutboxSent:
			when = formatTime(m.SentAt)
		case store.OutboxQueued, store.OutboxSending:
			when = formatTime(m.NextAttemptAt)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Status, m.Attempts, formatTime(m.CreatedAt), when,
			cell(m.Recipient, 60), cell(m.Subject, 60), cell(m.LastError, 120))
	}
	return tw.Flush()
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// cell keeps a value on one line and within width.
func cell(s string, width int) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	if r := []rune(s); len(r) > width {
		return string(r[:width-1]) + "…"
	}
	return s
}
