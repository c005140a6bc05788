package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

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
	err := s.pool.QueryRow(ctx, `INSERT INTO outbox (channel, recipient, subject, text_body, html_body,
		status, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8) RETURNING id`,
		m.Channel, m.Recipient, m.Subject, m.Text, m.HTML, string(m.Status),
		m.NextAttemptAt.UTC(), m.CreatedAt.UTC()).Scan(&m.ID)
	if err != nil {
		return fmt.Errorf("postgres: enqueue outbox %s: %w", m.Channel, err)
	}
	return nil
}

// ClaimOutbox locks the due rows with FOR UPDATE SKIP LOCKED, so concurrent claimers
// (in any process) pass over each other's rows instead of waiting for them, and sets
// the lease in the same statement. A row whose lease another claimer has just set is
// no longer due when re-checked, so it is never handed out twice.
func (s *Store) ClaimOutbox(ctx context.Context, channel string, now time.Time, limit int, lease time.Duration) ([]*store.OutboxMessage, error) {
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("postgres: claim outbox: limit %d and lease %v must be positive", limit, lease)
	}
	var ms []*store.OutboxMessage
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `WITH due AS (
				SELECT id FROM outbox
				WHERE status IN ('queued', 'sending') AND next_attempt_at <= $1 AND channel = $4
				ORDER BY next_attempt_at, id
				LIMIT $2
				FOR UPDATE SKIP LOCKED)
			UPDATE outbox o SET status = 'sending', attempts = o.attempts + 1, next_attempt_at = $3
			FROM due WHERE o.id = due.id
			RETURNING o.id, o.channel, o.recipient, o.subject, o.text_body, o.html_body, o.status, o.attempts,
				o.next_attempt_at, o.created_at, o.sent_at, o.last_error`,
			now.UTC(), limit, now.Add(lease).UTC(), channel)
		if err != nil {
			return err
		}
		ms, err = scanOutbox(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim outbox: %w", err)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	return ms, nil
}

func (s *Store) MarkOutboxSent(ctx context.Context, id int64, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE outbox SET status = 'sent', sent_at = $1, text_body = '', html_body = '',
		last_error = '' WHERE id = $2`, now.UTC(), id)
	if err == nil {
		err = checkAffected(tag)
	}
	if err != nil {
		return fmt.Errorf("postgres: mark outbox %d sent: %w", id, err)
	}
	return nil
}

func (s *Store) MarkOutboxRetry(ctx context.Context, id int64, nextAttempt time.Time, lastError string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE outbox SET status = 'queued', next_attempt_at = $1, last_error = $2
		WHERE id = $3`, nextAttempt.UTC(), lastError, id)
	if err == nil {
		err = checkAffected(tag)
	}
	if err != nil {
		return fmt.Errorf("postgres: mark outbox %d for retry: %w", id, err)
	}
	return nil
}

func (s *Store) MarkOutboxFailed(ctx context.Context, id int64, lastError string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE outbox SET status = 'failed', last_error = $1, text_body = '', html_body = ''
		WHERE id = $2`, lastError, id)
	if err == nil {
		err = checkAffected(tag)
	}
	if err != nil {
		return fmt.Errorf("postgres: mark outbox %d failed: %w", id, err)
	}
	return nil
}

func (s *Store) ListOutbox(ctx context.Context, status store.OutboxStatus, limit int) ([]*store.OutboxMessage, error) {
	if limit <= 0 {
		limit = defaultOutboxLimit
	}
	query, args := `SELECT `+outboxCols+` FROM outbox ORDER BY created_at DESC, id DESC LIMIT $1`, []any{limit}
	if status != "" {
		query, args = `SELECT `+outboxCols+` FROM outbox WHERE status = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
			[]any{string(status), limit}
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list outbox: %w", err)
	}
	ms, err := scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: list outbox: %w", err)
	}
	return ms, nil
}

// scanOutbox reads rows of outboxCols and closes them.
func scanOutbox(rows pgx.Rows) ([]*store.OutboxMessage, error) {
	defer rows.Close()
	var ms []*store.OutboxMessage
	for rows.Next() {
		var (
			m      store.OutboxMessage
			status string
			sent   pgtype.Timestamptz
		)
		if err := rows.Scan(&m.ID, &m.Channel, &m.Recipient, &m.Subject, &m.Text, &m.HTML, &status, &m.Attempts,
			&m.NextAttemptAt, &m.CreatedAt, &sent, &m.LastError); err != nil {
			return nil, err
		}
		m.Status = store.OutboxStatus(status)
		m.NextAttemptAt = m.NextAttemptAt.UTC()
		m.CreatedAt = m.CreatedAt.UTC()
		m.SentAt = fromTS(sent)
		ms = append(ms, &m)
	}
	return ms, rows.Err()
}
