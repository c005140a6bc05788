package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Bounded waits. PostgreSQL that is down refuses connections at once, but a frozen
// one (a stalled host, a failover in progress) accepts them and answers nothing, and
// pgx waits as long as its context lets it: a request's context has no deadline. So
// every statement gets one.
const (
	// ConnectTimeout bounds opening a connection (TCP, TLS, authentication) unless
	// the URL sets connect_timeout.
	ConnectTimeout = 2 * time.Second
	// StatementTimeout bounds one statement, waiting for a pooled connection
	// included, unless the caller's context ends sooner; in a transaction, each
	// statement and the commit. pgx enforces it on the client by a deadline on the
	// connection, which is then closed: a statement cut short is never half read.
	// Migrations are not bounded (they wait for each other's lock and may build
	// indexes).
	StatementTimeout = 3 * time.Second
)

func bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, StatementTimeout)
}

// boundedPool is the pool with StatementTimeout on each statement. Acquire is the
// pool's own, unbounded: Migrate holds its connection for as long as it needs.
type boundedPool struct{ *pgxpool.Pool }

func (p boundedPool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	return p.Pool.Exec(ctx, sql, args...)
}

func (p boundedPool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	ctx, cancel := bound(ctx)
	rows, err := p.Pool.Query(ctx, sql, args...)
	if err != nil {
		cancel()
		return nil, err
	}
	return &boundedRows{Rows: rows, cancel: cancel}, nil
}

func (p boundedPool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	ctx, cancel := bound(ctx)
	return boundedRow{row: p.Pool.QueryRow(ctx, sql, args...), cancel: cancel}
}

func (p boundedPool) Ping(ctx context.Context) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	return p.Pool.Ping(ctx)
}

// sendBatch sends the queued statements in one round trip; their results
// are read, and the batch closed, before StatementTimeout or cancel.
func (p boundedPool) sendBatch(ctx context.Context, b *pgx.Batch) (pgx.BatchResults, context.CancelFunc) {
	ctx, cancel := bound(ctx)
	return p.Pool.SendBatch(ctx, b), cancel
}

func (p boundedPool) Begin(ctx context.Context) (pgx.Tx, error) {
	return p.BeginTx(ctx, pgx.TxOptions{})
}

func (p boundedPool) BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	bctx, cancel := bound(ctx)
	defer cancel() // the transaction does not keep the context of its BEGIN
	tx, err := p.Pool.BeginTx(bctx, opts)
	if err != nil {
		return nil, err
	}
	return boundedTx{tx}, nil
}

// boundedTx bounds each statement of a transaction, and its commit and rollback.
type boundedTx struct{ pgx.Tx }

func (t boundedTx) Begin(ctx context.Context) (pgx.Tx, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	tx, err := t.Tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return boundedTx{tx}, nil
}

func (t boundedTx) Commit(ctx context.Context) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	return t.Tx.Commit(ctx)
}

func (t boundedTx) Rollback(ctx context.Context) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	return t.Tx.Rollback(ctx)
}

func (t boundedTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	return t.Tx.Exec(ctx, sql, args...)
}

func (t boundedTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	ctx, cancel := bound(ctx)
	rows, err := t.Tx.Query(ctx, sql, args...)
	if err != nil {
		cancel()
		return nil, err
	}
	return &boundedRows{Rows: rows, cancel: cancel}, nil
}

func (t boundedTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	ctx, cancel := bound(ctx)
	return boundedRow{row: t.Tx.QueryRow(ctx, sql, args...), cancel: cancel}
}

// boundedRows releases its deadline when the rows are done: read to the end or closed.
type boundedRows struct {
	pgx.Rows
	cancel context.CancelFunc
}

func (r *boundedRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.cancel()
	return false
}

func (r *boundedRows) Close() {
	r.Rows.Close()
	r.cancel()
}

// boundedRow releases its deadline once scanned (QueryRow runs the query on Scan).
type boundedRow struct {
	row    pgx.Row
	cancel context.CancelFunc
}

func (r boundedRow) Scan(dest ...any) error {
	defer r.cancel()
	return r.row.Scan(dest...)
}
