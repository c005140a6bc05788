package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/councilforms/idp/store"
)

func (s *Store) RequestPhoneChange(ctx context.Context, p *store.PendingPhone, notice *store.OutboxMessage, audit *store.AuditEvent) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, p.UserID).Scan(&one); err != nil {
			return notFound(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO pending_phones (user_id, phone, phone_type, requested_at, effective_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET phone = excluded.phone,
			phone_type = excluded.phone_type, requested_at = excluded.requested_at, effective_at = excluded.effective_at`,
			p.UserID, p.Phone, p.PhoneType, p.RequestedAt.UnixNano(), p.EffectiveAt.UnixNano()); err != nil {
			return err
		}
		return txRecord(ctx, tx, notice, audit)
	})
	if err != nil {
		return fmt.Errorf("sqlite: request phone change %s: %w", p.UserID, err)
	}
	return nil
}

func (s *Store) PendingPhoneChange(ctx context.Context, userID string) (*store.PendingPhone, error) {
	p := store.PendingPhone{UserID: userID}
	var req, eff int64
	err := s.read.QueryRowContext(ctx, `SELECT phone, phone_type, requested_at, effective_at FROM pending_phones WHERE user_id = ?`,
		userID).Scan(&p.Phone, &p.PhoneType, &req, &eff)
	if err != nil {
		return nil, fmt.Errorf("sqlite: pending phone %s: %w", userID, notFound(err))
	}
	p.RequestedAt, p.EffectiveAt = time.Unix(0, req).UTC(), time.Unix(0, eff).UTC()
	return &p, nil
}

func (s *Store) ApplyPhoneChange(ctx context.Context, p *store.PendingPhone, now time.Time, notice *store.OutboxMessage, audit *store.AuditEvent) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM pending_phones WHERE user_id = ? AND phone = ? AND effective_at <= ?`,
			p.UserID, p.Phone, now.UnixNano())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = store.ErrNotFound
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET phone = ?, phone_type = ?, phone_verified = 1, updated_at = ? WHERE id = ?`,
			p.Phone, p.PhoneType, now.UnixNano(), p.UserID); err != nil {
			return err
		}
		return txRecord(ctx, tx, notice, audit)
	})
	if err != nil {
		return fmt.Errorf("sqlite: apply phone change %s: %w", p.UserID, err)
	}
	return nil
}

func (s *Store) CancelPhoneChange(ctx context.Context, userID string, audit *store.AuditEvent) (bool, error) {
	var had bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM pending_phones WHERE user_id = ?`, userID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		had = true
		return txRecord(ctx, tx, nil, audit)
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: cancel phone change %s: %w", userID, err)
	}
	return had, nil
}

// txRecord enqueues notice and appends audit inside tx (either may be nil),
// setting their ids and defaults as EnqueueOutbox and AppendAudit do.
func txRecord(ctx context.Context, tx *sql.Tx, notice *store.OutboxMessage, audit *store.AuditEvent) error {
	if notice != nil {
		m := notice
		if m.CreatedAt.IsZero() {
			m.CreatedAt = time.Now().UTC()
		}
		if m.NextAttemptAt.IsZero() {
			m.NextAttemptAt = m.CreatedAt
		}
		m.Status, m.Attempts, m.SentAt, m.LastError = store.OutboxQueued, 0, time.Time{}, ""
		if err := tx.QueryRowContext(ctx, `INSERT INTO outbox (channel, recipient, subject, text_body, html_body,
			status, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?) RETURNING id`,
			m.Channel, m.Recipient, m.Subject, m.Text, m.HTML, string(m.Status),
			m.NextAttemptAt.UnixNano(), m.CreatedAt.UnixNano()).Scan(&m.ID); err != nil {
			return err
		}
	}
	if audit != nil {
		e := audit
		if e.Time.IsZero() {
			e.Time = time.Now().UTC()
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO audit_events (time, kind, user_id, client_id, ip, detail, operator)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			e.Time.UnixNano(), e.Kind, e.UserID, e.ClientID, e.IP, e.Detail, e.Operator).Scan(&e.ID); err != nil {
			return err
		}
	}
	return nil
}
