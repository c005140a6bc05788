package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
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

// Hit counts with one upsert. The first hit of a new window also deletes this
// key's windows older than the previous one, so the table stays bounded.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int, error) {
	start, err := windowStart(window, now)
	if err != nil {
		return 0, fmt.Errorf("sqlite: hit counter %s: %w", key, err)
	}
	var hits int
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO counters (key, window_ns, window_start, hits) VALUES (?, ?, ?, 1)
			ON CONFLICT (key, window_ns, window_start) DO UPDATE SET hits = hits + 1
			RETURNING hits`, key, int64(window), start).Scan(&hits)
		if err != nil || hits != 1 {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM counters WHERE key = ? AND window_ns = ? AND window_start < ?`,
			key, int64(window), start-int64(window))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: hit counter %s: %w", key, err)
	}
	return hits, nil
}

func (s *Store) Unhit(ctx context.Context, key string, window time.Duration, now time.Time) error {
	start, err := windowStart(window, now)
	if err != nil {
		return fmt.Errorf("sqlite: unhit counter %s: %w", key, err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE counters SET hits = hits - 1
			WHERE key = ? AND window_ns = ? AND window_start = ? AND hits > 0`, key, int64(window), start)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: unhit counter %s: %w", key, err)
	}
	return nil
}

func (s *Store) Count(ctx context.Context, key string, window time.Duration, now time.Time) (int, error) {
	start, err := windowStart(window, now)
	if err != nil {
		return 0, fmt.Errorf("sqlite: count %s: %w", key, err)
	}
	var hits int
	err = s.read.QueryRowContext(ctx, `SELECT hits FROM counters WHERE key = ? AND window_ns = ? AND window_start = ?`,
		key, int64(window), start).Scan(&hits)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: count %s: %w", key, err)
	}
	return hits, nil
}

// sweepMembers bounds how many rows of ended windows one AddMember deletes.
const sweepMembers = 500

// AddMember runs in one write transaction: SQLite has one writer at a time, so
// the rank it gives cannot be taken meanwhile. The first member of a window also
// deletes up to sweepMembers rows of windows of this length that have ended,
// whatever their key, so the table holds little more than today's sets.
func (s *Store) AddMember(ctx context.Context, key, member string, window time.Duration, now time.Time) (int, error) {
	start, err := windowStart(window, now)
	if err != nil {
		return 0, fmt.Errorf("sqlite: add member to %s: %w", key, err)
	}
	var rank int
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT rank FROM counter_members
			WHERE key = ? AND window_ns = ? AND window_start = ? AND member = ?`,
			key, int64(window), start, member).Scan(&rank)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO counter_members (key, window_ns, window_start, member, rank)
			SELECT ?1, ?2, ?3, ?4, COALESCE(MAX(rank), 0) + 1 FROM counter_members
			WHERE key = ?1 AND window_ns = ?2 AND window_start = ?3
			RETURNING rank`, key, int64(window), start, member).Scan(&rank)
		if err != nil || rank != 1 {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM counter_members WHERE (key, window_ns, window_start, member) IN (
			SELECT key, window_ns, window_start, member FROM counter_members
			WHERE window_ns = ? AND window_start < ? LIMIT ?)`, int64(window), start, sweepMembers)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: add member to %s: %w", key, err)
	}
	return rank, nil
}

// Counts reads each key's count in turn: the database is in process, so
// several statements cost no network round trip.
func (s *Store) Counts(ctx context.Context, keys []string, window time.Duration, now time.Time) ([]int, error) {
	out := make([]int, len(keys))
	for i, k := range keys {
		n, err := s.Count(ctx, k, window, now)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}
