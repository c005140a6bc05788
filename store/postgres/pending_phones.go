package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/councilforms/idp/store"
)

func (s *Store) RequestPhoneChange(ctx context.Context, p *store.PendingPhone, notice *store.OutboxMessage, audit *store.AuditEvent) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var one int
		// FOR UPDATE: an erasure running at the same time waits, or wins.
		if err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, p.UserID).Scan(&one); err != nil {
			return notFound(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pending_phones (user_id, phone, phone_type, requested_at, effective_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET phone = excluded.phone,
			phone_type = excluded.phone_type, requested_at = excluded.requested_at, effective_at = excluded.effective_at`,
			p.UserID, p.Phone, p.PhoneType, p.RequestedAt.UTC(), p.EffectiveAt.UTC()); err != nil {
			return err
		}
		return txRecord(ctx, tx, notice, audit)
	})
	if err != nil {
		return fmt.Errorf("postgres: request phone change %s: %w", p.UserID, err)
	}
	return nil
}

func (s *Store) PendingPhoneChange(ctx context.Context, userID string) (*store.PendingPhone, error) {
	p := store.PendingPhone{UserID: userID}
	err := s.pool.QueryRow(ctx, `SELECT phone, phone_type, requested_at, effective_at FROM pending_phones WHERE user_id = $1`,
		userID).Scan(&p.Phone, &p.PhoneType, &p.RequestedAt, &p.EffectiveAt)
	if err != nil {
		return nil, fmt.Errorf("postgres: pending phone %s: %w", userID, notFound(err))
	}
	p.RequestedAt, p.EffectiveAt = p.RequestedAt.UTC(), p.EffectiveAt.UTC()
	return &p, nil
}

func (s *Store) ApplyPhoneChange(ctx context.Context, p *store.PendingPhone, now time.Time, notice *store.OutboxMessage, audit *store.AuditEvent) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM pending_phones WHERE user_id = $1 AND phone = $2 AND effective_at <= $3`,
			p.UserID, p.Phone, now.UTC())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET phone = $1, phone_type = $2, phone_verified = true, updated_at = $3 WHERE id = $4`,
			p.Phone, p.PhoneType, now.UTC(), p.UserID); err != nil {
			return err
		}
		return txRecord(ctx, tx, notice, audit)
	})
	if err != nil {
		return fmt.Errorf("postgres: apply phone change %s: %w", p.UserID, err)
	}
	return nil
}

func (s *Store) CancelPhoneChange(ctx context.Context, userID string, audit *store.AuditEvent) (bool, error) {
	var had bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM pending_phones WHERE user_id = $1`, userID)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		had = true
		return txRecord(ctx, tx, nil, audit)
	})
	if err != nil {
		return false, fmt.Errorf("postgres: cancel phone change %s: %w", userID, err)
	}
	return had, nil
}

// txRecord enqueues notice and appends audit inside tx (either may be nil),
// setting their ids and defaults as EnqueueOutbox and AppendAudit do.
func txRecord(ctx context.Context, tx pgx.Tx, notice *store.OutboxMessage, audit *store.AuditEvent) error {
	if notice != nil {
		m := notice
		if m.CreatedAt.IsZero() {
			m.CreatedAt = time.Now().UTC()
		}
		if m.NextAttemptAt.IsZero() {
			m.NextAttemptAt = m.CreatedAt
		}
		m.Status, m.Attempts, m.SentAt, m.LastError = store.OutboxQueued, 0, time.Time{}, ""
		if err := tx.QueryRow(ctx, `INSERT INTO outbox (channel, recipient, subject, text_body, html_body,
			status, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8) RETURNING id`,
			m.Channel, m.Recipient, m.Subject, m.Text, m.HTML, string(m.Status),
			m.NextAttemptAt.UTC(), m.CreatedAt.UTC()).Scan(&m.ID); err != nil {
			return err
		}
	}
	if audit != nil {
		e := audit
		if e.Time.IsZero() {
			e.Time = time.Now().UTC()
		}
		if err := tx.QueryRow(ctx, `INSERT INTO audit_events (time, kind, user_id, client_id, ip, detail, operator)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			e.Time.UTC(), e.Kind, e.UserID, e.ClientID, e.IP, e.Detail, e.Operator).Scan(&e.ID); err != nil {
			return err
		}
	}
	return nil
}
