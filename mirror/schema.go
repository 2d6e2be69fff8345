package mirror

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SchemaVersion is the version of the schema this package writes. A
// database at an older version is migrated on [Open]; one at a newer
// version is refused with [ErrNewerSchema].
const SchemaVersion = 3

// Tables of a mirror. metaTable marks a database as a mirror and holds its
// schema version; the others are refused when found without it.
const (
	metaTable  = "convo_meta"
	syncTable  = "convo_syncs"
	stateTable = "convo_sync_conversations"
)

var mirrorTables = []string{"conversations", "messages", syncTable, stateTable}

// migrations[i] takes a database from version i to i+1. A new database
// runs them all, so the path of a fresh mirror and of an upgraded one is
// the same code.
var migrations = []func(d dialect) []string{
	// 1: the tables.
	func(d dialect) []string {
		ts, js := d.timeType(), d.jsonType()
		return []string{
			`CREATE TABLE conversations (
	provider        TEXT NOT NULL,
	id              TEXT NOT NULL,
	contact_id      TEXT,
	channel         TEXT,
	status          TEXT,
	last_message_at ` + ts + `,
	created_at      ` + ts + `,
	data            ` + js + ` NOT NULL,
	PRIMARY KEY (provider, id)
)`,
			`CREATE TABLE messages (
	provider        TEXT NOT NULL,
	id              TEXT NOT NULL,
	conversation_id TEXT NOT NULL,
	direction       TEXT,
	body            TEXT,
	sent_at         ` + ts + `,
	data            ` + js + ` NOT NULL,
	PRIMARY KEY (provider, id)
)`,
			`CREATE TABLE ` + syncTable + ` (
	name       TEXT PRIMARY KEY,
	provider   TEXT NOT NULL,
	filters    TEXT NOT NULL,
	checkpoint TEXT NOT NULL,
	generation BIGINT NOT NULL,
	created_at ` + ts + ` NOT NULL,
	updated_at ` + ts + ` NOT NULL
)`,
		}
	},
	// 2: the indexes queries need.
	func(dialect) []string {
		return []string{
			`CREATE INDEX messages_conversation_sent_at ON messages (provider, conversation_id, sent_at)`,
			`CREATE INDEX conversations_last_message_at ON conversations (last_message_at)`,
		}
	},
	// 3: when the mirror last wrote each row, when a message's body was
	// removed, and a sync's state per conversation in rows of its own.
	func(d dialect) []string {
		ts := d.timeType()
		return []string{
			`ALTER TABLE conversations ADD COLUMN mirrored_at ` + ts,
			`ALTER TABLE messages ADD COLUMN mirrored_at ` + ts,
			`ALTER TABLE messages ADD COLUMN redacted_at ` + ts,
			// A body the provider removed before this version is marked so.
			`UPDATE messages SET redacted_at = ` + d.jsonTime("data", "redacted_at") + ` WHERE ` + d.jsonTime("data", "redacted_at") + ` IS NOT NULL`,
			`CREATE INDEX conversations_mirrored_at ON conversations (mirrored_at)`,
			`CREATE INDEX messages_mirrored_at ON messages (mirrored_at)`,
			`CREATE TABLE ` + stateTable + ` (
	name            TEXT NOT NULL,
	position        BIGINT NOT NULL,
	conversation_id TEXT,
	state           TEXT NOT NULL,
	PRIMARY KEY (name, position)
)`,
		}
	},
}

// Errors of [Open] and [Mirror.Sync], for errors.Is.
var (
	// ErrNotMirror: the database holds tables of a mirror's names that
	// this package did not create.
	ErrNotMirror = errors.New("not a convo mirror")
	// ErrNewerSchema: the database was written by a newer version of this
	// package.
	ErrNewerSchema = errors.New("mirror schema is newer than this version of convo")
	// ErrBusy: another run of the same sync is in progress, or wrote the
	// sync's state while this one ran.
	ErrBusy = errors.New("sync is running elsewhere")
	// ErrNameInUse: the sync's name holds the state of a sync of another
	// provider or with other filters.
	ErrNameInUse = errors.New("sync name in use")
)

// migrate brings the schema to SchemaVersion in one transaction, or
// checks that it is there. It writes nothing when the schema is current
// and nothing at all when it fails.
func migrate(ctx context.Context, d dialect, conn *sql.Conn, target int) (err error) {
	if _, err := conn.ExecContext(ctx, d.begin()); err != nil {
		return err
	}
	commit := false
	defer func() {
		if !commit {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if err := d.lockSchema(ctx, conn); err != nil {
		return err
	}
	version, err := schemaVersion(ctx, d, conn)
	if err != nil {
		return err
	}
	switch {
	case version == target:
		return nil // rolled back: nothing written
	case version > target:
		return fmt.Errorf("%w: the database is at schema version %d, this convo writes version %d; upgrade convo", ErrNewerSchema, version, target)
	case version == 0:
		for _, t := range mirrorTables {
			ok, err := d.tableExists(ctx, conn, t)
			if err != nil {
				return err
			}
			if ok {
				return fmt.Errorf("%w: the database has a table %q but no %s table; mirror into another database", ErrNotMirror, t, metaTable)
			}
		}
		if _, err := conn.ExecContext(ctx, "CREATE TABLE "+metaTable+" (key TEXT PRIMARY KEY, value TEXT NOT NULL)"); err != nil {
			return err
		}
	}
	for v := version; v < target; v++ {
		for _, stmt := range migrations[v](d) {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrate to schema version %d: %w", v+1, err)
			}
		}
	}
	q := "INSERT INTO " + metaTable + " (key, value) VALUES ('schema_version', " + d.placeholder(1) + ") ON CONFLICT (key) DO UPDATE SET value = excluded.value"
	if _, err := conn.ExecContext(ctx, q, strconv.Itoa(target)); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return err
	}
	commit = true
	return nil
}

// schemaVersion reads the schema version: 0 for a database without the
// meta table.
func schemaVersion(ctx context.Context, d dialect, conn *sql.Conn) (int, error) {
	ok, err := d.tableExists(ctx, conn, metaTable)
	if err != nil || !ok {
		return 0, err
	}
	var s string
	err = conn.QueryRowContext(ctx, "SELECT value FROM "+metaTable+" WHERE key = 'schema_version'").Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: its %s table has no schema_version", ErrNotMirror, metaTable)
	}
	if err != nil {
		return 0, fmt.Errorf("%w: reading %s: %v", ErrNotMirror, metaTable, err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < 1 {
		return 0, fmt.Errorf("%w: schema_version %q is not a version", ErrNotMirror, s)
	}
	return v, nil
}
