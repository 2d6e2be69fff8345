package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/convokit/convo"
)

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

// mismatch says how the checkpoint cp differs from this command, or "" when
// it fits. It reads cp's export metadata into x.meta.
func (x *exporter) mismatch(cp *convo.Checkpoint, abs string) string {
	if p, want := cp.Provider(), x.client.Provider().Name(); p != "" && p != want {
		return fmt.Sprintf("it was made for provider %s, not %s", p, want)
	}
	if err := json.Unmarshal(cp.Meta(), &x.meta); err != nil || x.meta.Output == "" {
		return "it was not written by convo export"
	}
	if x.meta.Output != abs {
		return fmt.Sprintf("it belongs to the output %s, not %s", x.meta.Output, abs)
	}
	if diff := filterDiff(x.meta.Filters, x.filters); diff != "" {
		return "it was made " + diff
	}
	st, err := os.Stat(x.out)
	switch {
	case err != nil:
		return fmt.Sprintf("%s, which it covers up to byte %d, cannot be read (%v)", x.out, x.meta.Offset, err)
	case st.Size() < x.meta.Offset:
		return fmt.Sprintf("%s has %d bytes, fewer than the %d it covers (was the file changed?)", x.out, st.Size(), x.meta.Offset)
	}
	return ""
}

// filterDiff describes how the filters a checkpoint was made with differ
// from the ones given now, or returns "".
func filterDiff(then, now map[string]string) string {
	names := map[string]bool{}
	for k := range then {
		names[k] = true
	}
	for k := range now {
		names[k] = true
	}
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(names)) {
		a, b := then[k], now[k]
		switch {
		case a == b:
		case a == "":
			diffs = append(diffs, fmt.Sprintf("without --%s, which is now %q", k, b))
		case b == "":
			diffs = append(diffs, fmt.Sprintf("with --%s %q, which is now not given", k, a))
		default:
			diffs = append(diffs, fmt.Sprintf("with --%s %q, not %q", k, a, b))
		}
	}
	return strings.Join(diffs, ", ")
}

// checkWritable reports whether a checkpoint can be saved at path: saving
// writes a temporary file beside it and renames it over path.
func checkWritable(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return errors.New("it is a directory")
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".probe-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot create a file in %s: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// checkOutput refuses an --out that is a directory or cannot be
// written.
func checkOutput(out string) error {
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		return usagef("--out %s is not a regular file; give a file path", out)
	}
	if err := checkWritable(out); err != nil {
		return usagef("--out %s cannot be written: %v", out, err)
	}
	return nil
}

// checkOverwrite refuses to overwrite path unless it is missing, empty or
// an export (its first line is an export record), so that a mistyped
// --out never destroys another file.
func checkOverwrite(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return usagef("--out %s cannot be read: %v", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return usagef("--out %s: %v", path, err)
	}
	if !st.Mode().IsRegular() {
		return usagef("--out %s is not a regular file; give a file path", path)
	}
	if st.Size() == 0 {
		return nil
	}
	line, _ := bufio.NewReaderSize(io.LimitReader(f, 1<<20), 64<<10).ReadSlice('\n')
	var r record
	if json.Unmarshal(line, &r) == nil && isKind(r.Kind) && r.ConversationID != "" {
		return nil
	}
	return usagef("--out %s exists and is not a convo export; refusing to overwrite it (pass --force to overwrite it, or choose another --out)", path)
}

// open checks that the checkpoint can be written, loads it if there is
// one and it fits this command, and opens the output file: truncated to the
// size the checkpoint covers when resuming, emptied otherwise. Nothing is
// sent before it returns; every refusal is a usage error that says how to
// go on.
func (x *exporter) open() error {
	abs, err := filepath.Abs(x.out)
	if err != nil {
		return usagef("--out %s: %v", x.out, err)
	}
	// The output first: with the default --checkpoint beside it, a
	// directory that refuses both is the output's problem.
	if err := checkOutput(x.out); err != nil {
		return err
	}
	if err := checkWritable(x.cpPath); err != nil {
		return usagef("--checkpoint %s cannot be written: %v", x.cpPath, err)
	}
	const startOver = "to start the export over, pass --restart"
	cp, err := convo.LoadCheckpoint(x.cpPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		cp = new(convo.Checkpoint)
	case err != nil && x.restart:
		cp = new(convo.Checkpoint)
	case err != nil:
		return usagef("checkpoint %s cannot be read (%v); %s", x.cpPath, err, startOver)
	default:
		if why := x.mismatch(cp, abs); why != "" && !x.restart {
			return usagef("checkpoint %s does not fit this command: %s; %s, or give another --checkpoint", x.cpPath, why, startOver)
		} else if why == "" && !x.restart {
			x.resuming = true
		} else {
			// Restarting: the old checkpoint's own output is this export's.
			var old exportMeta
			x.ownOutput = json.Unmarshal(cp.Meta(), &old) == nil && old.Output == abs
			cp = new(convo.Checkpoint)
		}
	}
	x.cp = cp
	x.meta.Output = abs
	x.meta.Filters = x.filters
	if !x.resuming && !x.force && !x.ownOutput {
		if err := checkOverwrite(x.out); err != nil {
			return err
		}
	}
	_, statErr := os.Stat(x.out)
	x.created = errors.Is(statErr, fs.ErrNotExist)
	x.file, err = os.OpenFile(x.out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return usagef("--out %s cannot be written: %v", x.out, err)
	}
	// The file is cut to its new start when the first line is written (or
	// the export ends): an export refused at its first step leaves it as
	// it was.
	x.start = 0
	if x.resuming {
		x.start = x.meta.Offset
	}
	x.buf = bufio.NewWriterSize(x.file, 256<<10)
	x.cw = &countingWriter{w: x.buf}
	return nil
}

// cutOutput cuts the output file to where this run starts writing, once:
// nothing when starting afresh, the size the checkpoint covers when
// resuming (dropping lines a crash left after it).
func (x *exporter) cutOutput() error {
	if !x.cut {
		x.cut = true
		x.cutErr = x.file.Truncate(x.start)
	}
	return x.cutErr
}

// save makes the lines written so far durable, then saves the checkpoint
// that covers exactly them.
func (x *exporter) save() error {
	if err := x.cutOutput(); err != nil {
		return err
	}
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
