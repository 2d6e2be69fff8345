package convo_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// exampleSyncServer serves two small VantaxAI conversations.
func exampleSyncServer() *convotest.Server {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	msg := func(id, body string, i int) convo.Message {
		return convo.Message{ID: id, Direction: convo.Inbound, Body: body, SentAt: t0.Add(time.Duration(i) * time.Minute)}
	}
	d := convotest.NewDataset().
		AddConversation(convo.Conversation{ID: "conv_a", Channel: "sms", Status: "open", CreatedAt: t0},
			msg("msg_a1", "Hi", 1), msg("msg_a2", "Is the plumber coming today?", 2), msg("msg_a3", "Thanks!", 3)).
		AddConversation(convo.Conversation{ID: "conv_b", Channel: "email", Status: "closed", CreatedAt: t0},
			msg("msg_b1", "Invoice attached", 4))
	return convotest.NewServer(convo.VantaxAI, convotest.WithData(d))
}

// exampleClient returns a client of the fake srv, which needs no
// credentials.
func exampleClient(srv *convotest.Server) *convo.Client {
	client, err := srv.Client()
	if err != nil {
		log.Fatal(err)
	}
	return client
}

// Sync walks every conversation and its messages, a few conversations at a
// time, in batches of at most one page.
func ExampleClient_Sync() {
	srv := exampleSyncServer()
	defer srv.Close()
	client := exampleClient(srv)

	ctx := context.Background()
	// Concurrency 1 keeps this example's output in a fixed order; by
	// default four conversations are fetched at once and their batches
	// interleave.
	params := &convo.SyncParams{Concurrency: 1, MessagePageSize: 2}
	for batch, err := range client.Sync(ctx, params) {
		if err != nil {
			log.Print(err) // one conversation failed (a *convo.ConversationError), or the list did
			continue
		}
		if batch.Start {
			fmt.Println("conversation", batch.Conversation.ID, batch.Conversation.Channel)
		}
		for _, m := range batch.Messages {
			fmt.Println("  ", m.ID, m.Body)
		}
		if batch.Done {
			fmt.Println("  (done)")
		}
	}
	// Output:
	// conversation conv_a sms
	//    msg_a1 Hi
	//    msg_a2 Is the plumber coming today?
	//    msg_a3 Thanks!
	//   (done)
	// conversation conv_b email
	//    msg_b1 Invoice attached
	//   (done)
}

// A sync with a checkpoint can stop at any point and continue later, in
// another process, with no message lost or delivered twice.
func ExampleCheckpoint() {
	srv := exampleSyncServer()
	defer srv.Close()
	client := exampleClient(srv)
	dir, err := os.MkdirTemp("", "convo-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "sync.checkpoint")
	ctx := context.Background()

	// The first run stops after its first batch. A batch counts as
	// delivered once the loop body has finished with it; Commit says so
	// before a break.
	cp := new(convo.Checkpoint)
	params := &convo.SyncParams{Concurrency: 1, MessagePageSize: 2, Checkpoint: cp}
	for batch, err := range client.Sync(ctx, params) {
		if err != nil {
			log.Fatal(err)
		}
		for _, m := range batch.Messages {
			fmt.Println("run 1:", m.ID)
		}
		batch.Commit()
		break
	}
	if err := cp.Save(path); err != nil {
		log.Fatal(err)
	}

	// Later: load the checkpoint and run the same sync again.
	cp, err = convo.LoadCheckpoint(path)
	if err != nil {
		log.Fatal(err)
	}
	params.Checkpoint = cp
	for batch, err := range client.Sync(ctx, params) {
		if err != nil {
			log.Fatal(err)
		}
		for _, m := range batch.Messages {
			fmt.Println("run 2:", m.ID)
		}
	}
	fmt.Println("done:", cp.Done(), "messages:", cp.Messages())
	// Output:
	// run 1: msg_a1
	// run 1: msg_a2
	// run 2: msg_a3
	// run 2: msg_b1
	// done: true messages: 4
}

// A finished checkpoint passed again runs an incremental sync: only the
// conversations with new activity come, each with its current record and
// only its new messages. With nothing new it yields nothing, for one list
// request.
func ExampleClient_Sync_incremental() {
	srv := exampleSyncServer()
	defer srv.Close()
	client := exampleClient(srv)
	ctx := context.Background()
	cp := new(convo.Checkpoint)
	run := func(name string) {
		for batch, err := range client.Sync(ctx, &convo.SyncParams{Concurrency: 1, Checkpoint: cp}) {
			if err != nil {
				log.Fatal(err)
			}
			for _, m := range batch.Messages {
				fmt.Println(name+":", batch.Conversation.ID, m.ID, m.Body)
			}
		}
		fmt.Println(name, "done:", cp.Done())
	}
	run("full")

	// A new message arrives in conv_b.
	t := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if err := srv.AddMessages("conv_b", convo.Message{ID: "msg_b2", Direction: convo.Inbound, Body: "Paid, thanks", SentAt: t}); err != nil {
		log.Fatal(err)
	}
	run("incremental")

	srv.ResetRequests()
	run("nothing new")
	fmt.Println("requests:", len(srv.Requests()))
	// Output:
	// full: conv_a msg_a1 Hi
	// full: conv_a msg_a2 Is the plumber coming today?
	// full: conv_a msg_a3 Thanks!
	// full: conv_b msg_b1 Invoice attached
	// full done: true
	// incremental: conv_b msg_b2 Paid, thanks
	// incremental done: true
	// nothing new done: true
	// requests: 1
}

// A copy kept true: after a full sync, a conversation is tagged and a
// message is read without any new message. An incremental sync that
// refreshes (Refresh: here at once; by default hourly) delivers the
// conversation's current record with Start and the message's current
// record in Updated; the next one delivers nothing.
func ExampleClient_Sync_refresh() {
	recent := time.Now().UTC().Add(-time.Hour).Truncate(time.Second) // inside the recheck window
	d := convotest.NewDataset().
		AddConversation(convo.Conversation{ID: "conv_a", Channel: "sms", Status: "open", CreatedAt: recent},
			convo.Message{ID: "msg_1", Direction: convo.Outbound, Body: "Your technician is on the way", Status: "delivered", SentAt: recent}).
		AddConversation(convo.Conversation{ID: "conv_b", Channel: "email", Status: "open", CreatedAt: recent},
			convo.Message{ID: "msg_2", Direction: convo.Inbound, Body: "Thanks", Status: "received", SentAt: recent.Add(-time.Minute)})
	srv := convotest.NewServer(convo.VantaxAI, convotest.WithData(d))
	defer srv.Close()
	client := exampleClient(srv)
	ctx := context.Background()
	cp := new(convo.Checkpoint)
	sync := func(refresh time.Duration) {
		// Concurrency 1: the output in list order.
		for batch, err := range client.Sync(ctx, &convo.SyncParams{Checkpoint: cp, Refresh: refresh, Concurrency: 1}) {
			if err != nil {
				log.Fatal(err)
			}
			if batch.Start {
				fmt.Println("conversation", batch.Conversation.ID, batch.Conversation.Tags)
			}
			for _, m := range batch.Messages {
				fmt.Println("  new", m.ID, m.Status)
			}
			for _, m := range batch.Updated {
				fmt.Println("  changed", m.ID, m.Status)
			}
		}
	}
	sync(0) // the full sync
	srv.ChangeConversation("conv_b", func(c *convo.Conversation) { c.Tags = []string{"vip"} })
	srv.ChangeMessage("conv_a", "msg_1", func(m *convo.Message) { m.Status = "read" })
	fmt.Println("-- refresh")
	sync(time.Nanosecond) // the last refresh is older than that: this one refreshes
	fmt.Println("-- refresh, nothing changed")
	sync(time.Nanosecond)
	// Output:
	// conversation conv_a []
	//   new msg_1 delivered
	// conversation conv_b []
	//   new msg_2 received
	// -- refresh
	// conversation conv_a []
	//   changed msg_1 read
	// conversation conv_b [vip]
	// -- refresh, nothing changed
}
