package mirror

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"time"

	"github.com/convokit/convo"
)

// A sync's checkpoint is stored in two parts: its head, every field but
// the per-conversation entries, in the sync's row of convo_syncs; and
// those entries, one row each in convo_sync_conversations, keyed by their
// position in the checkpoint's list. A transaction rewrites the head
// (small: the position of the run and the conversations under way) and
// only the entries its batches changed, not the whole checkpoint, whose
// entries grow with the conversations delivered.
//
// The split reads the checkpoint's JSON form, so it needs no more of
// [convo.Checkpoint] than json.Marshal and json.Unmarshal: the entries are
// the elements of its top-level "known" list. A checkpoint without one is
// stored whole in its head.

// knownKey is the checkpoint's top-level key of its per-conversation
// entries.
const knownKey = "known"

// checkpointParts is a checkpoint's JSON split for storage.
type checkpointParts struct {
	head    []byte            // the JSON object without knownKey
	entries []json.RawMessage // the elements of knownKey, in order
}

// splitCheckpoint splits the JSON of a checkpoint. It reads it in one
// pass with a json.Decoder, each top-level value and each entry kept as it
// is written.
func splitCheckpoint(b []byte) (checkpointParts, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	bad := func(err error) (checkpointParts, error) { return checkpointParts{}, fmt.Errorf("checkpoint: %w", err) }
	if tok, err := dec.Token(); err != nil {
		return bad(err)
	} else if tok != json.Delim('{') {
		return bad(fmt.Errorf("not a JSON object"))
	}
	var p checkpointParts
	head := make([]byte, 0, 512)
	head = append(head, '{')
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad(err)
		}
		key, _ := tok.(string)
		if key == knownKey && !found {
			if p.entries, err = decodeEntries(dec); err != nil {
				return bad(err)
			}
			found = true
			continue
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return bad(err)
		}
		if len(head) > 1 {
			head = append(head, ',')
		}
		k, _ := json.Marshal(key)
		head = append(append(append(head, k...), ':'), v...)
	}
	if !found {
		return checkpointParts{head: b}, nil
	}
	p.head = append(head, '}')
	return p, nil
}

// decodeEntries reads the value of knownKey: a list of entries.
func decodeEntries(dec *json.Decoder) ([]json.RawMessage, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('[') {
		return nil, fmt.Errorf("%q is not a list", knownKey)
	}
	var entries []json.RawMessage
	for dec.More() {
		var e json.RawMessage
		if err := dec.Decode(&e); err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, err
	}
	return entries, nil
}

// joinCheckpoint is the inverse of splitCheckpoint: the head with entries
// as its knownKey list. A head that holds the list itself (stored whole,
// as schema version 2 did) comes back as it is when there are no entries.
func joinCheckpoint(head []byte, entries []json.RawMessage) []byte {
	head = bytes.TrimSpace(head)
	if len(entries) == 0 || len(head) < 2 || head[len(head)-1] != '}' {
		return head
	}
	n := len(head) + len(knownKey) + 8
	for _, e := range entries {
		n += len(e) + 1
	}
	out := make([]byte, 0, n)
	out = append(out, head[:len(head)-1]...)
	if len(bytes.TrimSpace(head[1:len(head)-1])) > 0 {
		out = append(out, ',')
	}
	out = append(out, `"`+knownKey+`":[`...)
	for i, e := range entries {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, e...)
	}
	return append(out, "]}"...)
}

// entryHash is a digest of an entry, to tell the entries a transaction
// changed from those it did not.
var entrySeed = maphash.MakeSeed()

func entryHash(e []byte) uint64 { return maphash.Bytes(entrySeed, e) }

// stateDelta is what a transaction writes of a sync's state: the head, the
// entries that changed (by position) and the positions from which entries
// no longer exist.
type stateDelta struct {
	head    []byte
	changed []int
	entries []json.RawMessage
	hashes  []uint64 // of every entry, once written
	truncAt int      // entries at this position and after are deleted; -1: none
}

// diff compares parts with the digests of the entries last written.
func diff(p checkpointParts, written []uint64) stateDelta {
	d := stateDelta{head: p.head, entries: p.entries, hashes: make([]uint64, len(p.entries)), truncAt: -1}
	for i, e := range p.entries {
		d.hashes[i] = entryHash(e)
		if i >= len(written) || written[i] != d.hashes[i] {
			d.changed = append(d.changed, i)
		}
	}
	if len(written) > len(p.entries) {
		d.truncAt = len(p.entries)
	}
	return d
}

// empty reports whether the delta writes nothing, given the head last
// written.
func (d *stateDelta) empty(written []byte) bool {
	return len(d.changed) == 0 && d.truncAt < 0 && bytes.Equal(d.head, written)
}

// entryID is the conversation id of an entry, or "" when it has none.
func entryID(e json.RawMessage) string {
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(e, &v) != nil {
		return ""
	}
	return v.ID
}

// loadEntries reads the stored entries of the sync name, in order.
func loadEntries(ctx context.Context, q queryer, d dialect, name string) ([]json.RawMessage, error) {
	rows, err := q.QueryContext(ctx, "SELECT state FROM "+stateTable+" WHERE name = "+d.placeholder(1)+" ORDER BY position", name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var entries []json.RawMessage
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		entries = append(entries, json.RawMessage(s))
	}
	return entries, rows.Err()
}

// queryer is a *sql.DB or a *sql.Conn.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// stateRowsPerStatement is how many entries one statement writes.
const stateRowsPerStatement = 100

// writeEntries writes the entries of d that changed, and deletes those
// that are no longer there, inside the transaction of conn.
func writeEntries(ctx context.Context, conn *sql.Conn, dl dialect, name string, d *stateDelta) error {
	if d.truncAt >= 0 {
		if _, err := conn.ExecContext(ctx, "DELETE FROM "+stateTable+" WHERE name = "+dl.placeholder(1)+" AND position >= "+dl.placeholder(2), name, d.truncAt); err != nil {
			return fmt.Errorf("write sync state: %w", err)
		}
	}
	args := make([]any, 0, 3*min(len(d.changed), stateRowsPerStatement))
	for start := 0; start < len(d.changed); start += stateRowsPerStatement {
		chunk := d.changed[start:min(start+stateRowsPerStatement, len(d.changed))]
		args = args[:0]
		for _, i := range chunk {
			e := d.entries[i]
			args = append(args, int64(i), null(dl.text(entryID(e))), string(e))
		}
		q := "INSERT INTO " + stateTable + " (name, position, conversation_id, state) VALUES " + placeholders(dl, len(chunk), 3, sqlString(name)) +
			" ON CONFLICT (name, position) DO UPDATE SET conversation_id = excluded.conversation_id, state = excluded.state"
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("write sync state: %w", err)
		}
	}
	return nil
}

// State returns the checkpoint stored under a sync's name, and whether
// there is one.
func (m *Mirror) State(ctx context.Context, name string) (*convo.Checkpoint, bool, error) {
	var head string
	err := m.db.QueryRowContext(ctx, "SELECT checkpoint FROM "+syncTable+" WHERE name = "+m.d.placeholder(1), name).Scan(&head)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("mirror: %w", err)
	}
	entries, err := loadEntries(ctx, m.db, m.d, name)
	if err != nil {
		return nil, false, fmt.Errorf("mirror: %w", err)
	}
	cp := new(convo.Checkpoint)
	if err := json.Unmarshal(joinCheckpoint([]byte(head), entries), cp); err != nil {
		return nil, false, fmt.Errorf("mirror: sync %q: %w", name, err)
	}
	return cp, true, nil
}

// Reset deletes the state of the named sync, so that its next run is a
// full sync again. The mirrored rows stay (the full sync upserts over
// them). It reports whether there was a state. A sync of that name that
// is running makes it fail with [ErrBusy], deleting nothing: it takes the
// sync's lock as [Mirror.Sync] does.
func (m *Mirror) Reset(ctx context.Context, name string) (bool, error) {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("mirror: %w", err)
	}
	defer conn.Close()
	if err := m.d.setup(ctx, conn); err != nil {
		return false, fmt.Errorf("mirror: %w", err)
	}
	unlock, err := m.d.lockSync(ctx, conn, name)
	if err != nil {
		return false, fmt.Errorf("mirror: sync %q: %w", name, err)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
		defer cancel()
		if unlock(uctx) != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn }) // its session, and the lock, end
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("mirror: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "DELETE FROM "+syncTable+" WHERE name = "+m.d.placeholder(1), name)
	if err != nil {
		return false, fmt.Errorf("mirror: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+stateTable+" WHERE name = "+m.d.placeholder(1), name); err != nil {
		return false, fmt.Errorf("mirror: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("mirror: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("mirror: %w", err)
	}
	return n > 0, nil
}

// unlockTimeout bounds the release of a sync's lock by Reset.
const unlockTimeout = 5 * time.Second

// load reads the sync's state, or starts a new one. It returns the
// digests of the stored entries of the checkpoint (see diff).
func (r *run) load(ctx context.Context) (*convo.Checkpoint, []uint64, error) {
	p := r.d.placeholder
	var provider, filters, head string
	var generation int64
	err := r.conn.QueryRowContext(ctx, "SELECT provider, filters, checkpoint, generation FROM "+syncTable+" WHERE name = "+p(1), r.opts.Name).
		Scan(&provider, &filters, &head, &generation)
	if errors.Is(err, sql.ErrNoRows) {
		return new(convo.Checkpoint), nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if provider != r.provider || filters != r.filters {
		return nil, nil, fmt.Errorf("%w: it holds the state of a sync of %s with filters %q, not of %s with %q; choose another name",
			ErrNameInUse, provider, filters, r.provider, r.filters)
	}
	entries, err := loadEntries(ctx, r.conn, r.d, r.opts.Name)
	if err != nil {
		return nil, nil, err
	}
	cp := new(convo.Checkpoint)
	if err := json.Unmarshal(joinCheckpoint([]byte(head), entries), cp); err != nil {
		return nil, nil, fmt.Errorf("stored checkpoint: %w", err)
	}
	r.exists, r.generation, r.writtenHead = true, generation, []byte(head)
	return cp, diff(checkpointParts{entries: entries}, nil).hashes, nil
}

// writeState writes the head of the sync's state inside the transaction:
// the sync's row, created on its first write; later writes move its
// generation on and fail with ErrBusy when another run moved it first.
func (r *run) writeState(ctx context.Context, checkpoint []byte) error {
	p := r.d.placeholder
	now := r.d.timeArg(time.Now())
	var res sql.Result
	var err error
	if !r.exists {
		res, err = r.conn.ExecContext(ctx, "INSERT INTO "+syncTable+" (name, provider, filters, checkpoint, generation, created_at, updated_at) VALUES ("+
			p(1)+", "+p(2)+", "+p(3)+", "+p(4)+", 1, "+p(5)+", "+p(6)+") ON CONFLICT (name) DO NOTHING",
			r.opts.Name, r.provider, r.filters, string(checkpoint), now, now)
	} else {
		res, err = r.conn.ExecContext(ctx, "UPDATE "+syncTable+" SET checkpoint = "+p(1)+", generation = generation + 1, updated_at = "+p(2)+
			" WHERE name = "+p(3)+" AND generation = "+p(4),
			string(checkpoint), now, r.opts.Name, r.generation)
	}
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("%w: another run of this sync wrote its state meanwhile; this run stopped without writing its last batch (run it again to continue)", ErrBusy)
	}
	return nil
}
