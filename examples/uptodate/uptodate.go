// Package uptodate keeps a copy of every conversation and message in a
// store of your own (a CRM, an inbox view, an audit log) up to date: the
// first run copies everything, every later run only what is new or
// changed.
package uptodate

import (
	"context"
	"errors"
	"io/fs"

	"github.com/convokit/convo"
)

// Store is where the copy lives. It upserts by id, so a batch stored again
// (after a crash between storing it and saving the checkpoint) changes
// nothing.
type Store interface {
	UpsertConversation(c *convo.Conversation) error
	UpsertMessages(conversationID string, msgs []convo.Message) error
}

// Update brings store up to date and saves the sync's checkpoint at path.
// Run it from cron, a ticker or a queue: the first run is a full sync, each
// later one an incremental sync whose cost follows what changed.
func Update(ctx context.Context, client *convo.Client, store Store, path string) error {
	cp, err := convo.LoadCheckpoint(path)
	if errors.Is(err, fs.ErrNotExist) {
		cp = new(convo.Checkpoint) // first run: everything
	} else if err != nil {
		return err
	}
	var failed error
	for batch, err := range client.Sync(ctx, &convo.SyncParams{Checkpoint: cp}) {
		var convErr *convo.ConversationError
		switch {
		case errors.As(err, &convErr):
			failed = err // the others go on; the next run retries it
			continue
		case err != nil:
			return errors.Join(err, cp.Save(path)) // keep what was delivered
		}
		if batch.Start { // new, or changed since the last run: its current record
			if err := store.UpsertConversation(batch.Conversation); err != nil {
				return errors.Join(err, cp.Save(path)) // this batch comes again
			}
		}
		if err := store.UpsertMessages(batch.Conversation.ID, batch.Messages); err != nil {
			return errors.Join(err, cp.Save(path))
		}
		// Messages delivered before whose record changed since (a delivery
		// status, a body the retention window removed): their current one.
		if err := store.UpsertMessages(batch.Conversation.ID, batch.Updated); err != nil {
			return errors.Join(err, cp.Save(path))
		}
	}
	return errors.Join(failed, cp.Save(path))
}
