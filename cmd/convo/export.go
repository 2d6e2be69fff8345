package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/convokit/convo"
)

// The kinds of export lines. A conversation or message exported before,
// whose record changed since, comes again as a line of an update kind,
// carrying its current record: it replaces the earlier line's record.
const (
	kindConversation       = "conversation"
	kindMessage            = "message"
	kindConversationUpdate = "conversation_update"
	kindMessageUpdate      = "message_update"
)

// record is one line of an export.
type record struct {
	Kind           string              `json:"kind"` // one of the kinds above
	ConversationID string              `json:"conversation_id"`
	Conversation   *convo.Conversation `json:"conversation,omitempty"`
	Message        *convo.Message      `json:"message,omitempty"`
}

func isKind(k string) bool {
	switch k {
	case kindConversation, kindMessage, kindConversationUpdate, kindMessageUpdate:
		return true
	}
	return false
}

// exportMeta is what export keeps in the checkpoint beside the sync's
// position: which file it writes and how many bytes of it the checkpoint
// covers.
type exportMeta struct {
	Output  string            `json:"output"` // absolute path
	Offset  int64             `json:"offset"`
	Filters map[string]string `json:"filters,omitempty"` // the filter flags, by name
}

// newExportCmd is export: every conversation and its messages, to --out as
// JSON lines, with a checkpoint beside it.
//
// The checkpoint never runs ahead of the file: before each save, the lines
// written so far are flushed and synced, and the checkpoint records the
// file's size together with the sync position that produced exactly those
// lines. A crash can leave the file longer than the last checkpoint (lines
// written after it); resuming truncates the file to the recorded size and
// continues from the recorded position, so no line is lost or repeated.
func newExportCmd(e *env) *cobra.Command {
	var c syncFlags
	var out, cpPath string
	var saveEvery time.Duration
	var force, restart bool
	cmd := &cobra.Command{
		Use:   "export --out FILE.jsonl",
		Short: "Export every conversation and its messages as JSON lines, resumably",
		Long: `Export every conversation and its messages as JSON lines, resumably.

Each line is a conversation or a message, tagged with its kind and
conversation id; a conversation's line comes before its messages.
Ctrl-C (SIGINT) or SIGTERM saves the checkpoint and exits with status 130;
running the same command again continues where it stopped.

A finished export keeps its checkpoint: running the same command again
appends only what is new since (an incremental sync): each new or changed
conversation's line with its current record, then its new messages. With
nothing new it adds nothing, at the cost of one list request (Vobiz: plus
one per conversation). To start afresh instead, pass --restart (or delete
the output and its checkpoint).

Records also change without new activity (a status, a delivery receipt, a
body the provider's retention removed): a run refreshes when the last
refresh is older than --refresh, re-reading the conversation list and the
messages sent within --recheck. A conversation or message exported before
whose record changed is appended again as a line of kind
"conversation_update" or "message_update", which replaces the earlier
line's record.

export never overwrites a file that is not a convo export unless --force is
given. A checkpoint that does not fit the command (another provider, other
filters, another output, unreadable) is refused, saying what differs;
--restart ignores it and starts over.`,
		Args: positional(0, 0, ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case out == "":
				return usagef("export needs --out FILE (see 'convo export --help')")
			case out == "-":
				return usagef("--out -: an export cannot go to standard output: it is resumed, and later brought up to date, in its file; give a file path (and read it with tail -f FILE while it grows)")
			case c.concurrency < 1:
				return usagef("--concurrency must be at least 1")
			case saveEvery <= 0:
				return usagef("--save-every must be positive")
			}
			if cpPath == "" {
				cpPath = out + ".checkpoint"
			}
			sp, client, release, err := c.start(e)
			if err != nil {
				return err
			}
			defer release()

			ex := &exporter{e: e, client: client, out: out, cpPath: cpPath, filters: c.filters.given(), force: force, restart: restart, verbose: c.verbose}
			if err := ex.open(); err != nil {
				return err
			}
			defer ex.file.Close()
			sp.Checkpoint = ex.cp
			return ex.run(cmd.Context(), &sp, saveEvery)
		},
	}
	fs := cmd.Flags()
	c.register(fs, e)
	fs.StringVar(&out, "out", "", "the JSON lines `file` to write (required)")
	fs.StringVar(&cpPath, "checkpoint", "", "checkpoint `file` to resume from and keep up to date (default OUT.checkpoint)")
	fs.DurationVar(&saveEvery, "save-every", time.Second, "how often the checkpoint is saved while exporting")
	fs.BoolVar(&force, "force", false, "overwrite --out even when it is not a convo export")
	fs.BoolVar(&restart, "restart", false, "ignore the checkpoint and export from the beginning, rewriting --out")
	return cmd
}

// exporter is one run of export.
type exporter struct {
	e         *env
	client    *convo.Client
	out       string
	cpPath    string
	filters   map[string]string // the filter flags given, by name
	force     bool              // --force: overwrite an --out that is not an export
	restart   bool              // --restart: ignore the checkpoint
	verbose   bool              // -v: also say whether the run refreshes
	cp        *convo.Checkpoint
	resuming  bool
	ownOutput bool  // the restarted checkpoint was this output's
	created   bool  // open created the output file
	start     int64 // the size the output is cut to before the first write
	cut       bool  // whether it was
	cutErr    error
	meta      exportMeta
	file      *os.File
	buf       *bufio.Writer
	cw        *countingWriter
}

// run exports what the sync delivers, saving the checkpoint at least every
// saveEvery, then says on stderr how the export ended.
func (x *exporter) run(ctx context.Context, params *convo.SyncParams, saveEvery time.Duration) error {
	// A finished export's checkpoint makes this run incremental: the sync
	// delivers only what is new, appended after the lines it covers.
	incremental := x.cp.Done()
	if x.verbose {
		if note := refreshNote(x.cp, params); note != "" {
			fmt.Fprintf(x.e.stderr, "convo: %s\n", note)
		}
	}
	var res exportResult
	stopProgress := x.progress(ctx, params, &res.messages)
	x.copy(ctx, params, saveEvery, &res)
	stopProgress()

	usage := errors.Is(res.fatal, convo.ErrInvalidParams) || errors.Is(res.fatal, convo.ErrUnsupported)
	if usage && !x.cut { // refused before anything was written
		return x.abandon(res.fatal)
	}
	if !res.writeFailed {
		if err := x.save(); err != nil {
			res.fatal = fmt.Errorf("save checkpoint: %w", err)
		}
	}
	return x.report(ctx, &res, incremental)
}

// exportResult is how the sync of a run went.
type exportResult struct {
	failed        []string     // the conversations whose pass failed
	fatal         error        // the error that ended the sync early, or nil
	writeFailed   bool         // fatal is the output's or the checkpoint's: the checkpoint is not saved again
	conversations int64        // conversations completed
	updated       int64        // changed messages written again
	messages      atomic.Int64 // messages written
}

// copy writes the batches of the sync to the output, saving the checkpoint
// before a batch when saveEvery has passed since the last save, and
// records in res how the sync went. A conversation's error is printed and
// the sync goes on; any other error ends it.
func (x *exporter) copy(ctx context.Context, params *convo.SyncParams, saveEvery time.Duration, res *exportResult) {
	enc := json.NewEncoder(x.cw)
	enc.SetEscapeHTML(false)
	exported := deliveredConversations(x.cp)
	lastSave := time.Now()
	for s, err := range x.client.Sync(ctx, params) {
		if err != nil {
			var ce *convo.ConversationError
			switch {
			case ctx.Err() != nil:
			case errors.As(err, &ce):
				res.failed = append(res.failed, ce.ConversationID)
				x.clearLine()
				printErr(x.e, err.Error())
				continue
			default:
				res.fatal = err
			}
			return
		}
		if err := x.cutOutput(); err != nil {
			res.fatal, res.writeFailed = fmt.Errorf("write %s: %w", x.out, err), true
			return
		}
		// The checkpoint now covers every batch before this one, and the
		// file holds exactly their lines.
		if time.Since(lastSave) >= saveEvery {
			if err := x.save(); err != nil {
				res.fatal, res.writeFailed = fmt.Errorf("save checkpoint: %w", err), true
				return
			}
			lastSave = time.Now()
		}
		if err := writeBatch(enc, s, exported); err != nil {
			res.fatal, res.writeFailed = fmt.Errorf("write %s: %w", x.out, err), true
			return
		}
		res.messages.Add(int64(len(s.Messages)))
		res.updated += int64(len(s.Updated))
		if s.Done {
			res.conversations++
		}
	}
}

// abandon ends a run the sync refused before anything was written: the
// output is closed, and removed if this run created it. A resumed run's
// refusal means the checkpoint does not fit the command.
func (x *exporter) abandon(refusal error) error {
	x.file.Close()
	if x.created {
		os.Remove(x.out)
	}
	if x.resuming {
		return usagef("%v; the checkpoint %s does not fit this command: to start the export over, pass --restart", refusal, x.cpPath)
	}
	return refusal
}

// report says on stderr how the run ended, and how to go on when it did
// not complete, and returns the command's error.
func (x *exporter) report(ctx context.Context, res *exportResult, incremental bool) error {
	switch {
	case ctx.Err() != nil && res.fatal == nil:
		fmt.Fprintf(x.e.stderr, "convo: interrupted after %d conversations and %d messages; checkpoint saved to %s\n", x.cp.Conversations(), x.cp.Messages(), x.cpPath)
		sayResume(x.e, x.e.args)
		return errInterrupted
	case res.fatal != nil:
		msg := failureText(res.fatal)
		if !res.writeFailed {
			msg += fmt.Sprintf("; checkpoint saved to %s: run the same command again to continue", x.cpPath)
		}
		printErr(x.e, msg)
		return errReported
	case len(res.failed) > 0:
		fmt.Fprintf(x.e.stderr, "convo: %d conversations failed (%s); the others are exported; run the same command again to retry them\n", len(res.failed), strings.Join(res.failed, ", "))
		return errReported
	}
	if err := x.file.Close(); err != nil {
		return err
	}
	// The checkpoint stays, done: the next run appends what is new.
	if x.e.stderrTTY {
		if incremental {
			fmt.Fprintf(x.e.stderr, "convo: appended %d new or changed conversations, %d new messages and %d changed messages to %s\n", res.conversations, res.messages.Load(), res.updated, x.out)
		} else {
			fmt.Fprintf(x.e.stderr, "convo: exported %d conversations and %d messages to %s\n", x.cp.Conversations(), x.cp.Messages(), x.out)
		}
	}
	return nil
}

// writeBatch writes a batch: its conversation first when the batch starts
// it (an update when exported holds its id: a conversation the output has
// a line of), then its new messages, then its changed ones.
func writeBatch(enc *json.Encoder, s *convo.ConversationSync, exported map[string]bool) error {
	id := s.Conversation.ID
	if s.Start {
		kind := kindConversation
		if exported[id] {
			kind = kindConversationUpdate
		}
		if err := enc.Encode(record{Kind: kind, ConversationID: id, Conversation: s.Conversation}); err != nil {
			return err
		}
		exported[id] = true
	}
	for i := range s.Messages {
		if err := enc.Encode(record{Kind: kindMessage, ConversationID: id, Message: &s.Messages[i]}); err != nil {
			return err
		}
	}
	for i := range s.Updated {
		if err := enc.Encode(record{Kind: kindMessageUpdate, ConversationID: id, Message: &s.Updated[i]}); err != nil {
			return err
		}
	}
	return nil
}

// deliveredConversations returns the ids of the conversations a
// checkpoint has delivered completely: those whose lines an export that
// resumes from it holds. They are the entries of its JSON form's "known"
// list (a conversation under way is delivered again by a run that resumes
// it only if its line was not written).
func deliveredConversations(cp *convo.Checkpoint) map[string]bool {
	ids := map[string]bool{}
	b, err := json.Marshal(cp)
	if err != nil {
		return ids
	}
	var f struct {
		Known []struct {
			ID string `json:"id"`
		} `json:"known"`
		Pending []struct {
			Conversation struct {
				ID string `json:"id"`
			} `json:"conversation"`
			Delivered bool `json:"delivered"`
		} `json:"pending"`
	}
	if json.Unmarshal(b, &f) != nil {
		return ids
	}
	for _, k := range f.Known {
		ids[k.ID] = true
	}
	for _, p := range f.Pending {
		if p.Delivered {
			ids[p.Conversation.ID] = true
		}
	}
	return ids
}
