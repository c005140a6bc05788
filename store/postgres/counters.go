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

func (s *Store) Unhit(ctx context.Context, key string, window time.Duration, now time.Time) error {
	start, err := windowStart(window, now)
	if err != nil {
		return fmt.Errorf("postgres: unhit counter %s: %w", key, err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE counters SET hits = hits - 1
		WHERE key = $1 AND window_ns = $2 AND window_start = $3 AND hits > 0`, key, int64(window), start); err != nil {
		return fmt.Errorf("postgres: unhit counter %s: %w", key, err)
	}
	return nil
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

// Counts reads every key's count in one statement.
func (s *Store) Counts(ctx context.Context, keys []string, window time.Duration, now time.Time) ([]int, error) {
	start, err := windowStart(window, now)
	if err != nil {
		return nil, fmt.Errorf("postgres: count %d keys: %w", len(keys), err)
	}
	rows, err := s.pool.Query(ctx, `SELECT key, hits FROM counters WHERE key = ANY($1) AND window_ns = $2 AND window_start = $3`,
		keys, int64(window), start)
	if err != nil {
		return nil, fmt.Errorf("postgres: count %d keys: %w", len(keys), err)
	}
	defer rows.Close()
	found := make(map[string]int, len(keys))
	for rows.Next() {
		var (
			key  string
			hits int
		)
		if err := rows.Scan(&key, &hits); err != nil {
			return nil, fmt.Errorf("postgres: count %d keys: %w", len(keys), err)
		}
		found[key] = hits
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: count %d keys: %w", len(keys), err)
	}
	out := make([]int, len(keys))
	for i, k := range keys {
		out[i] = found[k]
	}
	return out, nil
}

// sweepMembers bounds how many rows of ended windows one AddMember deletes.
const sweepMembers = 500

// AddMember inserts the member with the next rank in one statement. The rank is
// unique per window, so of two concurrent inserts of different members with the
// same rank one does nothing and tries again with the next. The first member of
// a window also deletes up to sweepMembers rows of windows of this length that
// have ended, whatever their key, so the table holds little more than today's
// sets.
func (s *Store) AddMember(ctx context.Context, key, member string, window time.Duration, now time.Time) (int, error) {
	start, err := windowStart(window, now)
	if err != nil {
		return 0, fmt.Errorf("postgres: add member to %s: %w", key, err)
	}
	for range 20 {
		var rank int
		err := s.pool.QueryRow(ctx, `INSERT INTO counter_members (key, window_ns, window_start, member, rank)
			SELECT $1, $2, $3, $4, COALESCE(MAX(rank), 0) + 1 FROM counter_members
			WHERE key = $1 AND window_ns = $2 AND window_start = $3
			ON CONFLICT DO NOTHING RETURNING rank`, key, int64(window), start, member).Scan(&rank)
		switch {
		case err == nil:
			if rank == 1 {
				if _, err := s.pool.Exec(ctx, `DELETE FROM counter_members WHERE (key, window_ns, window_start, member) IN (
					SELECT key, window_ns, window_start, member FROM counter_members
					WHERE window_ns = $1 AND window_start < $2 LIMIT $3)`, int64(window), start, sweepMembers); err != nil {
					return 0, fmt.Errorf("postgres: add member to %s: clear old windows: %w", key, err)
				}
			}
			return rank, nil
		case !errors.Is(err, pgx.ErrNoRows):
			return 0, fmt.Errorf("postgres: add member to %s: %w", key, err)
		}
		// Already a member, or another member took this rank meanwhile.
		err = s.pool.QueryRow(ctx, `SELECT rank FROM counter_members
			WHERE key = $1 AND window_ns = $2 AND window_start = $3 AND member = $4`,
			key, int64(window), start, member).Scan(&rank)
		if err == nil {
			return rank, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return 0, fmt.Errorf("postgres: add member to %s: %w", key, err)
		}
	}
	return 0, fmt.Errorf("postgres: add member to %s: too many concurrent members", key)
}
