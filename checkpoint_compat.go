package convo

import (
	"errors"
	"fmt"
)

// checkpointVersion is the version of the checkpoint file format.
// Versions 1 (no per-conversation state) and 2 (no record digests, no
// refresh) still load; see Checkpoint.
const checkpointVersion = 3

// upgrade checks f's version and brings a file of an earlier format to
// the current form: a format 1 checkpoint with a position in a run is a
// legacy one; a format 2 one has no digests (every record reads as
// changed) and was never refreshed.
func (f *checkpointFile) upgrade() error {
	switch f.Version {
	case 1:
		// Format 1 has the fields of a run's position and nothing else: a
		// newer field in it is not format 1.
		if f.ListDone || f.Legacy || !f.Watermark.IsZero() || f.Run != nil || f.Known != nil || !f.Refreshed.IsZero() {
			return errors.New("convo: checkpoint: version 1 with fields of a later version")
		}
		f.Legacy = f.ListCursor != "" || len(f.Pending) > 0 || f.Done || f.Conversations > 0 || f.Messages > 0
	case 2, checkpointVersion:
	default:
		return fmt.Errorf("convo: checkpoint: unknown version %d (this release reads 1 to %d)", f.Version, checkpointVersion)
	}
	return nil
}
