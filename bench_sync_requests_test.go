package convo_test

import (
	"context"
	"testing"
	"time"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

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
