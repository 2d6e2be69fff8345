// Package convo is a typed client for the conversation read APIs of Vobiz
// (WhatsApp), VantaxAI, Rentalot and AgentMessage.
//
// One [Client] speaks to one provider. Its services list conversations,
// fetch one conversation, list the messages of a conversation and search
// messages, each where the provider documents the operation. Every list is a
// [Pager], which hides the provider's pagination style (opaque cursor,
// starting_after, or page numbers) behind one range-over-func iterator and
// hands out a resume token ([Pager.Cursor]) that continues exactly after the
// last item yielded.
//
//	client, err := convo.NewClient(convo.Vobiz,
//		convo.WithAuth(convo.XAuth("MA_XXXXXXXX", token)))
//	if err != nil {
//		return err
//	}
//	pager := client.Messages.List(ctx, conversationID, &convo.MessageListParams{PageSize: 100})
//	for msg, err := range pager.All() {
//		if err != nil {
//			return err // *convo.APIError, a transport error, or ctx.Err()
//		}
//		fmt.Println(msg.SentAt, msg.Direction, msg.Body)
//	}
//
// Errors from the server are [*APIError] values; [errors.Is] matches them to
// the sentinels [ErrNotFound], [ErrRateLimited] and the others by status
// class. Parameters the provider does not document, or values outside its
// documented ranges, are rejected before any request is sent with errors
// wrapping [ErrUnsupported] or [ErrInvalidParams].
//
// [Client.Sync] walks every conversation and the messages of each with
// bounded concurrency, for syncing history into another store; a
// [Checkpoint] lets a sync that died continue without losing or repeating a
// message, and a finished one run again incrementally: new conversations
// and messages, conversations whose record changed, and (a refresh's
// recheck) messages whose record changed, each delivered once. The client
// paces itself on the rate-limit headers a provider
// sends, and [WithRateLimit] adds a client-side limit.
//
// Two packages go with this one:
//
//   - [github.com/convokit/convo/convotest] (in this module) is an
//     in-process fake of the four APIs, with demo data, data of your own
//     that can change while it serves, and fault injection, for testing
//     code built on convo: convotest.New(t, convo.Rentalot).
//   - [github.com/convokit/convo/mirror] (a module of its own, so that the
//     SDK brings no database driver) keeps a SQLite or PostgreSQL copy of
//     every conversation and message up to date through database/sql,
//     exactly once; the convo command's "convo sync" runs it.
//
// A Client is safe for concurrent use by multiple goroutines. It never
// writes to stderr and logs only through the [slog.Logger] given to
// [WithLogger]; no credential appears in any error, log line or formatted
// value.
package convo
