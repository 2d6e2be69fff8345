package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/convokit/convo"
)

// record is one line of an export.
type record struct {
	Kind           string              `json:"kind"` // "conversation" or "message"
	ConversationID string              `json:"conversation_id"`
	Conversation   *convo.Conversation `json:"conversation,omitempty"`
	Message        *convo.Message      `json:"message,omitempty"`
}

// exportMeta is what export keeps in the checkpoint beside the sync's
// position: which file it writes and how many bytes of it the checkpoint
// covers.
type exportMeta struct {
	Output string `json:"output"` // absolute path
	Offset int64  `json:"offset"`
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
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
	var c common
	var f filters
	var out, cpPath string
	var concurrency, pageSize int
	var saveEvery time.Duration
	cmd := &cobra.Command{
		Use:   "export --out FILE.jsonl",
		Short: "Export every conversation and its messages as JSON lines, resumably",
		Long: `Export every conversation and its messages as JSON lines, resumably.

Each line is a conversation or a message, tagged with its kind and
conversation id; a conversation's line comes before its messages.
Ctrl-C (SIGINT) or SIGTERM saves the checkpoint and exits with status 130;
running the same command again continues where it stopped.`,
		Args: positional(0, 0, ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case out == "":
				return usagef("export needs --out FILE (see 'convo export --help')")
			case concurrency < 1:
				return usagef("--concurrency must be at least 1")
			case saveEvery <= 0:
				return usagef("--save-every must be positive")
			}
			if cpPath == "" {
				cpPath = out + ".checkpoint"
			}
			params, err := f.params(0)
			if err != nil {
				return err
			}
			client, release, err := c.client(e)
			if err != nil {
				return err
			}
			defer release()

			ex := &exporter{e: e, client: client, out: out, cpPath: cpPath}
			if err := ex.open(); err != nil {
				return err
			}
			defer ex.file.Close()
			return ex.run(cmd.Context(), &convo.SyncParams{
				Conversations:   params,
				MessagePageSize: pageSize,
				Concurrency:     concurrency,
				Checkpoint:      ex.cp,
			}, saveEvery)
		},
	}
	fs := cmd.Flags()
	c.register(fs, e)
	f.register(fs)
	fs.StringVar(&out, "out", "", "the JSON lines `file` to write (required)")
	fs.StringVar(&cpPath, "checkpoint", "", "checkpoint `file` to resume from and keep up to date (default OUT.checkpoint)")
	fs.IntVar(&concurrency, "concurrency", convo.DefaultSyncConcurrency, "conversations fetched at once")
	fs.IntVar(&pageSize, "page-size", 0, "messages per request (0: the provider's default)")
	fs.DurationVar(&saveEvery, "save-every", time.Second, "how often the checkpoint is saved while exporting")
	return cmd
}

// exporter is one run of export.
type exporter struct {
	e        *env
	client   *convo.Client
	out      string
	cpPath   string
	cp       *convo.Checkpoint
	resuming bool
	meta     exportMeta
	file     *os.File
	buf      *bufio.Writer
	cw       *countingWriter
}

// open loads the checkpoint, if any, and opens the output file: truncated
// to the size the checkpoint covers when resuming, emptied otherwise.
func (x *exporter) open() error {
	abs, err := filepath.Abs(x.out)
	if err != nil {
		return err
	}
	cp, err := convo.LoadCheckpoint(x.cpPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		cp = new(convo.Checkpoint)
	case err != nil:
		return fmt.Errorf("cannot resume: %w", err)
	default:
		x.resuming = true
		if p := cp.Provider(); p != x.client.Provider().Name() {
			return usagef("checkpoint %s was made for provider %s, not %s", x.cpPath, p, x.client.Provider().Name())
		}
		if err := json.Unmarshal(cp.Meta(), &x.meta); err != nil || x.meta.Output == "" {
			return usagef("checkpoint %s was not written by convo export", x.cpPath)
		}
		if x.meta.Output != abs {
			return usagef("checkpoint %s belongs to the output %s, not %s", x.cpPath, x.meta.Output, abs)
		}
	}
	x.cp = cp
	x.meta.Output = abs
	x.file, err = os.OpenFile(x.out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	size := int64(0)
	if x.resuming {
		st, err := x.file.Stat()
		if err != nil {
			x.file.Close()
			return err
		}
		if st.Size() < x.meta.Offset {
			x.file.Close()
			return fmt.Errorf("cannot resume: %s has %d bytes, fewer than the %d its checkpoint %s covers (was it changed?)", x.out, st.Size(), x.meta.Offset, x.cpPath)
		}
		size = x.meta.Offset
	}
	if err := x.file.Truncate(size); err != nil {
		x.file.Close()
		return err
	}
	x.buf = bufio.NewWriterSize(x.file, 256<<10)
	x.cw = &countingWriter{w: x.buf}
	return nil
}

// save makes the lines written so far durable, then saves the checkpoint
// that covers exactly them.
func (x *exporter) save() error {
	if err := x.buf.Flush(); err != nil {
		return err
	}
	if err := x.file.Sync(); err != nil {
		return err
	}
	m := x.meta
	m.Offset += x.cw.n
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := x.cp.SetMeta(b); err != nil {
		return err
	}
	return x.cp.Save(x.cpPath)
}

func (x *exporter) run(ctx context.Context, params *convo.SyncParams, saveEvery time.Duration) error {
	if x.cp.Done() { // a finished export whose checkpoint was kept
		return os.Remove(x.cpPath)
	}
	var messages atomic.Int64
	stopProgress := x.progress(ctx, params, &messages)

	enc := json.NewEncoder(x.cw)
	enc.SetEscapeHTML(false)
	var failed []string
	var fatal error
	writeFailed := false
	lastSave := time.Now()
	for s, err := range x.client.Sync(ctx, params) {
		if err != nil {
			var ce *convo.ConversationError
			switch {
			case ctx.Err() != nil:
			case errors.As(err, &ce):
				failed = append(failed, ce.ConversationID)
				x.clearLine()
				printErr(x.e, err.Error())
				continue
			default:
				fatal = err
			}
			break
		}
		// The checkpoint now covers every batch before this one, and the
		// file holds exactly their lines.
		if time.Since(lastSave) >= saveEvery {
			if err := x.save(); err != nil {
				fatal, writeFailed = fmt.Errorf("save checkpoint: %w", err), true
				break
			}
			lastSave = time.Now()
		}
		if err := writeBatch(enc, s); err != nil {
			fatal, writeFailed = fmt.Errorf("write %s: %w", x.out, err), true
			break
		}
		messages.Add(int64(len(s.Messages)))
	}
	stopProgress()

	usage := errors.Is(fatal, convo.ErrInvalidParams) || errors.Is(fatal, convo.ErrUnsupported)
	if usage && x.cw.n == 0 && !x.resuming { // refused before anything was exported
		x.file.Close()
		os.Remove(x.out)
		return fatal
	}
	if !writeFailed {
		if err := x.save(); err != nil {
			fatal = fmt.Errorf("save checkpoint: %w", err)
		}
	}
	switch {
	case ctx.Err() != nil && fatal == nil:
		fmt.Fprintf(x.e.stderr, "convo: interrupted after %d conversations and %d messages; checkpoint saved to %s\n", x.cp.Conversations(), x.cp.Messages(), x.cpPath)
		fmt.Fprintf(x.e.stderr, "convo: to resume, run the same command again:\n  %s\n", shellQuote(x.e.args))
		return errInterrupted
	case fatal != nil:
		printErr(x.e, fatal.Error())
		if !writeFailed {
			fmt.Fprintf(x.e.stderr, "convo: checkpoint saved to %s; run the same command again to continue\n", x.cpPath)
		}
		return errReported
	case len(failed) > 0:
		fmt.Fprintf(x.e.stderr, "convo: %d conversations failed (%s); the others are exported; run the same command again to retry them\n", len(failed), strings.Join(failed, ", "))
		return errReported
	}
	if err := x.file.Close(); err != nil {
		return err
	}
	if err := os.Remove(x.cpPath); err != nil {
		return err
	}
	if x.e.stderrTTY {
		fmt.Fprintf(x.e.stderr, "convo: exported %d conversations and %d messages to %s\n", x.cp.Conversations(), x.cp.Messages(), x.out)
	}
	return nil
}

// writeBatch writes a batch: its conversation first when the batch starts
// it, then its messages.
func writeBatch(enc *json.Encoder, s *convo.ConversationSync) error {
	id := s.Conversation.ID
	if s.Start {
		if err := enc.Encode(record{Kind: "conversation", ConversationID: id, Conversation: s.Conversation}); err != nil {
			return err
		}
	}
	for i := range s.Messages {
		if err := enc.Encode(record{Kind: "message", ConversationID: id, Message: &s.Messages[i]}); err != nil {
			return err
		}
	}
	return nil
}

// progress shows, on a terminal stderr only, the conversations done (of
// the total when the provider reports one), the messages, the rate and the
// elapsed time, redrawn a few times a second. It returns the function that
// stops it.
func (x *exporter) progress(ctx context.Context, params *convo.SyncParams, messages *atomic.Int64) func() {
	if !x.e.stderrTTY {
		return func() {}
	}
	start := time.Now()
	total := -1
	if !x.cp.Done() {
		// One request for the total, which the first page reports
		// (VantaxAI, Rentalot); the export itself does not need it.
		lp := params.Conversations
		next, stop := iter.Pull2(x.client.Conversations.List(ctx, &lp).Pages())
		if page, err, ok := next(); ok && err == nil && page.TotalKnown {
			total = page.Total
		}
		stop()
	}
	draw := func() {
		done := x.cp.Conversations()
		convs := fmt.Sprintf("%d conversations", done)
		if total >= 0 {
			convs = fmt.Sprintf("%d/%d conversations", done, total)
		}
		elapsed := time.Since(start)
		n := messages.Load()
		rate := float64(n) / max(elapsed.Seconds(), 0.001)
		fmt.Fprintf(x.e.stderr, "\r\x1b[K%s, %d messages, %.0f msg/s, %s", convs, x.cp.Messages(), rate, elapsed.Truncate(time.Second))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				draw()
			case <-stop:
				draw()
				fmt.Fprintln(x.e.stderr)
				return
			}
		}
	}()
	return func() {
		close(stop)
		wg.Wait()
	}
}

// clearLine erases the progress line before another message on a terminal.
func (x *exporter) clearLine() {
	if x.e.stderrTTY {
		fmt.Fprint(x.e.stderr, "\r\x1b[K")
	}
}

// shellQuote renders args as a command line to paste into a POSIX shell.
func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if i == 0 {
			a = filepath.Base(a)
		}
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%+,") == "" {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
