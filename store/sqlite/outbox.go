package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/councilforms/idp/store"
)

// defaultOutboxLimit is what ListOutbox returns when limit <= 0.
const defaultOutboxLimit = 100

const outboxCols = `id, channel, recipient, subject, text_body, html_body, status, attempts,
	next_attempt_at, created_at, sent_at, last_error`

func (s *Store) EnqueueOutbox(ctx context.Context, m *store.OutboxMessage) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now().UTC()
	}
	if m.NextAttemptAt.IsZero() {
		m.NextAttemptAt = m.CreatedAt
	}
	m.Status, m.Attempts, m.SentAt, m.LastError = store.OutboxQueued, 0, time.Time{}, ""
	err := s.write.QueryRowContext(ctx, `INSERT INTO outbox (channel, recipient, subject, text_body, html_body,
		status, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?) RETURNING id`,
		m.Channel, m.Recipient, m.Subject, m.Text, m.HTML, string(m.Status),
		m.NextAttemptAt.UnixNano(), m.CreatedAt.UnixNano()).Scan(&m.ID)
	if err != nil {
		return fmt.Errorf("sqlite: enqueue outbox %s: %w", m.Channel, err)
	}
	return nil
}

// ClaimOutbox is one UPDATE on the single write connection, inside an IMMEDIATE
// transaction: it holds the file's write lock, so claimers in other processes wait
// and then no longer find the rows due.
func (s *Store) ClaimOutbox(ctx context.Context, channel string, now time.Time, limit int, lease time.Duration) ([]*store.OutboxMessage, error) {
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("sqlite: claim outbox: limit %d and lease %v must be positive", limit, lease)
	}
	var ms []*store.OutboxMessage
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE outbox
			SET status = 'sending', attempts = attempts + 1, next_attempt_at = ?
			WHERE id IN (SELECT id FROM outbox
				WHERE status IN ('queued', 'sending') AND next_attempt_at <= ? AND channel = ?
				ORDER BY next_attempt_at, id LIMIT ?)
			RETURNING `+outboxCols, now.Add(lease).UnixNano(), now.UnixNano(), channel, limit)
		if err != nil {
			return err
		}
		ms, err = scanOutbox(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim outbox: %w", err)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	return ms, nil
}

func (s *Store) MarkOutboxSent(ctx context.Context, id int64, now time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE outbox SET status = 'sent', sent_at = ?, text_body = '', html_body = '',
		last_error = '' WHERE id = ?`, now.UnixNano(), id)
	if err == nil {
		err = checkAffected(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: mark outbox %d sent: %w", id, err)
	}
	return nil
}

func (s *Store) MarkOutboxRetry(ctx context.Context, id int64, nextAttempt time.Time, lastError string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE outbox SET status = 'queued', next_attempt_at = ?, last_error = ?
		WHERE id = ?`, nextAttempt.UnixNano(), lastError, id)
	if err == nil {
		err = checkAffected(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: mark outbox %d for retry: %w", id, err)
	}
	return nil
}

func (s *Store) MarkOutboxFailed(ctx context.Context, id int64, lastError string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE outbox SET status = 'failed', last_error = ?, text_body = '', html_body = ''
		WHERE id = ?`, lastError, id)
	if err == nil {
		err = checkAffected(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: mark outbox %d failed: %w", id, err)
	}
	return nil
}

func (s *Store) ListOutbox(ctx context.Context, status store.OutboxStatus, limit int) ([]*store.OutboxMessage, error) {
	if limit <= 0 {
		limit = defaultOutboxLimit
	}
	query, args := `SELECT `+outboxCols+` FROM outbox ORDER BY created_at DESC, id DESC LIMIT ?`, []any{limit}
	if status != "" {
		query, args = `SELECT `+outboxCols+` FROM outbox WHERE status = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
			[]any{string(status), limit}
	}
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list outbox: %w", err)
	}
	ms, err := scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list outbox: %w", err)
	}
	return ms, nil
}

// scanOutbox reads rows of outboxCols and closes them.
func scanOutbox(rows *sql.Rows) ([]*store.OutboxMessage, error) {
	defer rows.Close()
	var ms []*store.OutboxMessage
	for rows.Next() {
		var (
			m             store.OutboxMessage
			status        string
			next, created int64
			sent          sql.NullInt64
		)
		if err := rows.Scan(&m.ID, &m.Channel, &m.Recipient, &m.Subject, &m.Text, &m.HTML, &status, &m.Attempts,
			&next, &created, &sent, &m.LastError); err != nil {
			return nil, err
		}
		m.Status = store.OutboxStatus(status)
		m.NextAttemptAt = time.Unix(0, next).UTC()
		m.CreatedAt = time.Unix(0, created).UTC()
		m.SentAt = fromNanos(sent)
		ms = append(ms, &m)
	}
	return ms, rows.Err()
}
