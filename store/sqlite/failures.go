package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RecordFailure counts with one upsert on the single write connection; the
// latest failure time never moves back.
func (s *Store) RecordFailure(ctx context.Context, key string, at time.Time) (int, error) {
	var n int
	err := s.write.QueryRowContext(ctx, `INSERT INTO failure_runs (key, failures, last_failure_at) VALUES (?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET failures = failures + 1,
			last_failure_at = max(last_failure_at, excluded.last_failure_at)
		RETURNING failures`, key, at.UnixNano()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: record failure %s: %w", key, err)
	}
	return n, nil
}

func (s *Store) Failures(ctx context.Context, key string) (int, time.Time, error) {
	var (
		n    int
		last sql.NullInt64
	)
	err := s.read.QueryRowContext(ctx, `SELECT failures, last_failure_at FROM failure_runs WHERE key = ?`, key).Scan(&n, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlite: failures %s: %w", key, err)
	}
	return n, fromNanos(last), nil
}

func (s *Store) ResetFailures(ctx context.Context, key string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM failure_runs WHERE key = ?`, key); err != nil {
		return fmt.Errorf("sqlite: reset failures %s: %w", key, err)
	}
	return nil
}
