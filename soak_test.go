package convo_test

// Fault soak: thousands of messages in each paging style through a server
// that fails a large share of its requests in every way a network and a
// server can. Every item must arrive exactly once, in order.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

// hwFaultKinds are the failures the soak server injects.
var hwFaultKinds = []string{"500", "502", "503", "504", "429", "drop", "truncate", "truncate-chunked", "reset"}

// hwFaulty decides, from a seeded RNG, which requests fail and how. At most
// maxRun requests in a row fail, so that a client with enough retries must
// get through; the share of failed requests is still well above rate/2.
// It sits in front of convotest rather than using its random faults, which
// know no cut-off chunked body, no reset and no bound on a run of failures.
type hwFaulty struct {
	mu      sync.Mutex
	rng     *rand.Rand
	rate    float64
	maxRun  int
	run     int
	total   int
	faulted int
	byKind  map[string]int
}

func newHWFaulty(seed uint64, rate float64, maxRun int) *hwFaulty {
	return &hwFaulty{rng: rand.New(rand.NewPCG(seed, 0x50a4)), rate: rate, maxRun: maxRun, byKind: map[string]int{}}
}

func (f *hwFaulty) pick() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.total++
	if f.run >= f.maxRun || f.rng.Float64() >= f.rate {
		f.run = 0
		return ""
	}
	f.run++
	f.faulted++
	kind := hwFaultKinds[f.rng.IntN(len(hwFaultKinds))]
	f.byKind[kind]++
	return kind
}

func (f *hwFaulty) stats() (total, faulted int, byKind string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var kinds []string
	for _, k := range hwFaultKinds {
		if n := f.byKind[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%s:%d", k, n))
		}
	}
	return f.total, f.faulted, strings.Join(kinds, " ")
}

// answer answers with the fake's page, failing requests as decided by
// pick.
func (f *hwFaulty) answer(w http.ResponseWriter, r hwRequest) {
	status, body := r.honest()
	if status != http.StatusOK { // the client asked for something wrong: never hidden by a fault
		hwWrite(w, status, body)
		return
	}
	switch kind := f.pick(); kind {
	case "":
		hwWrite(w, http.StatusOK, body)
	case "429":
		w.Header().Set("Retry-After", "0")
		hwWrite(w, http.StatusTooManyRequests, []byte(`{"success":false,"error":{"code":"RATE_LIMITED","message":"slow down"}}`))
	case "500", "502", "503", "504":
		var code int
		fmt.Sscan(kind, &code)
		hwWrite(w, code, []byte(`{"success":false,"error":{"code":"INTERNAL","message":"try again"}}`))
	case "drop":
		hwHangUp(w, body)
	case "truncate":
		hwTruncate(w, body)
	case "truncate-chunked":
		hwTruncateChunked(w, body)
	case "reset":
		hwReset(w, body)
	}
}

// TestSoakFaultyServerEveryItemOnce iterates 3,000+ messages of convotest
// in each paging style (cursor: Vobiz and AgentMessage; starting_after:
// VantaxAI; page number: Rentalot) through a server in front of it failing
// about 40% of its requests (5xx, 429 with Retry-After: 0, dropped
// connections, bodies cut off or reset mid-stream), sequentially, with
// prefetch, and resuming from Cursor() every few hundred items. Every item
// arrives exactly once, in the order the fake lists them, with its content.
func TestSoakFaultyServerEveryItemOnce(t *testing.T) {
	t.Parallel()
	items := 3001 // 120 pages and a last item alone, or when not Thorough 40
	if !convo.Thorough() {
		items = 1001
	}
	const pageSize = 25
	modes := []struct {
		name     string
		prefetch int
		resumeAt int // break and resume from Cursor() every resumeAt items; 0 never
	}{
		{"sequential", 0, 0},
		{"prefetch", 3, 0},
		{"resumed", 2, 347},
	}
	for i, p := range convo.Providers() {
		for j, mode := range modes {
			t.Run(p.Name()+"/"+mode.name, func(t *testing.T) {
				t.Parallel()
				fake := hwFake(t, p, items)
				want := hwListed(t, fake)
				faults := newHWFaulty(uint64(100*i+j+1), 0.4, 5)
				c := hwServe(t, fake, faults.answer).client(t, convo.WithMaxRetries(10), convo.WithPrefetch(mode.prefetch))
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()

				start := time.Now()
				var got []string
				cursor := ""
				for round := 0; round < items; round++ { // bounded; ends far sooner
					pager := c.Messages.List(ctx, hwConv, &convo.MessageListParams{PageSize: pageSize, Cursor: cursor})
					n := 0
					for m, err := range pager.All() {
						require.NoError(t, err, "after %d items", len(got))
						require.Equal(t, hwConv, m.ConversationID)
						require.Equal(t, hwBody(m.ID), m.Body)
						got = append(got, m.ID)
						require.LessOrEqual(t, len(got), items, "more items than the server holds")
						if n++; n == mode.resumeAt {
							break
						}
					}
					if mode.resumeAt == 0 || n < mode.resumeAt {
						break
					}
					cursor = pager.Cursor()
				}
				elapsed := time.Since(start)

				assert.Equal(t, want, got, "every item exactly once, in order")
				total, faulted, kinds := faults.stats()
				t.Logf("%d items in %v: %d requests, %d failed (%.0f%%): %s",
					len(got), elapsed.Round(time.Millisecond), total, faulted, 100*float64(faulted)/float64(total), kinds)
				assert.GreaterOrEqual(t, float64(faulted)/float64(total), 0.30, "the soak must fail at least 30% of requests")
				assert.GreaterOrEqual(t, total, items/pageSize, "every page was fetched")
			})
		}
	}
}
