package mirror

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/convokit/convo"
)

// write commits one flush and, after the run's last, removes the bodies
// that Options.Retention no longer keeps, in a transaction of its own.
func (r *run) write(ctx context.Context, f *flush) error {
	if err := r.writeFlush(ctx, f); err != nil || !f.retain {
		return err
	}
	n, err := r.applyRetention(ctx, r.cutoff, r.opts.Retention)
	if err != nil || n == 0 {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.abandoned {
		r.stats.Redacted += n
		r.stats.Transactions++
		if r.opts.Progress != nil {
			r.opts.Progress(r.stats)
		}
	}
	return nil
}

// writeFlush commits one flush: the sync's state first (which claims the
// write lock and checks that no other run moved it), then the rows.
func (r *run) writeFlush(ctx context.Context, f *flush) error {
	if len(f.convs) == 0 && len(f.msgs) == 0 && r.exists && f.state.empty(r.writtenHead) {
		return nil // nothing new: nothing written
	}
	r.attempts++
	if _, err := r.conn.ExecContext(ctx, r.d.begin()); err != nil {
		r.dirty = true
		return err
	}
	committed := false
	defer func() {
		if !committed {
			r.rollback(ctx)
		}
	}()
	if err := r.writeState(ctx, f.state.head); err != nil {
		return err
	}
	if err := writeEntries(ctx, r.conn, r.d, r.opts.Name, &f.state); err != nil {
		return err
	}
	convs, err := r.upsertConversations(ctx, dedupConversations(f.convs))
	if err != nil {
		return err
	}
	msgs, err := r.upsertMessages(ctx, dedupMessages(f.msgs))
	if err != nil {
		return err
	}
	if r.m.beforeCommit != nil {
		if err := r.m.beforeCommit(r.attempts); err != nil {
			return err
		}
	}
	if _, err := r.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return err
	}
	committed = true
	r.exists, r.writtenHead = true, f.state.head
	r.generation++
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.abandoned {
		return nil // Sync has returned: it reports nothing more
	}
	r.stats.Conversations += convs.inserted
	r.stats.ConversationsChanged += convs.changed
	r.stats.Messages += msgs.inserted
	r.stats.MessagesChanged += msgs.changed
	r.stats.Delivered += f.delivered
	r.stats.Transactions++
	if r.opts.Progress != nil {
		r.opts.Progress(r.stats)
	}
	return nil
}

// rollback ends a failed write transaction. When the write's context has
// ended (the write was cancelled) it still tries, for a moment; a
// connection that could not roll back is discarded when the run ends.
func (r *run) rollback(ctx context.Context) {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
	}
	if _, err := r.conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		r.dirty = true
	}
}

// rollbackTimeout bounds the ROLLBACK of a cancelled write.
const rollbackTimeout = 500 * time.Millisecond

// Columns of the two tables, in the order rows are bound. The first two,
// provider and mirrored_at, are not bound: each statement holds them (see
// rowLead).
var (
	conversationColumns = []string{"provider", "mirrored_at", "id", "contact_id", "channel", "status", "last_message_at", "created_at", "data"}
	messageColumns      = []string{"provider", "mirrored_at", "id", "conversation_id", "direction", "body", "sent_at", "data", "redacted_at"}
)

// unbound is the number of leading columns a statement holds rather than
// binds.
const unbound = 2

// rowLead is the start of every row a statement writes: the provider, as a
// literal, and the time of the write, one value for all the rows of the
// statement (see dialect.stamp). Binding neither per row saves the driver
// two values a row.
func rowLead(d dialect, provider string) string { return sqlString(provider) + ", " + d.stamp() }

// written counts the rows a write inserted and those it changed in place.
type written struct{ inserted, changed int64 }

func (r *run) upsertConversations(ctx context.Context, convs []convo.Conversation) (written, error) {
	args := make([]any, 0, len(conversationColumns)*min(len(convs), r.d.rowsPerStatement(len(conversationColumns))))
	return r.upsert(ctx, "conversations", conversationColumns, len(convs), func(i int) error {
		c := &convs[i]
		data, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("conversation %q: %w", c.ID, err)
		}
		t := r.d.text
		args = append(args, t(c.ID), null(t(c.ContactID)), null(t(c.Channel)), null(t(c.Status)),
			r.d.timeArg(c.LastMessageAt), r.d.timeArg(c.CreatedAt), string(r.d.jsonText(data)))
		return nil
	}, &args)
}

func (r *run) upsertMessages(ctx context.Context, msgs []messageRow) (written, error) {
	args := make([]any, 0, len(messageColumns)*min(len(msgs), r.d.rowsPerStatement(len(messageColumns))))
	return r.upsert(ctx, "messages", messageColumns, len(msgs), func(i int) error {
		args = append(args, msgs[i].args[:]...)
		return nil
	}, &args)
}

// upsert writes n rows of table, bind appending the values of row i to
// args: every column's but the unbound ones, which the statement holds.
func (r *run) upsert(ctx context.Context, table string, cols []string, n int, bind func(i int) error, args *[]any) (written, error) {
	var w written
	width := len(cols) - unbound // values bound per row
	per := r.d.rowsPerStatement(len(cols))
	stamp := r.d.stampArgs(time.Now())
	var one []any
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		*args = append((*args)[:0], stamp...)
		for i := start; i < end; i++ {
			if err := bind(i); err != nil {
				return w, err
			}
		}
		k, err := r.exec(ctx, table, cols, end-start, r.d.insertFirst(), *args)
		if err != nil {
			return w, err
		}
		w.inserted += k.inserted
		w.changed += k.changed
		if !r.d.insertFirst() || k.inserted == int64(end-start) {
			continue
		}
		// The rows the INSERT skipped were there: each is updated when
		// its data differs (a row inserted just now does not).
		rows := (*args)[len(stamp):]
		for i := 0; i < end-start; i++ {
			one = append(append(one[:0], stamp...), rows[i*width:(i+1)*width]...)
			k, err := r.exec(ctx, table, cols, 1, false, one)
			if err != nil {
				return w, err
			}
			w.changed += k.inserted + k.changed
		}
	}
	return w, nil
}

// exec runs the prepared statement that writes rows rows of table (an
// upsert, or with insertOnly an INSERT OR IGNORE) and returns the rows it
// inserted and those it changed. Where rows are inserted first (SQLite)
// the database tells only how many rows a statement wrote: an INSERT's are
// inserted, an upsert's (of rows that are there) changed; PostgreSQL's
// upsert returns, for each row written, whether it was inserted.
func (r *run) exec(ctx context.Context, table string, cols []string, rows int, insertOnly bool, args []any) (written, error) {
	stmt, err := r.stmt(ctx, stmtKey{table, rows, insertOnly}, cols)
	if err != nil {
		return written{}, err
	}
	if r.d.insertFirst() {
		res, err := stmt.ExecContext(ctx, args...)
		if err != nil {
			return written{}, fmt.Errorf("write %s: %w", table, err)
		}
		n, err := res.RowsAffected()
		if insertOnly {
			return written{inserted: n}, err
		}
		return written{changed: n}, err
	}
	res, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return written{}, fmt.Errorf("write %s: %w", table, err)
	}
	defer res.Close()
	var w written
	for res.Next() {
		var inserted bool
		if err := res.Scan(&inserted); err != nil {
			return w, fmt.Errorf("write %s: %w", table, err)
		}
		if inserted {
			w.inserted++
		} else {
			w.changed++
		}
	}
	if err := res.Err(); err != nil {
		return w, fmt.Errorf("write %s: %w", table, err)
	}
	return w, nil
}

type stmtKey struct {
	table      string
	rows       int
	insertOnly bool
}

// stmt returns the prepared statement of key.
func (r *run) stmt(ctx context.Context, key stmtKey, cols []string) (*sql.Stmt, error) {
	if s, ok := r.stmts[key]; ok {
		return s, nil
	}
	q := upsertSQL(r.d, key.table, cols, key.rows, r.provider)
	if key.insertOnly {
		q = insertOrIgnoreSQL(r.d, key.table, cols, key.rows, r.provider)
	}
	s, err := r.conn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if r.stmts == nil {
		r.stmts = map[stmtKey]*sql.Stmt{}
	}
	r.stmts[key] = s
	return s, nil
}

// insertOrIgnoreSQL is the SQLite statement that inserts rows rows into
// table and skips those whose key is there already. The first column,
// provider, is the literal provider in every row; the others are bound.
func insertOrIgnoreSQL(d dialect, table string, cols []string, rows int, provider string) string {
	return "INSERT OR IGNORE INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + placeholders(d, rows, len(cols)-unbound, rowLead(d, provider))
}

// upsertSQL is the statement that inserts rows rows into table, or updates
// a row of the same key in place when its data differs (and with it
// mirrored_at). The first column,
// provider, is the literal provider in every row; the others are bound.
func upsertSQL(d dialect, table string, cols []string, rows int, provider string) string {
	var set, list string
	for i, c := range cols {
		if i > 0 {
			list += ", "
		}
		list += c
		if c != "provider" && c != "id" {
			if set != "" {
				set += ", "
			}
			set += c + " = excluded." + c
		}
	}
	q := "INSERT INTO " + table + " (" + list + ") VALUES " + placeholders(d, rows, len(cols)-unbound, rowLead(d, provider)) +
		" ON CONFLICT (provider, id) DO UPDATE SET " + set +
		" WHERE " + table + ".data " + d.distinct() + " excluded.data"
	if !d.insertFirst() {
		// PostgreSQL: each row written, and whether it was inserted (a
		// row version made by an INSERT has no xmax).
		q += " RETURNING (xmax = 0)"
	}
	return q
}

// dedupMessages sorts rows by id, so that inserts walk each index in key
// order, and keeps the last of rows with the same id: one statement may
// not upsert a row twice (PostgreSQL refuses it).
func dedupMessages(rows []messageRow) []messageRow {
	slices.SortStableFunc(rows, func(a, b messageRow) int { return strings.Compare(a.id, b.id) })
	return lastOfEach(rows, func(r messageRow) string { return r.id })
}

// dedupConversations is dedupMessages for conversations.
func dedupConversations(rows []convo.Conversation) []convo.Conversation {
	slices.SortStableFunc(rows, func(a, b convo.Conversation) int { return strings.Compare(a.ID, b.ID) })
	return lastOfEach(rows, func(c convo.Conversation) string { return c.ID })
}

// lastOfEach keeps, of each run of sorted rows with the same key, the
// last.
func lastOfEach[T any](rows []T, key func(T) string) []T {
	out := rows[:0]
	for i, r := range rows {
		if i+1 < len(rows) && key(rows[i+1]) == key(r) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// sqlString is s as a SQL string literal. The provider is written so
// rather than bound: binding costs the driver more per value than the
// statement's text does once, when it is prepared.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// null stores an empty string as NULL.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}
