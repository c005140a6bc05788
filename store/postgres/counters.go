package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// windowStart is the start, in Unix nanoseconds, of the window of the given
// length that contains now; windows are aligned to the Unix epoch.
func windowStart(window time.Duration, now time.Time) (int64, error) {
	if window <= 0 {
		return 0, fmt.Errorf("window %v must be positive", window)
	}
	n, w := now.UnixNano(), int64(window)
	start := n - n%w
	if n%w < 0 {
		start -= w
	}
	return start, nil
}

// Hit counts with one upsert, atomic under concurrent hits. The first hit of a
// new window also deletes this key's windows older than the previous one, so
// the table stays bounded.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int, error) {
	start, err := windowStart(window, now)
	if err != nil {
		return 0, fmt.Errorf("postgres: hit counter %s: %w", key, err)
	}
	var hits int
	err = s.pool.QueryRow(ctx, `INSERT INTO counters (key, window_ns, window_start, hits) VALUES ($1, $2, $3, 1)
		ON CONFLICT (key, window_ns, window_start) DO UPDATE SET hits = counters.hits + 1
		RETURNING hits`, key, int64(window), start).Scan(&hits)
	if err != nil {
		return 0, fmt.Errorf("postgres: hit counter %s: %w", key, err)
	}
	if hits == 1 {
		if _, err := s.pool.Exec(ctx, `DELETE FROM counters WHERE key = $1 AND window_ns = $2 AND window_start < $3`,
			key, int64(window), start-int64(window)); err != nil {
			return 0, fmt.Errorf("postgres: hit counter %s: clear old windows: %w", key, err)
		}
	}
	return hits, nil
}

func (s *Store) Count(ctx context.Context, key string, window time.Duration, now time.Time) (int, error) {
	start, err := windowStart(window, now)
	if err != nil {
		return 0, fmt.Errorf("postgres: count %s: %w", key, err)
	}
	var hits int
	err = s.pool.QueryRow(ctx, `SELECT hits FROM counters WHERE key = $1 AND window_ns = $2 AND window_start = $3`,
		key, int64(window), start).Scan(&hits)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: count %s: %w", key, err)
	}
	return hits, nil
}
