package mirror

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// Rows delivered before the network stalls are written within
// FlushInterval, not when the next batch arrives: here the next answer
// is held until the test has seen the rows in the database (or for 10 s,
// longer than the test looks: rows that wait for the next batch are never
// seen).
func TestFlushIntervalWhileTheNetworkWaits(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		gate := make(chan struct{})
		var once sync.Once
		open := func() { once.Do(func() { close(gate) }) }
		defer open()
		_, client, db, m := mirrorOf(t, b, convo.VantaxAI, convotest.WithRequestHook(func(r convotest.Request) {
			if r.N >= 3 { // the conversation list and the first message page pass
				select {
				case <-gate:
				case <-time.After(10 * time.Second):
				}
			}
		}))
		done := make(chan error, 1)
		start := time.Now()
		go func() {
			_, err := m.Sync(ctxT(t), client, &Options{FlushInterval: 200 * time.Millisecond,
				Params: convo.SyncParams{Concurrency: 1, MessagePageSize: 5}})
			done <- err
		}()
		var seen time.Duration
		for i := 0; i < 160 && seen == 0; i++ { // 8 s at most
			time.Sleep(50 * time.Millisecond)
			if count(t, db, "messages") > 0 {
				seen = time.Since(start)
			}
		}
		open()
		require.NoError(t, <-done)
		require.NotZero(t, seen, "no row written within 8 s while the network waited")
		t.Logf("first rows in the database %s after the sync started", seen)
	})
}
