package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/councilforms/idp/store"
)

// defaultAuditLimit is what ListAudit returns when limit <= 0.
const defaultAuditLimit = 100

// AppendAudit sets e.ID, and e.Time to now when the caller left it zero.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	err := s.write.QueryRowContext(ctx, `INSERT INTO audit_events (time, kind, user_id, client_id, ip, detail, operator, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		e.Time.UnixNano(), e.Kind, e.UserID, e.ClientID, e.IP, e.Detail, e.Operator, e.Reason).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("sqlite: append audit %s: %w", e.Kind, err)
	}
	return nil
}

// ListAudit orders by time, then by insertion order for events at the same time.
func (s *Store) ListAudit(ctx context.Context, userID string, limit int) ([]*store.AuditEvent, error) {
	if limit <= 0 {
		limit = defaultAuditLimit
	}
	const cols = `SELECT id, time, kind, user_id, client_id, ip, detail, operator, reason FROM audit_events`
	query, args := cols+` ORDER BY time DESC, id DESC LIMIT ?`, []any{limit}
	if userID != "" {
		query, args = cols+` WHERE user_id = ? ORDER BY time DESC, id DESC LIMIT ?`, []any{userID, limit}
	}
	return s.scanAudit(ctx, query, args...)
}

func (s *Store) scanAudit(ctx context.Context, query string, args ...any) ([]*store.AuditEvent, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list audit: %w", err)
	}
	defer rows.Close()
	var es []*store.AuditEvent
	for rows.Next() {
		var (
			e  store.AuditEvent
			ts int64
		)
		if err := rows.Scan(&e.ID, &ts, &e.Kind, &e.UserID, &e.ClientID, &e.IP, &e.Detail, &e.Operator, &e.Reason); err != nil {
			return nil, fmt.Errorf("sqlite: list audit: %w", err)
		}
		e.Time = time.Unix(0, ts).UTC()
		es = append(es, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list audit: %w", err)
	}
	return es, nil
}

// QueryAudit builds one statement from the filter's set fields.
func (s *Store) QueryAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditEvent, error) {
	var where []string
	var args []any
	// add appends a condition whose "?" take vs in order.
	add := func(cond string, vs ...any) {
		for _, v := range vs {
			args = append(args, v)
			cond = strings.Replace(cond, "?", sqlitePlaceholder(len(args)), 1)
		}
		where = append(where, cond)
	}
	for _, c := range []struct{ col, v string }{{"user_id", f.UserID}, {"client_id", f.ClientID}, {"kind", f.Kind}, {"operator", f.Operator}} {
		if c.v != "" {
			add(c.col+" = ?", c.v)
		}
	}
	if !f.Since.IsZero() {
		add("time >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		add("time < ?", f.Until.UnixNano())
	}
	if f.Before != nil {
		add("(time < ? OR (time = ? AND id < ?))", f.Before.Time.UnixNano(), f.Before.Time.UnixNano(), f.Before.ID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultAuditLimit
	}
	query := `SELECT id, time, kind, user_id, client_id, ip, detail, operator, reason FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	query += ` ORDER BY time DESC, id DESC LIMIT ` + sqlitePlaceholder(len(args))
	return s.scanAudit(ctx, query, args...)
}

func sqlitePlaceholder(int) string { return "?" }

func (s *Store) PruneAudit(ctx context.Context, cut time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM audit_events WHERE time < ?`, cut.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune audit: %w", err)
	}
	return res.RowsAffected()
}
