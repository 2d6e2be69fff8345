package convo_test

// Benchmarks of prefetching, and the check that the benchmarks against the
// hand-written loop (bench_providers_test.go, whose lists, server and
// hand-written loops every benchmark shares) compare equal work.
// scripts/bench.sh runs them and prints the ratios; BENCHMARKS.md records
// the figures.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// pairedTimer times rival implementations run one after the other within
// each iteration of a benchmark, so that all of them see the same machine
// load. It reports each one's mean ("<name>-ns/op") and fastest
// ("<name>-min-ns") time: on a shared machine other work only ever adds
// time, so the fastest of several runs is the steadiest estimate.
type pairedTimer struct {
	names []string
	total []time.Duration
	best  []time.Duration
}

func newPairedTimer(names ...string) *pairedTimer {
	return &pairedTimer{names: names, total: make([]time.Duration, len(names)), best: make([]time.Duration, len(names))}
}

// run runs the rivals once each, in an order that rotates with the
// iteration i, each after a collection so that none pays for another's
// garbage.
func (pt *pairedTimer) run(b *testing.B, i int, rivals ...func()) {
	for k := range rivals {
		j := (i + k) % len(rivals)
		b.StopTimer()
		runtime.GC()
		b.StartTimer()
		start := time.Now()
		rivals[j]()
		d := time.Since(start)
		pt.total[j] += d
		if pt.best[j] == 0 || d < pt.best[j] {
			pt.best[j] = d
		}
	}
}

// report reports the metrics and returns the fastest times, in ns.
func (pt *pairedTimer) report(b *testing.B) []float64 {
	best := make([]float64, len(pt.total))
	for k, d := range pt.total {
		best[k] = float64(pt.best[k].Nanoseconds())
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), pt.names[k]+"-ns/op")
		b.ReportMetric(best[k], pt.names[k]+"-min-ns")
	}
	return best
}

// Latency benchmarks: the server takes slowDelay to answer each page and the
// caller spends slowWork on each page it consumes.
const (
	slowPages = 20
	slowDelay = 5 * time.Millisecond
	slowWork  = 5 * time.Millisecond
)

var (
	slowOnce sync.Once
	slowSrv  *httptest.Server
)

// slowTransport is the transport of the latency benchmarks' clients.
var slowTransport = &http.Transport{MaxIdleConnsPerHost: 8, IdleConnTimeout: time.Minute}

// benchSlowServer serves slowPages pages of AgentMessage messages, the
// benchmarks' data as the fake renders it, each after slowDelay.
func benchSlowServer() *httptest.Server {
	slowOnce.Do(func() {
		lc := newListCase(convo.AgentMessage, "messages", slowPages*casePageSize)
		slowSrv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(slowDelay)
			lc.serve(w, r)
		}))
	})
	return slowSrv
}

// newSlowClient is a client of the slow server.
func newSlowClient(b *testing.B, opts ...convo.Option) *convo.Client {
	auth, _ := caseAuth(convo.AgentMessage)
	c, err := convo.NewClient(convo.AgentMessage, append([]convo.Option{convo.WithBaseURL(benchSlowServer().URL),
		convo.WithAuth(auth), convo.WithHTTPClient(&http.Client{Transport: slowTransport})}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// slowList iterates the slow server's messages, spending slowWork on each
// page, and checks that they arrive in order.
func slowList(b *testing.B, ctx context.Context, c *convo.Client) {
	n := 0
	for m, err := range c.Messages.List(ctx, caseConversation, &convo.MessageListParams{PageSize: casePageSize}).All() {
		if err != nil {
			b.Fatal(err)
		}
		if want := fmt.Sprintf("mess_%08d", n); m.ID != want {
			b.Fatalf("message %d is %s, want %s: order not kept", n, m.ID, want)
		}
		n++
		if n%casePageSize == 0 {
			time.Sleep(slowWork) // the caller's work on the page
		}
	}
	if n != slowPages*casePageSize {
		b.Fatalf("iterated %d messages, want %d", n, slowPages*casePageSize)
	}
}

func benchSlow(b *testing.B, prefetch int) {
	c := newSlowClient(b, convo.WithPrefetch(prefetch))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		slowList(b, ctx, c)
	}
}

// BenchmarkSDKPrefetchVsSequential runs the slow iteration with and without
// WithPrefetch(1) in every iteration and reports the ratio of their fastest
// times ("prefetch/seq"; the project's target is at most 0.60).
func BenchmarkSDKPrefetchVsSequential(b *testing.B) {
	seq := newSlowClient(b)
	pre := newSlowClient(b, convo.WithPrefetch(1))
	ctx := context.Background()
	pt := newPairedTimer("sequential", "prefetch1")
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		pt.run(b, i, func() { slowList(b, ctx, seq) }, func() { slowList(b, ctx, pre) })
	}
	best := pt.report(b)
	b.ReportMetric(best[1]/best[0], "prefetch/seq")
}

// BenchmarkSDKSlowSequential iterates 20 pages from a server that takes 5 ms
// per page while the caller spends 5 ms on each page, without prefetch.
func BenchmarkSDKSlowSequential(b *testing.B) { benchSlow(b, 0) }

// BenchmarkSDKSlowPrefetch1 is BenchmarkSDKSlowSequential with WithPrefetch(1).
func BenchmarkSDKSlowPrefetch1(b *testing.B) { benchSlow(b, 1) }

// TestSDKMatchesHandWrittenLoop checks that the benchmarks compare equal
// work: over the benchmarks' AgentMessage messages, the SDK yields the same
// messages, field for field, as the hand-written encoding/json loop.
func TestSDKMatchesHandWrittenLoop(t *testing.T) {
	t.Parallel()
	lc := newListCase(convo.AgentMessage, "messages", caseItems)
	srv := httptest.NewServer(http.HandlerFunc(lc.serve))
	defer srv.Close()
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	ctx := context.Background()

	var want []handMessage
	n, err := handAgent("messages", func(m *handMessage) { want = append(want, *m) })(ctx, &http.Client{Transport: transport}, srv.URL)
	require.NoError(t, err)
	require.Equal(t, caseItems, n)
	require.Len(t, want, caseItems)

	auth, _ := caseAuth(convo.AgentMessage)
	c, err := convo.NewClient(convo.AgentMessage, convo.WithBaseURL(srv.URL), convo.WithAuth(auth), convo.WithHTTPClient(&http.Client{Transport: transport}))
	require.NoError(t, err)
	i, redacted, media := 0, 0, 0
	for m, err := range c.Messages.List(ctx, caseConversation, &convo.MessageListParams{PageSize: casePageSize}).All() {
		require.NoError(t, err)
		require.Less(t, i, len(want))
		w := want[i]
		i++
		assert.Equal(t, w.ID, m.ID)
		assert.Equal(t, caseConversation, m.ConversationID)
		assert.Equal(t, convo.Direction(w.Direction), m.Direction)
		assert.Equal(t, w.PhoneNumberID, m.PhoneNumberID)
		assert.Equal(t, w.FromNumber, m.FromNumber)
		assert.Equal(t, w.ToNumber, m.ToNumber)
		if w.Body != nil {
			assert.Equal(t, *w.Body, m.Body)
		} else {
			assert.Empty(t, m.Body)
			redacted++
		}
		assert.Equal(t, w.MediaURLs, m.MediaURLs)
		media += len(m.MediaURLs)
		assert.Equal(t, w.Channel, m.Channel)
		assert.Equal(t, w.SegmentCount, m.SegmentCount)
		assert.True(t, w.CreatedAt.Equal(m.CreatedAt) && w.CreatedAt.Equal(m.SentAt), "created_at of %s", w.ID)
		if w.RedactedAt != nil {
			assert.True(t, w.RedactedAt.Equal(m.RedactedAt), "redacted_at of %s", w.ID)
		} else {
			assert.True(t, m.RedactedAt.IsZero(), "redacted_at of %s", w.ID)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	assert.Equal(t, len(want), i)
	assert.Positive(t, redacted, "the pages hold redacted messages")
	assert.Positive(t, media, "the pages hold media URLs")
}

// BenchmarkSyncRequests measures, per provider, the requests of a full
// sync of 20 conversations of 500 messages (a message every 4.8 hours:
// about 5 of each conversation inside the default recheck window of a
// day) beside the fewest the documented page-size maxima allow, and the
// requests of a refresh of the same account with nothing changed. It
// reports them as custom metrics, with the same full sync at the
// providers' default page sizes for comparison and each figure per 1,000
// messages:
//
//	go test -run '^$' -bench BenchmarkSyncRequests -benchtime 1x .
func BenchmarkSyncRequests(b *testing.B) {
	const convs, perConv = 20, 500
	// The page sizes a list takes when none is sent (PROVIDERS.md).
	defaults := map[string][2]int{"vobiz": {0, 50}, "vantaxai": {20, 50}, "rentalot": {20, 20}, "agentmessage": {50, 50}}
	for _, p := range convo.Providers() {
		b.Run(p.Name(), func(b *testing.B) {
			d := refreshData(p, convs, perConv, 100*24*time.Hour)
			srv := convotest.NewServer(p, convotest.WithData(d), convotest.WithRateLimit(-1))
			defer srv.Close()
			client, err := srv.Client()
			if err != nil {
				b.Fatal(err)
			}
			run := func(params *convo.SyncParams) int {
				srv.ResetRequests()
				for _, err := range client.Sync(context.Background(), params) {
					if err != nil {
						b.Fatal(err)
					}
				}
				return len(srv.Requests())
			}
			var full, refresh, atDefaults int
			b.ReportAllocs()
			for range b.N {
				cp := new(convo.Checkpoint)
				full = run(&convo.SyncParams{Checkpoint: cp})
				refresh = run(&convo.SyncParams{Checkpoint: cp, Refresh: time.Nanosecond})
				def := defaults[p.Name()]
				atDefaults = run(&convo.SyncParams{MessagePageSize: def[1], Conversations: convo.ConversationListParams{PageSize: def[0]}})
			}
			thousands := float64(convs*perConv) / 1000
			b.ReportMetric(float64(full), "full-requests")
			b.ReportMetric(float64(fullSyncMinimum(p, convs, perConv)), "minimum-requests")
			b.ReportMetric(float64(atDefaults), "default-size-requests")
			b.ReportMetric(float64(refresh), "refresh-requests")
			b.ReportMetric(float64(full)/thousands, "full-requests/1000msgs")
			b.ReportMetric(float64(refresh)/thousands, "refresh-requests/1000msgs")
		})
	}
}
