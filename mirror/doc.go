// Package mirror keeps a SQL database's copy of the conversations and
// messages a [convo.Client] serves, up to date, incrementally and exactly
// once, through database/sql.
//
// It speaks two dialects, [SQLite] and [PostgreSQL], and imports no
// driver: open the *sql.DB with the driver of your choice (the convo
// command uses modernc.org/sqlite, which needs no cgo, and
// github.com/jackc/pgx/v5/stdlib) and pass it to [Open]:
//
//	db, err := sql.Open("sqlite", "file:inbox.db?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)")
//	…
//	m, err := mirror.Open(ctx, db, mirror.SQLite) // creates or migrates the schema
//	…
//	stats, err := m.Sync(ctx, client, &mirror.Options{Name: "support"})
//
// With SQLite, put the busy timeout first in the connection string, as
// above: the driver runs the pragmas in order as it opens each connection,
// and journal_mode(WAL) without a timeout fails at once (SQLITE_BUSY)
// while another process holds the file, as when two first runs create one
// mirror at the same moment.
//
// Run Sync again (from cron, a loop, a service) to bring the mirror up to
// date: a run after a completed one is an incremental [convo.Client.Sync]
// that fetches and writes only what changed, and one that finds nothing
// new writes nothing. A run after an interrupted or crashed one continues
// it. See [Mirror.Sync] for the guarantees.
//
// Records change after they were first read: a status, a delivery
// receipt, a body the provider's retention removed. A run that refreshes
// ([convo.SyncParams] Refresh and Recheck) is delivered the conversations
// and messages whose record changed, and updates their rows in place, in
// the transaction that writes the sync's state covering them.
// [Options].Retention removes message bodies older than a window from the
// mirror itself.
//
// # Schema
//
// The schema is stable: write SQL against it. Its version is in the
// convo_meta table (key schema_version, currently [SchemaVersion]); Open
// creates it on first use and migrates an older one.
//
//	conversations                         messages
//	  provider         text    ─┐ PK        provider         text    ─┐ PK
//	  id               text    ─┘           id               text    ─┘
//	  contact_id       text                 conversation_id  text
//	  channel          text                 direction        text     inbound | outbound
//	  status           text                 body             text
//	  last_message_at  time                 sent_at          time
//	  created_at       time                 data             json
//	  data             json                 redacted_at      time
//	  mirrored_at      time                 mirrored_at      time
//
// provider is the provider's name ("vobiz", "vantaxai", "rentalot",
// "agentmessage") and id the provider's id of the record. The typed columns
// hold convo's normalised fields ([convo.Conversation] ContactID, Channel,
// Status, LastMessageAt, CreatedAt; [convo.Message] ConversationID,
// Direction, Body, SentAt); a field the provider does not fill is NULL.
// data is convo's whole model of the record in its snake_case JSON form,
// every provider-specific field included (json_extract(data, '$.tags') in
// SQLite, data->'tags' in PostgreSQL).
//
// mirrored_at is when the mirror last wrote the row (inserted it, or
// changed it in place; a record delivered again unchanged keeps it): the
// time of the statement that wrote it (in PostgreSQL, of its
// transaction's start, by the server's clock). A transaction commits after
// its rows' mirrored_at, so read "what changed since T" with some overlap
// (mirrored_at > T minus a few seconds). Rows written before schema
// version 3 have none.
// redacted_at is set when a message's body was removed: by the provider
// (AgentMessage's redacted_at) or by [Options].Retention; body is then
// NULL.
//
// Time columns are timestamptz in PostgreSQL and RFC 3339 text in UTC,
// fixed to microseconds ("2026-01-31T09:15:00.000000Z"), in SQLite: they
// sort as text, and date(), strftime() and julianday() read them. data is
// jsonb in PostgreSQL and text in SQLite.
//
// U+0000 (NUL). SQLite stores every text as it is. PostgreSQL's text
// cannot hold a NUL, nor can jsonb (it refuses the \u0000 escape), so in
// PostgreSQL each NUL of a text becomes the six characters \u0000, in the
// typed columns and in the strings of data alike (body and data->>'body'
// read the same): a server that sends a NUL neither fails the sync nor has
// its text dropped. data stays jsonb rather than json, which could hold
// the escape, so that its operators and indexes keep working. A text that
// holds the characters \u0000 already reads the same in PostgreSQL.
//
// Indexes: messages (provider, conversation_id, sent_at) for a
// conversation's messages in time order, conversations (last_message_at),
// mirrored_at on both tables, and messages (provider, sent_at) where
// redacted_at is NULL, made by the first run with [Options].Retention. Add your own for your queries (CREATE INDEX on a
// mirror table is yours to make; a mirror never drops what it did not
// create).
//
// convo_syncs holds one row per sync name: its provider, its filters (as a
// query string), its checkpoint (the JSON of a [convo.Checkpoint]) but for
// its per-conversation entries, a generation counter and when it was
// created and last written. convo_sync_conversations holds those entries,
// one row per sync name and conversation (name, position, conversation_id,
// state), so that a transaction writes the state of the conversations its
// batches changed, not the whole checkpoint. [Mirror.State] joins them.
// A state written by schema version 2 (the whole checkpoint in
// convo_syncs) is moved into rows by its first run after the migration.
//
// # Exactly once
//
// Rows and the checkpoint that covers them are written in the same
// transaction, so the database is always at the end of some transaction
// and the next run starts from exactly the rows it holds. Rows are
// upserted by (provider, id) and rewritten only when their data changed;
// [Stats] counts rows inserted apart from rows changed in place.
//
// # Scaling out
//
// Many processes can mirror into one database: one per account, tenant or
// filter, each under its own sync name. They write different rows and
// different state; PostgreSQL takes their transactions side by side.
package mirror
