package convo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// syncNewestFirst lists the providers whose message pages run newest first
// (PROVIDERS.md); the others list oldest first.
var syncNewestFirst = map[string]bool{"vobiz": true, "rentalot": true}

// syncWant returns the dataset as a sync must deliver it: conversation ids
// in list order and each conversation's message ids in provider order.
func syncWant(p convo.Provider, d *convotest.Dataset) (order []string, msgs map[string][]string) {
	msgs = map[string][]string{}
	for _, c := range d.Conversations {
		id := c.Conversation.ID
		order = append(order, id)
		ids := []string{}
		for _, m := range c.Messages {
			ids = append(ids, m.ID)
		}
		if syncNewestFirst[p.Name()] {
			slices.Reverse(ids)
		}
		msgs[id] = ids
	}
	return order, msgs
}

// syncLog is what a consumer of a sync records, in delivery order.
type syncLog struct {
	entries []syncEntry
}

type syncEntry struct {
	conversation string
	message      string // "" for the conversation record itself
}

func (l *syncLog) messages() int {
	n := 0
	for _, e := range l.entries {
		if e.message != "" {
			n++
		}
	}
	return n
}

func (l *syncLog) add(s *convo.ConversationSync) {
	if s.Start {
		l.entries = append(l.entries, syncEntry{conversation: s.Conversation.ID})
	}
	for _, m := range s.Messages {
		l.entries = append(l.entries, syncEntry{conversation: s.Conversation.ID, message: m.ID})
	}
}

// check asserts that the log holds every conversation of the dataset
// exactly once, each before its messages, and every message exactly once,
// in provider order within its conversation.
func (l *syncLog) check(t *testing.T, p convo.Provider, d *convotest.Dataset) {
	t.Helper()
	order, want := syncWant(p, d)
	convs := map[string]int{}
	got := map[string][]string{}
	for _, e := range l.entries {
		if e.message == "" {
			convs[e.conversation]++
			continue
		}
		assert.Equal(t, 1, convs[e.conversation], "conversation %s is delivered before its message %s", e.conversation, e.message)
		got[e.conversation] = append(got[e.conversation], e.message)
	}
	for _, id := range order {
		assert.Equal(t, 1, convs[id], "conversation %s delivered exactly once", id)
		assert.Equal(t, want[id], got[id], "messages of %s: each exactly once, in provider order", id)
	}
	assert.Len(t, convs, len(order), "no conversation outside the dataset")
}

func syncServer(t *testing.T, p convo.Provider, opts ...convotest.Option) (*convotest.Server, *convo.Client) {
	t.Helper()
	srv := convotest.NewServer(p, opts...)
	t.Cleanup(srv.Close)
	client, err := srv.Client(convo.WithMaxRetries(0))
	require.NoError(t, err)
	return srv, client
}

func TestSyncDeliversEverythingInOrder(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			srv, client := syncServer(t, p, convotest.WithPageSize(10))
			cp := new(convo.Checkpoint)
			var log syncLog
			batches := map[string]int{}
			for s, err := range client.Sync(context.Background(), &convo.SyncParams{Concurrency: 3, Checkpoint: cp}) {
				require.NoError(t, err)
				require.NotNil(t, s.Conversation)
				assert.Equal(t, batches[s.Conversation.ID] == 0, s.Start, "Start marks the first batch of %s", s.Conversation.ID)
				assert.LessOrEqual(t, len(s.Messages), 10, "a batch is at most one page")
				batches[s.Conversation.ID]++
				if s.Done {
					batches[s.Conversation.ID] = -1000 // no batch may follow Done
				}
				log.add(s)
			}
			d := srv.Dataset()
			log.check(t, p, d)
			for id, n := range batches {
				assert.Negative(t, n, "conversation %s ended with a Done batch", id)
			}
			assert.True(t, cp.Done())
			assert.Empty(t, cp.Pending())
			assert.EqualValues(t, len(d.Conversations), cp.Conversations())
			assert.EqualValues(t, d.MessageCount(), cp.Messages())
		})
	}
}

func TestSyncLongHistoryComesInBatches(t *testing.T) {
	t.Parallel()
	d := convotest.NewDataset()
	var msgs []convo.Message
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 230 {
		msgs = append(msgs, convo.Message{ID: fmt.Sprintf("msg_%04d", i), Direction: convo.Inbound, Body: "hello", SentAt: base.Add(time.Duration(i) * time.Minute)})
	}
	d.AddConversation(convo.Conversation{ID: "conv_long", Channel: "sms", Status: "open", CreatedAt: base}, msgs...)
	d.AddConversation(convo.Conversation{ID: "conv_empty", Channel: "sms", Status: "open", CreatedAt: base})
	_, client := syncServer(t, convo.VantaxAI, convotest.WithData(d))

	var sizes []int
	var starts, dones int
	empty := 0
	for s, err := range client.Sync(context.Background(), &convo.SyncParams{MessagePageSize: 50}) {
		require.NoError(t, err)
		if s.Conversation.ID == "conv_empty" {
			empty++
			assert.True(t, s.Start && s.Done, "an empty conversation is one batch, Start and Done")
			assert.Empty(t, s.Messages)
			continue
		}
		sizes = append(sizes, len(s.Messages))
		if s.Start {
			starts++
		}
		if s.Done {
			dones++
		}
	}
	assert.Equal(t, []int{50, 50, 50, 50, 30}, sizes, "never more than a page held")
	assert.Equal(t, 1, starts)
	assert.Equal(t, 1, dones)
	assert.Equal(t, 1, empty)
}

// inFlightProxy forwards to target and records the highest number of
// requests it had in flight at once.
type inFlightProxy struct {
	*httptest.Server
	now, peak atomic.Int64
}

func newInFlightProxy(t *testing.T, target string) *inFlightProxy {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	u.Path = ""
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &inFlightProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := p.now.Add(1)
		defer p.now.Add(-1)
		for {
			peak := p.peak.Load()
			if n <= peak || p.peak.CompareAndSwap(peak, n) {
				break
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func TestSyncBoundedConcurrency(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ concurrency, bound int }{{1, 2}, {3, 4}, {0, convo.DefaultSyncConcurrency + 1}} {
		t.Run(strconv.Itoa(tt.concurrency), func(t *testing.T) {
			srv := convotest.NewServer(convo.AgentMessage, convotest.WithLatency(5*time.Millisecond))
			defer srv.Close()
			proxy := newInFlightProxy(t, srv.URL())
			u, _ := url.Parse(srv.URL())
			client, err := srv.Client(convo.WithBaseURL(proxy.URL + u.Path))
			require.NoError(t, err)

			n := 0
			for s, err := range client.Sync(context.Background(), &convo.SyncParams{Concurrency: tt.concurrency}) {
				require.NoError(t, err)
				if s.Done {
					n++
				}
			}
			assert.Equal(t, 40, n, "every conversation finished")
			peak := proxy.peak.Load()
			assert.LessOrEqual(t, peak, int64(tt.bound), "workers plus the list reader")
			want := tt.concurrency
			if want == 0 {
				want = convo.DefaultSyncConcurrency
			}
			assert.GreaterOrEqual(t, peak, int64(want), "conversations are fetched in parallel")
		})
	}
}

func TestSyncErrorIsolation(t *testing.T) {
	t.Parallel()
	d := convotest.DemoDataset(convo.Rentalot, convotest.DefaultSeed)
	bad := d.Conversations[3].Conversation.ID
	fault := convotest.Fault{Kind: convotest.FaultServerError, Path: "/conversations/" + bad + "/messages", Times: -1}

	t.Run("others go on", func(t *testing.T) {
		_, client := syncServer(t, convo.Rentalot, convotest.WithFaults(fault))
		cp := new(convo.Checkpoint)
		done := map[string]bool{}
		var errs []error
		for s, err := range client.Sync(context.Background(), &convo.SyncParams{Checkpoint: cp}) {
			if err != nil {
				errs = append(errs, err)
				require.NotNil(t, s, "a conversation's error comes with its batch")
				assert.Equal(t, bad, s.Conversation.ID)
				assert.Empty(t, s.Messages)
				continue
			}
			if s.Done {
				done[s.Conversation.ID] = true
			}
		}
		require.Len(t, errs, 1)
		var ce *convo.ConversationError
		require.ErrorAs(t, errs[0], &ce)
		assert.Equal(t, bad, ce.ConversationID)
		assert.ErrorIs(t, errs[0], convo.ErrServer)
		assert.Contains(t, errs[0].Error(), bad)
		assert.Len(t, done, len(d.Conversations)-1, "every other conversation finished")
		assert.False(t, done[bad])
		assert.False(t, cp.Done(), "a failed conversation keeps the checkpoint open")
		assert.Equal(t, []string{bad}, cp.Pending(), "resuming retries it")
	})
	t.Run("StopOnError", func(t *testing.T) {
		_, client := syncServer(t, convo.Rentalot, convotest.WithFaults(fault))
		done, afterErr, errCount := 0, 0, 0
		for s, err := range client.Sync(context.Background(), &convo.SyncParams{StopOnError: true, Concurrency: 1}) {
			if err != nil {
				errCount++
				continue
			}
			if errCount > 0 {
				afterErr++
			}
			if s.Done {
				done++
			}
		}
		assert.Equal(t, 1, errCount)
		assert.Zero(t, afterErr, "nothing is yielded after the error")
		assert.Equal(t, 3, done, "with one worker, the three conversations before it finished")
	})
}

func TestSyncInvalidParams(t *testing.T) {
	t.Parallel()
	srv, client := syncServer(t, convo.Vobiz)
	other := new(convo.Checkpoint)
	require.NoError(t, json.Unmarshal([]byte(`{"version":1,"provider":"rentalot"}`), other))
	tests := []struct {
		name string
		p    *convo.SyncParams
		want error
	}{
		{"negative concurrency", &convo.SyncParams{Concurrency: -1}, convo.ErrInvalidParams},
		{"message page size out of range", &convo.SyncParams{MessagePageSize: 1000}, convo.ErrInvalidParams},
		{"checkpoint of another provider", &convo.SyncParams{Checkpoint: other}, convo.ErrInvalidParams},
		{"unsupported filter", &convo.SyncParams{Conversations: convo.ConversationListParams{Status: "open"}}, convo.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetRequests()
			n := 0
			for s, err := range client.Sync(context.Background(), tt.p) {
				n++
				assert.Nil(t, s)
				assert.ErrorIs(t, err, tt.want)
			}
			assert.Equal(t, 1, n, "one error, then the end")
			assert.Empty(t, srv.Requests(), "nothing was sent")
		})
	}
}

func TestSyncCancelStopsEverything(t *testing.T) {
	// Alone in a process of its own: the goroutines counted are this test's only.
	if !convo.InOwnProcess(t) {
		return
	}
	ignore := goleak.IgnoreCurrent() // the goroutines this test did not start
	func() {
		srv := convotest.NewServer(convo.VantaxAI, convotest.WithLatency(10*time.Millisecond))
		defer srv.Close()
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		client, err := srv.Client(convo.WithHTTPClient(&http.Client{Transport: tr}))
		require.NoError(t, err)

		t.Run("cancel", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			batches, errs := 0, 0
			start := time.Now()
			for s, err := range client.Sync(ctx, &convo.SyncParams{Concurrency: 4}) {
				if err != nil {
					errs++
					assert.Nil(t, s)
					assert.ErrorIs(t, err, context.Canceled)
					continue
				}
				if batches++; batches == 5 {
					cancel()
				}
			}
			assert.Zero(t, syncGoroutines(), "the sync's goroutines are gone when the loop returns")
			assert.Equal(t, 1, errs, "the cancellation is reported once")
			assert.Equal(t, 5, batches, "nothing is delivered after the cancellation")
			assert.Less(t, time.Since(start), 10*time.Second)
		})
		t.Run("break", func(t *testing.T) {
			n := 0
			for _, err := range client.Sync(context.Background(), nil) {
				require.NoError(t, err)
				if n++; n == 3 {
					break
				}
			}
			assert.Zero(t, syncGoroutines(), "the sync's goroutines are gone when the loop returns")
			assert.Equal(t, 3, n)
		})
	}()
	// Every goroutine of the syncs (workers, list reader), the server's and
	// the connections' are gone: goleak retries for a bounded while, and
	// counts only goroutines started during the test.
	convo.VerifyNoGoroutineLeft(t, ignore)
}

// syncGoroutines counts the goroutines of a sync (list reader, workers)
// that are not on their way out.
func syncGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		exiting := strings.Contains(header, "[runnable") || strings.Contains(header, "[running")
		if !exiting && strings.Contains(g, "convo.(*syncRun)") && !strings.Contains(g, "convo.(*syncRun).run(") {
			count++
		}
	}
	return count
}

// TestSyncResumeExactlyOnce stops syncs midway in two ways and resumes them
// from the saved checkpoint until they complete, for every provider (all
// three paging styles), and checks that the union of what was delivered is
// the dataset, exactly once.
//
//   - "cancel": the context is cancelled after some messages; the consumer
//     saves the checkpoint after the loop, like the convo command on Ctrl-C.
//   - "crash": the consumer saves the checkpoint from inside the loop every
//     few batches, with the length of its output as meta, and stops dead
//     without a last save; on resume it drops the output written after the
//     checkpoint (the checkpoint may lag behind the output, never lead it).
func TestSyncResumeExactlyOnce(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		for _, mode := range []string{"cancel", "crash"} {
			t.Run(p.Name()+"/"+mode, func(t *testing.T) {
				t.Parallel()
				srv := convotest.NewServer(p, convotest.WithPageSize(7))
				defer srv.Close()
				// Small pages and repeated runs take about 100 requests, near
				// the fake Rentalot's 120 a minute: header pacing (tested in
				// ratelimit_test.go) would wait for its window to reset.
				client, err := srv.Client(convo.WithMaxRetries(0), convo.WithMaxPacingWait(0))
				require.NoError(t, err)
				path := filepath.Join(t.TempDir(), "sync.checkpoint")
				var log syncLog
				total := srv.Dataset().MessageCount()
				stopAt := []int{total / 5, total / 2, total * 4 / 5} // messages delivered in all

				runs := 0
				for run := 0; run < 10; run++ { // bounded: 3 interruptions, then completion
					runs++
					cp, err := convo.LoadCheckpoint(path)
					if run == 0 {
						require.Error(t, err)
						cp = new(convo.Checkpoint)
					} else {
						require.NoError(t, err)
						var meta struct{ Entries int }
						require.NoError(t, json.Unmarshal(cp.Meta(), &meta))
						require.LessOrEqual(t, meta.Entries, len(log.entries), "the checkpoint never covers more than was written")
						log.entries = log.entries[:meta.Entries]
					}
					if cp.Done() {
						break
					}
					save := func() {
						meta, _ := json.Marshal(struct{ Entries int }{len(log.entries)})
						require.NoError(t, cp.SetMeta(meta))
						require.NoError(t, cp.Save(path))
					}
					ctx, cancel := context.WithCancel(context.Background())
					limit := -1
					if run < len(stopAt) {
						limit = stopAt[run]
					}
					batches, crashed := 0, false
				loop:
					for s, err := range client.Sync(ctx, &convo.SyncParams{Concurrency: 3, MessagePageSize: 5, Checkpoint: cp}) {
						if err != nil {
							require.ErrorIs(t, err, context.Canceled)
							break
						}
						if batches++; mode == "crash" && batches%3 == 0 {
							save() // covers the batches before this one
						}
						log.add(s)
						if limit >= 0 && log.messages() >= limit {
							switch mode {
							case "cancel":
								cancel()
							case "crash":
								crashed = true
								break loop
							}
						}
					}
					cancel()
					if !crashed {
						save()
					}
				}
				assert.Equal(t, 5, runs, "three interrupted runs, the completing run, and one that finds it done")
				log.check(t, p, srv.Dataset())
			})
		}
	}
}

func TestSyncListErrorEndsTheSync(t *testing.T) {
	t.Parallel()
	fault := convotest.Fault{Kind: convotest.FaultServerError, Path: "/conversations", Nth: 2, Times: -1}
	_, client := syncServer(t, convo.AgentMessage, convotest.WithPageSize(10), convotest.WithFaults(fault))
	cp := new(convo.Checkpoint)
	var listErrs []error
	done := 0
	for s, err := range client.Sync(context.Background(), &convo.SyncParams{Checkpoint: cp}) {
		if err != nil {
			assert.Nil(t, s)
			listErrs = append(listErrs, err)
			continue
		}
		if s.Done {
			done++
		}
	}
	require.Len(t, listErrs, 1)
	assert.ErrorIs(t, listErrs[0], convo.ErrServer)
	assert.Equal(t, 10, done, "the conversations of the first page are finished")
	assert.False(t, cp.Done())
	assert.Empty(t, cp.Pending())
	assert.EqualValues(t, 10, cp.Conversations())
}

func TestSyncBreakAndCommit(t *testing.T) {
	t.Parallel()
	srv := exampleSyncServer()
	defer srv.Close()
	client, err := srv.Client()
	require.NoError(t, err)
	ctx := context.Background()
	firstIDs := func(cp *convo.Checkpoint, commit bool) (ids []string, kept *convo.ConversationSync) {
		for s, err := range client.Sync(ctx, &convo.SyncParams{Concurrency: 1, MessagePageSize: 2, Checkpoint: cp}) {
			require.NoError(t, err)
			for _, m := range s.Messages {
				ids = append(ids, m.ID)
			}
			if commit {
				s.Commit()
				s.Commit() // twice is once
			}
			return ids, s
		}
		return nil, nil
	}

	cp := new(convo.Checkpoint)
	ids, kept := firstIDs(cp, false)
	assert.Equal(t, []string{"msg_a1", "msg_a2"}, ids)
	assert.Zero(t, cp.Messages(), "a batch the body broke on is not delivered")
	kept.Commit()
	assert.Zero(t, cp.Messages(), "Commit outside the loop body does nothing")
	ids, _ = firstIDs(cp, false)
	assert.Equal(t, []string{"msg_a1", "msg_a2"}, ids, "it comes again")

	ids, _ = firstIDs(cp, true)
	assert.Equal(t, []string{"msg_a1", "msg_a2"}, ids)
	assert.EqualValues(t, 2, cp.Messages(), "Commit delivers the batch before the break")
	ids, _ = firstIDs(cp, false)
	assert.Equal(t, []string{"msg_a3"}, ids, "the next run continues after it")
}
