package mirror

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/convokit/convo"
)

// redact removes what a message says, as a retention window does: its
// body, and the provider fields that carry the same text (content and its
// decoded payload, an email's subject). A message whose body is removed
// is marked so by RedactedAt: the provider's time when it removed it, or
// else the time the message left a retention window of retention, its
// SentAt plus retention, which stays the same each time the message is
// redacted again (so that a redacted row delivered again is not rewritten).
func redact(m *convo.Message, retention time.Duration) {
	m.Body, m.Content, m.Payload, m.Subject = "", "", nil, ""
	if m.RedactedAt.IsZero() {
		m.RedactedAt = m.SentAt.Add(retention)
	}
}

// retentionBatch is how many rows a retention pass reads and rewrites at
// a time.
const retentionBatch = 500

// applyRetention redacts, in one transaction, every message of the run's
// provider sent before cutoff that is not redacted yet: its body becomes
// NULL, its data loses the text (see redact), and redacted_at and
// mirrored_at are set. It returns the number of messages redacted; with
// none to redact it writes nothing.
func (r *run) applyRetention(ctx context.Context, cutoff time.Time, retention time.Duration) (n int64, err error) {
	if _, err := r.conn.ExecContext(ctx, r.d.begin()); err != nil {
		return 0, err
	}
	committed := false
	defer func() {
		if !committed {
			r.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	p := r.d.placeholder
	sel := "SELECT id, data FROM messages WHERE provider = " + p(1) + " AND redacted_at IS NULL AND sent_at < " + p(2) + " ORDER BY sent_at LIMIT " + fmt.Sprint(retentionBatch)
	upd := "UPDATE messages SET body = NULL, data = " + p(1) + ", redacted_at = " + p(2) + ", mirrored_at = " + p(3) + " WHERE provider = " + p(4) + " AND id = " + p(5)
	now := r.d.timeArg(time.Now())
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
			if _, err := r.conn.ExecContext(ctx, upd, string(r.d.jsonText(data)), r.d.timeArg(m.RedactedAt), now, r.provider, row.id); err != nil {
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
