package convo

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPagerLongCursorCycleStalls: a server cycling over more pages than
// the pager remembers exactly is still caught, within a few times the
// cycle's length.
func TestPagerLongCursorCycleStalls(t *testing.T) {
	t.Parallel()
	const cycle = 3 * progressWindow
	var requests atomic.Int64
	// In memory, not on a loopback server: the pages are many, the
	// transport is not what is tested.
	ft := &fakeTransport{script: func(_ int, req *http.Request) (*http.Response, error) {
		requests.Add(1)
		n, _ := strconv.Atoi(strings.TrimPrefix(req.URL.Query().Get("cursor"), "c"))
		body := fmt.Sprintf(`{"success":true,"data":[{"id":"m%d"}],"meta":{"next_cursor":"c%d"}}`, n, (n+1)%cycle)
		return fakeResponse(req, 200, strings.NewReader(body)), nil
	}}
	c, err := NewClient(AgentMessage, WithoutAuth(), WithBaseURL("https://api.example.test/v1"), WithHTTPClient(&http.Client{Transport: ft}))
	require.NoError(t, err)
	for _, e := range c.Messages.List(context.Background(), "c1", nil).All() {
		if e != nil {
			err = e
			break
		}
		require.Less(t, requests.Load(), int64(10*cycle), "the iteration must stop")
	}
	assert.ErrorIs(t, err, ErrPaginationStalled)
	assert.LessOrEqual(t, requests.Load(), int64(4*cycle))
}

// TestPagerBookkeepingBounded: the pager's own memory does not grow with
// the number of pages it has walked: the live heap after thousands of
// pages is about what it was after the first hundreds.
func TestPagerBookkeepingBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("walks 20000 pages")
	}
	// Alone in a process of its own: the heap counted are this test's only.
	if !InOwnProcess(t) {
		return
	}
	ft := &fakeTransport{script: func(n int, req *http.Request) (*http.Response, error) {
		// Each attempt's deadline starts a goroutine in net/http that exits
		// once the attempt is over. On a loaded machine hundreds of them can
		// wait to be scheduled, and the runtime keeps every goroutine's
		// record it ever made (about 400 B each, in the live heap): up to
		// half a megabyte that is not the pager's. Let them finish first.
		for i := 0; i < 100 && runtime.NumGoroutine() > 16; i++ {
			runtime.Gosched()
		}
		body := fmt.Sprintf(`{"success":true,"data":[{"id":"m%07d"}],"meta":{"next_cursor":"cursor-%07d-%s"}}`, n, n+1, strings.Repeat("x", 40))
		return fakeResponse(req, 200, strings.NewReader(body)), nil
	}}
	c, err := NewClient(AgentMessage, WithoutAuth(), WithBaseURL("https://api.example.test/v1"), WithHTTPClient(&http.Client{Transport: ft}))
	require.NoError(t, err)
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	// A set of every page's token and first item, as kept before, grows by
	// more than 1 MiB over these 18000 pages; the measurement's own noise
	// is below 200 KiB.
	var early, late uint64
	n := 0
	for _, err := range c.Messages.List(context.Background(), "c1", nil).All() {
		require.NoError(t, err)
		switch n++; n {
		case 2000:
			early = heap()
		case 20000:
			late = heap()
		}
		if n == 20000 {
			break
		}
	}
	growth := int64(late) - int64(early)
	t.Logf("live heap after 2000 pages %d B, after 20000 pages %d B", early, late)
	assert.Less(t, growth, int64(400<<10), "18000 more pages grew the live heap by %d bytes", growth)
}
