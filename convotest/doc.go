// Package convotest is an in-process fake of the four conversation APIs
// that convo speaks (Vobiz, VantaxAI, Rentalot, AgentMessage), for tests
// and examples that must not touch the network.
//
// [NewServer] starts a loopback HTTP server that speaks one provider's
// documented wire format exactly: its paths under the provider's base path,
// envelopes, field names and casing, paging style and termination, error
// envelopes and authentication scheme, and Rentalot's X-RateLimit-* headers.
// It serves a deterministic demo dataset ([DemoDataset]) or data of your own
// ([WithData], built from convo's model types with [NewDataset]).
// [Server.Client] is a client of the server with its demo credentials;
// [DemoEnv] gives them in the provider's credential environment variables,
// for a program under test that reads them with
// [convo.Provider.AuthFromEnv].
//
// The fake is strict like the real APIs: an unknown query parameter, a
// limit outside the documented range, a missing required parameter, a bad
// page token or a wrong credential gets the provider's documented status
// and error envelope; an unknown conversation is a 404.
//
// Options inject trouble for testing retries and resumption: scripted
// faults ([WithFaults]: 429 with Retry-After, 5xx, any other status such as
// 403, 404, 402 or 422 in the provider's documented envelope, a dropped
// connection, a body cut off mid-stream), random faults under a seed
// ([WithFaultRate]), latency ([WithLatency], which ends with the request's
// context) and a page-size cap ([WithPageSize]). [WithHandler] answers one
// path with a handler of your own. [WithRateLimit] changes (or turns off)
// the limit Rentalot's rate-limit headers report, so that a client pacing
// to them runs many requests at full speed.
// [Server.Requests] records what the server received, with credentials
// redacted.
//
// The data can change while the server runs, from the test, between or
// during requests, safely from any goroutine: [Server.AddMessages] appends
// messages (moving the conversation's activity fields and, where the
// provider lists by activity, its place in the list), [Server.AddConversation]
// adds one, [Server.UpdateConversation] changes a record in place,
// [Server.RemoveMessages] deletes messages as a retention window would, and
// [Server.ExpireCursors] makes the page cursors handed out so far invalid.
// Records also change in place, with exactly the wire effects the provider
// documents: [Server.ChangeConversation] (a status, tags, an unread count,
// consent; Rentalot moves updatedAt, no other provider an activity field),
// [Server.ChangeMessage] (a delivery status; [Server.UpdateConversation]
// and [Server.UpdateMessage] replace a whole record, with the same
// effects) and [Server.RedactMessage]
// (AgentMessage's retention window: body null, redacted_at set, media
// removed, and the conversation's preview "[redacted]" when it was the
// newest message).
// [WithRequestHook] runs a function as each request arrives, to change the
// data in the middle of a client's walk. This is how to test code that keeps
// a copy up to date (see [convo.Client.Sync]).
//
//	srv := convotest.New(t, convo.Rentalot) // closed when the test ends
//	client, err := srv.Client()             // base URL and demo credentials set
//	if err != nil {
//		t.Fatal(err)
//	}
//	for conv, err := range client.Conversations.List(ctx, nil).All() {
//		// ...
//	}
package convotest
