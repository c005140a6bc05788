package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/councilforms/idp/store"
)

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
		limit = store.DefaultAuditLimit
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

// QueryAudit is store.AuditFilter.SQL's statement.
func (s *Store) QueryAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditEvent, error) {
	rest, args := f.SQL(func(int) string { return "?" }, func(t time.Time) any { return t.UnixNano() })
	return s.scanAudit(ctx, `SELECT id, time, kind, user_id, client_id, ip, detail, operator, reason FROM audit_events`+rest, args...)
}

func (s *Store) PruneAudit(ctx context.Context, cut time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM audit_events WHERE time < ?`, cut.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune audit: %w", err)
	}
	return res.RowsAffected()
}
