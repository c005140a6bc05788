package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/councilforms/idp/store"
)

func (s *Store) AddDailyCount(ctx context.Context, at time.Time, clientID, kind string, n int64) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO daily_counts (day, client_id, kind, n) VALUES ($1::date, $2, $3, $4)
		ON CONFLICT (day, client_id, kind) DO UPDATE SET n = daily_counts.n + excluded.n`, store.DayOf(at), clientID, kind, n)
	if err != nil {
		return fmt.Errorf("postgres: add daily count %s: %w", kind, err)
	}
	return nil
}

func (s *Store) DailyCounts(ctx context.Context, from, to time.Time) ([]store.DailyCount, error) {
	var lo, hi any
	if !from.IsZero() {
		lo = store.DayOf(from)
	}
	if !to.IsZero() {
		hi = store.DayOf(to)
	}
	rows, err := s.pool.Query(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), client_id, kind, n FROM daily_counts
		WHERE ($1::date IS NULL OR day >= $1::date) AND ($2::date IS NULL OR day <= $2::date)
		ORDER BY day, client_id, kind`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("postgres: daily counts: %w", err)
	}
	defer rows.Close()
	var out []store.DailyCount
	for rows.Next() {
		var (
			c   store.DailyCount
			day string
		)
		if err := rows.Scan(&day, &c.ClientID, &c.Kind, &c.N); err != nil {
			return nil, fmt.Errorf("postgres: daily counts: %w", err)
		}
		if c.Day, err = time.Parse(time.DateOnly, day); err != nil {
			return nil, fmt.Errorf("postgres: daily counts: day %q: %w", day, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: daily counts: %w", err)
	}
	return out, nil
}
