package store

import (
	"strings"
	"time"
)

// DefaultAuditLimit is how many events QueryAudit and ListAudit return when the
// caller gives no limit.
const DefaultAuditLimit = 100

// SQL is the part of an SQL backend's QueryAudit statement after `FROM
// audit_events`: the WHERE clause of f's set fields, newest first (by time, then
// id), and the LIMIT, with the arguments in order. The backends differ only in
// placeholder(n), the n-th parameter ("$1" or "?"), and at(t), a time as they
// store it.
func (f AuditFilter) SQL(placeholder func(n int) string, at func(time.Time) any) (string, []any) {
	var where []string
	var args []any
	// add appends a condition whose "?" take vs in order.
	add := func(cond string, vs ...any) {
		for _, v := range vs {
			args = append(args, v)
			cond = strings.Replace(cond, "?", placeholder(len(args)), 1)
		}
		where = append(where, cond)
	}
	for _, c := range []struct{ col, v string }{{"user_id", f.UserID}, {"client_id", f.ClientID}, {"kind", f.Kind}, {"operator", f.Operator}} {
		if c.v != "" {
			add(c.col+" = ?", c.v)
		}
	}
	if !f.Since.IsZero() {
		add("time >= ?", at(f.Since))
	}
	if !f.Until.IsZero() {
		add("time < ?", at(f.Until))
	}
	if f.Before != nil {
		add("(time < ? OR (time = ? AND id < ?))", at(f.Before.Time), at(f.Before.Time), f.Before.ID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultAuditLimit
	}
	var q strings.Builder
	if len(where) > 0 {
		q.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	args = append(args, limit)
	q.WriteString(" ORDER BY time DESC, id DESC LIMIT " + placeholder(len(args)))
	return q.String(), args
}
