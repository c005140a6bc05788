package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RecordFailure counts with one upsert, atomic under concurrent failures; the
// latest failure time never moves back when a slower writer commits last.
func (s *Store) RecordFailure(ctx context.Context, key string, at time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `INSERT INTO failure_runs (key, failures, last_failure_at) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET failures = failure_runs.failures + 1,
			last_failure_at = GREATEST(failure_runs.last_failure_at, EXCLUDED.last_failure_at)
		RETURNING failures`, key, at.UTC()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: record failure %s: %w", key, err)
	}
	return n, nil
}

func (s *Store) Failures(ctx context.Context, key string) (int, time.Time, error) {
	var (
		n    int
		last time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT failures, last_failure_at FROM failure_runs WHERE key = $1`, key).Scan(&n, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("postgres: failures %s: %w", key, err)
	}
	return n, last.UTC(), nil
}

func (s *Store) ResetFailures(ctx context.Context, key string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM failure_runs WHERE key = $1`, key); err != nil {
		return fmt.Errorf("postgres: reset failures %s: %w", key, err)
	}
	return nil
}
