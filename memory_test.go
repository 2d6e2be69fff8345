package convo_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

// appendGeneratedPage appends page number page (0-based) of a message list of
// pages pages of size messages, in AgentMessage's envelope. It is cheap
// enough for a server to generate hundreds of thousands of messages on the
// fly, so that nothing but the client under test holds them.
func appendGeneratedPage(b []byte, page, pages, size int) []byte {
	b = append(b, `{"success":true,"data":[`...)
	for i := range size {
		n := page*size + i
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":"msg_`...)
		b = strconv.AppendInt(b, int64(n), 10)
		if n%2 == 0 {
			b = append(b, `","direction":"inbound","phone_number_id":"pn_7Hq2KxVbN3","from_number":"+14155550199","to_number":"+14155550100",`...)
		} else {
			b = append(b, `","direction":"outbound","phone_number_id":"pn_7Hq2KxVbN3","from_number":"+14155550100","to_number":"+14155550199",`...)
		}
		if n%20 == 7 {
			b = append(b, `"body":null,"media_urls":[],"channel":"sms","segment_count":1,"created_at":"2026-04-10T03:11:42Z","redacted_at":"2026-07-09T03:11:42Z"}`...)
			continue
		}
		b = append(b, `"body":"Message `...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, `: is the apartment on 5th street still available?\nWe can visit on Thursday — \"after 6pm\".","media_urls":[],"channel":"sms","segment_count":2,"created_at":"2026-04-10T03:11:42Z","redacted_at":null}`...)
	}
	b = append(b, `],"meta":{"total":0,"limit":`...)
	b = strconv.AppendInt(b, int64(size), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, int64(page*size), 10)
	b = append(b, `,"next_cursor":`...)
	if page+1 < pages {
		b = append(b, `"c`...)
		b = strconv.AppendInt(b, int64(page+1), 10)
		b = append(b, '"')
	} else {
		b = append(b, "null"...)
	}
	return append(b, "}}"...)
}

// appendProviderPage appends page number page (0-based) of a message list
// of pages pages of size messages in provider p's envelope; AgentMessage's
// is appendGeneratedPage.
func appendProviderPage(b []byte, p convo.Provider, page, pages, size int) []byte {
	if p == convo.AgentMessage {
		return appendGeneratedPage(b, page, pages, size)
	}
	switch p {
	case convo.Vobiz:
		b = append(b, `{"items":[`...)
	case convo.VantaxAI:
		b = append(b, `{"success":true,"data":[`...)
	case convo.Rentalot:
		b = append(b, `{"data":[`...)
	}
	if page >= pages {
		size = 0 // Rentalot's empty page after the last
	}
	for i := range size {
		n := page*size + i
		if i > 0 {
			b = append(b, ',')
		}
		dir := []string{"inbound", "outbound"}[n%2]
		switch p {
		case convo.Vobiz:
			b = fmt.Appendf(b, `{"id":"msg_%d","account_id":"MA_XXXXXXXX","channel_id":"2f8892e1-59b7-40a2-b518-e7a7c31a754d","contact_id":"9b8a7c6d","direction":%q,"type":"text","status":"read","content":"{\"body\":\"Message %d: is the apartment still available?\"}","meta_message_id":"wamid.HBgL%d","created_at":"2026-04-10T03:11:42Z"}`, n, dir, n, n)
		case convo.VantaxAI:
			b = fmt.Appendf(b, `{"id":"msg_%d","conversation_id":"conv","channel":"sms","direction":%q,"content":"Message %d: is the apartment still available?","subject":null,"sender_type":"contact","media_url":[],"status":"delivered","created_at":"2026-04-10T03:11:42Z"}`, n, dir, n)
		case convo.Rentalot:
			b = fmt.Appendf(b, `{"id":"msg_%d","conversationId":"conv","direction":%q,"content":"Message %d: is the apartment still available?","channel":"whatsapp","metadata":null,"sentAt":"2026-04-10T03:11:42Z","createdAt":"2026-04-10T03:11:42Z"}`, n, dir, n)
		}
	}
	more := page+1 < pages
	switch p {
	case convo.Vobiz:
		b = fmt.Appendf(b, `],"has_more":%t,"next_cursor":"c%d"}`, more, page+1)
	case convo.VantaxAI:
		b = fmt.Appendf(b, `],"pagination":{"total":%d,"limit":%d,"has_more":%t}}`, pages*size, size, more)
	case convo.Rentalot:
		b = fmt.Appendf(b, `],"pagination":{"page":%d,"limit":%d}}`, page+1, size)
	}
	return b
}

// generatedPageIndex reads the 0-based page a request asks for, in any of
// the three paging styles.
func generatedPageIndex(rawQuery string, size int) (int, bool) {
	for _, kv := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "cursor":
			n, err := strconv.Atoi(strings.TrimPrefix(v, "c"))
			return n, err == nil
		case "page":
			n, err := strconv.Atoi(v)
			return n - 1, err == nil
		case "starting_after":
			n, err := strconv.Atoi(strings.TrimPrefix(v, "msg_"))
			return n/size + 1, err == nil
		}
	}
	return 0, true
}

// generatingServer serves /conversations/pages-<N>/messages: N pages of
// size messages in provider p's envelope, generated for each request.
func generatingServer(t *testing.T, p convo.Provider, size int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/conversations/pages-")
		rest, ok2 := strings.CutSuffix(rest, "/messages")
		pages, err := strconv.Atoi(rest)
		page, okPage := generatedPageIndex(r.URL.RawQuery, size)
		if !ok || !ok2 || err != nil || !okPage || page < 0 || page > pages || r.URL.Query().Get("limit") != strconv.Itoa(size) {
			http.Error(w, `{"success":false,"error":{"code":"NOT_FOUND","message":"no such page"}}`, http.StatusNotFound)
			return
		}
		body := appendProviderPage(make([]byte, 0, 256*size), p, page, pages, size)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// heapProfile is what one iteration did to the heap, in bytes above the
// live heap before it started.
type heapProfile struct {
	items    int
	peakLive int64 // largest live heap, sampled after a forced collection
	peakUsed int64 // largest HeapInuse, sampled without forcing a collection
}

// iterateMeasuring iterates every message of a list of pages pages and
// samples the heap along the way.
func iterateMeasuring(t *testing.T, c *convo.Client, pages, size int) heapProfile {
	t.Helper()
	const (
		usedEvery = 1_000  // items between two HeapInuse samples
		liveEvery = 10_000 // items between two forced collections
	)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	baseLive, baseUsed := int64(ms.HeapAlloc), int64(ms.HeapInuse)

	var hp heapProfile
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id := "pages-" + strconv.Itoa(pages)
	for m, err := range c.Messages.List(ctx, id, &convo.MessageListParams{PageSize: size}).All() {
		if err != nil {
			require.NoError(t, err)
		}
		if want := "msg_" + strconv.Itoa(hp.items); m.ID != want {
			require.Equal(t, want, m.ID, "messages arrive in order, none skipped")
		}
		hp.items++
		if hp.items%usedEvery == 0 {
			runtime.ReadMemStats(&ms)
			hp.peakUsed = max(hp.peakUsed, int64(ms.HeapInuse)-baseUsed)
		}
		if hp.items%liveEvery == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			hp.peakLive = max(hp.peakLive, int64(ms.HeapAlloc)-baseLive)
		}
	}
	return hp
}

// TestStreamingMemoryBound iterates 200,000 messages of every provider and
// checks that the heap stays bounded, and no higher than for 20,000: All
// streams page by page and keeps nothing of the pages it has yielded.
func TestStreamingMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 220,000 messages; runs without -short")
	}
	// Each provider alone in a process of its own: the heap is the
	// process's, and this test need not hold up the others.
	t.Parallel()
	const (
		size  = 100
		limit = 16 << 20 // bytes above the heap before the iteration
		slack = 4 << 20  // how much more 200,000 messages may use than 20,000
	)
	smallRun, largeRun := 200, 2_000 // pages: 20,000 and 200,000 messages
	if convo.RaceEnabled {
		// The race detector makes each message ten times as slow: a tenth
		// of the messages still runs the streaming code under it, and the
		// full run is CI's step without it (.ci/run).
		smallRun, largeRun = 20, 200
	}
	// The bound holds for the default collector setting, whatever GOGC says.
	defer debug.SetGCPercent(debug.SetGCPercent(100))

	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			if !convo.InOwnProcess(t) {
				return
			}
			srv := generatingServer(t, p, size)
			auth := convo.Bearer("memory-token")
			if p == convo.Vobiz {
				auth = convo.XAuth("MA_MEMORY", "memory-token")
			}
			c, err := convo.NewClient(p,
				convo.WithBaseURL(srv.URL),
				convo.WithAuth(auth),
				convo.WithHTTPClient(&http.Client{Transport: &http.Transport{}}),
			)
			require.NoError(t, err)

			small := iterateMeasuring(t, c, smallRun, size)
			large := iterateMeasuring(t, c, largeRun, size)
			t.Logf("%d messages: peak live %d KiB, peak in use %d KiB above the start", smallRun*size, small.peakLive>>10, small.peakUsed>>10)
			t.Logf("%d messages: peak live %d KiB, peak in use %d KiB above the start", largeRun*size, large.peakLive>>10, large.peakUsed>>10)

			require.Equal(t, smallRun*size, small.items)
			require.Equal(t, largeRun*size, large.items)
			// The live heap never holds more than a few pages, however long the list.
			assert.Less(t, large.peakLive, int64(limit), "live heap while streaming %d messages", largeRun*size)
			assert.Less(t, large.peakUsed, int64(limit), "heap in use while streaming %d messages", largeRun*size)
			// Ten times the messages, about the same heap.
			assert.Less(t, large.peakLive-small.peakLive, int64(slack), "live heap grows with the number of messages")
			assert.Less(t, large.peakUsed-small.peakUsed, int64(slack), "heap in use grows with the number of messages")
		})
	}
}
