package convo

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// LoadCheckpoint reads a checkpoint saved by [Checkpoint.Save]. A missing
// file is an error matching [io/fs.ErrNotExist]: start a new sync with a zero
// Checkpoint then.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cp := new(Checkpoint)
	if err := json.Unmarshal(b, cp); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cp, nil
}

// Save writes the checkpoint to path atomically: to a temporary file in
// the same directory, synced to stable storage, then renamed over path (and
// the directory synced), so that path holds either the previous checkpoint
// or this one, never a partial file, whatever happens during the save.
func (cp *Checkpoint) Save(path string) error {
	b, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'), writeAll)
}

func writeAll(f *os.File, b []byte) error {
	_, err := f.Write(b)
	return err
}

// writeFileAtomic writes b to path through a synced temporary file and a
// rename. write is the step that writes the temporary file (a test can
// make it fail half-way).
func writeFileAtomic(path string, b []byte, write func(*os.File, []byte) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("convo: save checkpoint: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp, b); err != nil {
		return fmt.Errorf("convo: save checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("convo: save checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("convo: save checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("convo: save checkpoint: %w", err)
	}
	// Make the rename itself durable. Not every system can sync a
	// directory; the file is in place either way.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
