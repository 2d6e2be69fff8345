package mirror

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/convokit/convo"
)

// redact removes what a message says, as a retention window does: its
// body, the provider fields that carry the same text (content and its
// decoded payload, an email's subject) and its media links (as
// AgentMessage's retention empties media_urls). A message whose body is removed
// is marked so by RedactedAt: the provider's time when it removed it, or
// else the time the message left a retention window of retention, its
// SentAt plus retention, which stays the same each time the message is
// redacted again (so that a redacted row delivered again is not rewritten).
func redact(m *convo.Message, retention time.Duration) {
	m.Body, m.Content, m.Payload, m.Subject, m.MediaURLs = "", "", nil, "", nil
	if m.RedactedAt.IsZero() {
		m.RedactedAt = m.SentAt.Add(retention)
	}
}

// retentionBatch is how many rows a retention pass reads and rewrites at
// a time.
const retentionBatch = 500

// retentionIndex finds the messages a retention pass may still have to
// blank. It is made by the first run that applies a retention, not by the
// schema's migrations, so that a mirror without one does not maintain it
// at every insert.
const retentionIndex = "messages_unredacted_sent_at"

// applyRetention redacts, in one transaction, every message of the run's
// provider sent before cutoff that is not redacted yet: its body becomes
// NULL, its data loses the text (see redact), and redacted_at and
// mirrored_at are set. It returns the number of messages redacted; with
// none to redact it writes nothing.
func (r *run) applyRetention(ctx context.Context, cutoff time.Time, retention time.Duration) (n int64, err error) {
	if err := r.retentionIndex(ctx); err != nil {
		return 0, err
	}
	p := r.d.placeholder
	var one int
	err = r.conn.QueryRowContext(ctx, "SELECT 1 FROM messages WHERE provider = "+p(1)+" AND redacted_at IS NULL AND sent_at < "+p(2)+" LIMIT 1",
		r.provider, r.d.timeArg(cutoff)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	if _, err := r.conn.ExecContext(ctx, r.d.begin()); err != nil {
		return 0, err
	}
	committed := false
	defer func() {
		if !committed {
			r.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	sel := "SELECT id, data FROM messages WHERE provider = " + p(1) + " AND redacted_at IS NULL AND sent_at < " + p(2) + " ORDER BY sent_at LIMIT " + fmt.Sprint(retentionBatch)
	// mirrored_at first: its stamp is the statement's first value (see
	// dialect.stamp).
	stamp := r.d.stampArgs(time.Now())
	upd := "UPDATE messages SET mirrored_at = " + r.d.stamp() + ", body = NULL, data = " + p(1) + ", redacted_at = " + p(2) + " WHERE provider = " + p(3) + " AND id = " + p(4)
	for {
		rows, err := r.readRetention(ctx, sel, cutoff)
		if err != nil {
			return 0, err
		}
		for _, row := range rows {
			var m convo.Message
			if err := json.Unmarshal([]byte(row.data), &m); err != nil {
				return 0, fmt.Errorf("retention: message %q: %w", row.id, err)
			}
			redact(&m, retention)
			data, err := json.Marshal(&m)
			if err != nil {
				return 0, fmt.Errorf("retention: message %q: %w", row.id, err)
			}
			args := append(stamp[:len(stamp):len(stamp)], string(r.d.jsonText(data)), r.d.timeArg(m.RedactedAt), r.provider, row.id)
			if _, err := r.conn.ExecContext(ctx, upd, args...); err != nil {
				return 0, fmt.Errorf("retention: %w", err)
			}
			n++
		}
		if len(rows) < retentionBatch {
			break
		}
	}
	if _, err := r.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return 0, err
	}
	committed = true
	return n, nil
}

type retentionRow struct{ id, data string }

// readRetention reads the next rows a retention pass rewrites; they are
// read whole before any is written, on the connection of the transaction.
func (r *run) readRetention(ctx context.Context, q string, cutoff time.Time) ([]retentionRow, error) {
	rows, err := r.conn.QueryContext(ctx, q, r.provider, r.d.timeArg(cutoff))
	if err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	defer rows.Close()
	var out []retentionRow
	for rows.Next() {
		var row retentionRow
		var data sql.NullString
		if err := rows.Scan(&row.id, &data); err != nil {
			return nil, fmt.Errorf("retention: %w", err)
		}
		row.data = data.String
		out = append(out, row)
	}
	return out, rows.Err()
}

// retentionIndex makes the index of the retention pass when the database
// has none.
func (r *run) retentionIndex(ctx context.Context) error {
	ok, err := r.d.tableExists(ctx, r.conn, retentionIndex) // PostgreSQL: any relation; SQLite: tables only, and IF NOT EXISTS does the rest
	if err != nil || ok {
		return err
	}
	_, err = r.conn.ExecContext(ctx, "CREATE INDEX IF NOT EXISTS "+retentionIndex+" ON messages (provider, sent_at) WHERE redacted_at IS NULL")
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	return nil
}
