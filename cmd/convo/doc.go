// Command convo lists the conversations, messages and search results of a
// Vobiz, VantaxAI, Rentalot or AgentMessage account from the command line,
// exports them as JSON lines, resumably, and mirrors them into a SQLite or
// PostgreSQL database, incrementally.
//
// Install it with:
//
//	go install github.com/convokit/convo/cmd/convo@latest
//
// Usage:
//
//	convo conversations [FLAGS]              list conversations
//	convo messages CONVERSATION_ID [FLAGS]   list the messages of a conversation
//	convo search QUERY [FLAGS]               search message content (Rentalot)
//	convo export --out FILE.jsonl [FLAGS]    export everything as JSON lines
//	convo sync --db FILE.db|URL [FLAGS]      mirror everything into SQLite or PostgreSQL
//	convo version                            print the version (also: convo --version)
//	convo completion bash|zsh|fish|powershell  print a shell completion script
//
// Flags may come before or after the arguments; "--" ends the flags.
// "convo COMMAND --help" (or -h) prints a command's flags on stdout.
//
// Flags of every command that calls an API:
//
//	--provider NAME          vobiz, vantaxai, rentalot or agentmessage (default $CONVO_PROVIDER)
//	--base-url URL           the API's base URL instead of the provider's (default $CONVO_BASE_URL)
//	--insecure-cleartext     allow credentials over http:// to a host that is not loopback
//	--demo                   run against a built-in fake server with demo data, no credentials
//	--demo-latency DURATION  delay every answer of the --demo server (default $CONVO_DEMO_LATENCY)
//	--max-retries N          retries of a failed request after the first attempt (default 3)
//	-v, --verbose            log every request attempt to stderr (never a credential)
//
// conversations, messages and search print an aligned table when stdout is
// a terminal and JSON lines (one object per item) otherwise; --json and
// --table force one or the other. A table fits COLUMNS, else the
// terminal, else 80 columns: ids are never cut; a message's body or a
// search's content takes the width left, cut with an ellipsis; columns of
// less value (channel, contact, status, then the time) go whole when there
// is no room; one time is shown, in UTC. --wide prints every column (the
// creation time too) with nothing cut. conversations takes the list filters
// --status, --channel, --contact-id, --sub-account-id, --phone-number-id,
// --contact-number, --since (RFC 3339) and --opted-in (true or false); a
// filter the provider does not support is a usage error, never ignored.
// conversations and messages take --page-size, search takes --limit.
//
// Credentials are read from the environment only, never from flags:
//
//	vobiz          VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN, or VOBIZ_TOKEN (a bearer JWT)
//	vantaxai       VANTAXAI_API_KEY
//	rentalot       RENTALOT_API_KEY
//	agentmessage   AGENTMESSAGE_API_KEY
//
// # Export
//
// export writes one JSON line per conversation and per message, each
// tagged with its kind and conversation id; a conversation's line comes
// before its messages, which keep the provider's order:
//
//	{"kind":"conversation","conversation_id":"…","conversation":{…}}
//	{"kind":"message","conversation_id":"…","message":{…}}
//	{"kind":"conversation_update","conversation_id":"…","conversation":{…}}
//	{"kind":"message_update","conversation_id":"…","message":{…}}
//
// A line of an update kind carries the current record of a conversation
// or message exported before whose record changed since (see --refresh):
// it replaces the earlier line's record.
//
// Lines of different conversations interleave: --concurrency (default 4)
// conversations are fetched at once. It takes the conversation filters,
// --page-size (messages per request; by default the largest the provider
// documents, and the conversation list's too) and:
//
//	--out FILE          the file to write (required)
//	--checkpoint FILE   where the position is kept (default FILE.checkpoint)
//	--save-every D      how often the checkpoint is saved (default 1s)
//	--force             overwrite --out even when it is not a convo export
//	--restart           ignore the checkpoint and start over
//	--refresh D         refresh when the last refresh is older (default 1h; 0: every run; never)
//	--recheck D         a refresh re-reads the messages sent within D (default 24h; 0 or never: none)
//
// Durations are Go durations (90m, 36h) or whole days (30d).
//
// export never destroys another file: an --out that exists, is not empty
// and is not a convo export (its first line an export record) is refused
// unless --force is given. The checkpoint path is checked before any
// request (a directory, or a place where no file can be created, is a usage
// error). A checkpoint that does not fit the command (made for another
// provider, other filters or another output, a file shorter than it covers,
// or unreadable) is a usage error that says what differs; --restart ignores
// it and exports from the beginning. An export refused at its first step (a
// filter the provider does not support) leaves --out as it was.
//
// On a terminal, export shows its progress on stderr (conversations done, of
// the total when the provider reports one, messages, rate, elapsed time);
// otherwise it is silent unless something fails.
//
// Ctrl-C (SIGINT) or SIGTERM stops an export cleanly: it saves the
// checkpoint, prints how to resume, and exits with status 130 (a second
// Ctrl-C kills it at once). Running the same command again continues where
// it stopped, appending to the file, without repeating or losing a line.
// The checkpoint never runs ahead of the file: lines are flushed and synced
// before the checkpoint that covers them is saved, and the checkpoint
// records the size of the file it covers. After a crash the file may hold
// lines written after the last checkpoint; resuming truncates the file to
// the recorded size first. A conversation that fails is reported and the
// others go on; the export then exits with status 1 and keeps its
// checkpoint, so that running it again retries the failed conversations.
// When the export completes, its checkpoint is kept, done: running the
// same command again appends only what is new since (an incremental sync:
// the lines of each new or changed conversation and its new messages;
// nothing when nothing is new). To start afresh, pass --restart, or delete
// the file and its checkpoint.
//
// Records change without new activity (a status, a delivery receipt, a
// body the provider's retention removed). A run refreshes when the last
// refresh is older than --refresh: it reads the whole conversation list
// again, and the messages sent within --recheck, and appends each changed
// record as a line of an update kind. -v says when a run refreshes.
//
// # Sync
//
// sync keeps a database mirror of every conversation and message: --db is
// a SQLite file (created if missing; pure Go, no cgo) or a postgres:// URL
// (the password may also come from PGPASSWORD or ~/.pgpass). The tables
// conversations and messages (primary key provider, id) carry typed
// columns and the whole record as JSON; the schema is in the README and
// the mirror package's documentation. It takes the conversation filters,
// --concurrency, --page-size and:
//
//	--db FILE|URL       the database (required)
//	--name NAME         the name its state is kept under (default PROVIDER@ACCOUNT?FILTERS)
//	--reset             forget that state: a full sync, updating the rows in place
//	--batch-rows N      rows per transaction (default 5000; also one at least every second)
//	--lookback D        how far an incremental run re-reads behind the last one (default 5m)
//	--refresh D         refresh when the last refresh is older (default 1h; 0: every run; never)
//	--recheck D         a refresh re-reads the messages sent within D (default 24h; 0 or never: none)
//	--retention D       remove the bodies of messages older than D from the mirror (default: keep)
//
// Each transaction holds a batch of rows and the sync's checkpoint covering
// exactly them, so an interruption, a crash or a kill -9 at any moment
// leaves a database the next run completes with no row missing or twice.
// A run after a completed one is incremental: it fetches and writes only
// what is new or changed, and writes nothing when nothing is. A run that
// refreshes updates the rows of the conversations and messages whose
// record changed in place, and sets their mirrored_at; on a terminal the
// summary counts the rows inserted and those changed in place. --retention
// removes, at the end of every run, the body of each message of the
// provider sent longer ago than it (body column and data), and marks it
// redacted (redacted_at). Several syncs (providers, accounts, filters)
// share one database, each under its own name; the default name holds a
// fingerprint of the base URL and the credentials (never the
// credentials), so two accounts never share state.
// Two runs of one sync at once: the second fails at once, before any
// request, with status 1, naming the process or PostgreSQL session that
// holds the sync; the lock ends with its holder, even a killed one.
//
// Refused with nothing written: a --db that is neither a path nor a
// postgres:// URL, a path whose directory does not exist or where no file
// can be created, a file that is not a SQLite database, a file or
// directory without write permission (named as such), a database whose
// tables of these names are not a mirror, a --name that holds another
// sync's state (status 2); a mirror of a newer schema version and an
// unreachable PostgreSQL (status 1). Ctrl-C or SIGTERM writes what was
// delivered (a database that does not take it within 3 seconds has that
// write abandoned, and the message says so), prints how to resume and
// exits 130 within 4 seconds; on a terminal, progress goes to stderr.
//
// # Exit status
//
//	0     success
//	1     the API or the network failed (the provider's error message is printed)
//	2     usage error: a bad flag or argument, a missing credential, a filter
//	      or operation the provider does not support
//	130   interrupted by SIGINT or SIGTERM
//
// --demo-latency (default $CONVO_DEMO_LATENCY; a Go duration such as 20ms)
// delays every answer of the --demo server, to watch progress or try an
// interruption on the small demo dataset.
package main
