package mirror

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/convokit/convo"
	"github.com/convokit/convo/internal/cputime"
)

// BenchmarkWrite times the writer alone: 100,000 messages of 200
// conversations (the rows of BenchmarkSyncVsExport in cmd/convo), made
// ready to bind beforehand, written into a new SQLite file (WAL,
// synchronous=NORMAL, as the convo command opens it) in transactions of
// 5,000 rows with the sync state, as Sync writes them. It reports the process's CPU time (cpu-ms) beside the wall time.
func BenchmarkWrite(b *testing.B) {
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var batches []*convo.ConversationSync
	for c := range 200 {
		conv := &convo.Conversation{ID: fmt.Sprintf("Y29udl8%06d", c), ContactID: fmt.Sprintf("+1555%07d", c), LastMessageAt: start}
		for p := range 5 {
			s := &convo.ConversationSync{Conversation: conv, Start: p == 0}
			for i := p * 100; i < (p+1)*100; i++ {
				s.Messages = append(s.Messages, convo.Message{
					ID: fmt.Sprintf("msg_%06d_%03d", c, i), ConversationID: conv.ID, Direction: convo.Inbound,
					Body:   fmt.Sprintf("Hi, this is message %d of conversation %d: your appointment is confirmed for tomorrow at 10:30. Reply STOP to opt out.", i, c),
					SentAt: start.Add(time.Duration(c*500+i) * time.Minute), Channel: "sms", PhoneNumberID: "pn_bench",
					FromNumber: "+15550100", ToNumber: fmt.Sprintf("+1555%07d", c), SegmentCount: 1,
				})
			}
			batches = append(batches, s)
		}
	}
	// Conversations interleave as a concurrent sync delivers them.
	var order []*convo.ConversationSync
	for p := range 5 {
		for c := range 200 {
			order = append(order, batches[c*5+p])
		}
	}
	const flushRows = 5000
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		dbPath := filepath.Join(b.TempDir(), "w.db")
		db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
		if err != nil {
			b.Fatal(err)
		}
		m, err := Open(ctx, db, SQLite)
		if err != nil {
			b.Fatal(err)
		}
		conn, err := db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		r := &run{m: m, d: m.d, conn: conn, opts: Options{Name: "bench", FlushRows: 5000}, provider: "agentmessage"}
		var flushes []*flush
		f := &flush{}
		for _, s := range order {
			if s.Start {
				f.convs = append(f.convs, *s.Conversation)
			}
			f.msgs, err = r.messageRows(f.msgs, s)
			if err != nil {
				b.Fatal(err)
			}
			if len(f.msgs) >= flushRows {
				f.state = stateDelta{head: []byte(fmt.Sprintf(`{"flush":%d}`, len(flushes))), truncAt: -1}
				flushes, f = append(flushes, f), &flush{}
			}
		}
		cpu0 := cputime.Self()
		b.StartTimer()
		for _, f := range flushes {
			if err := r.write(ctx, f); err != nil {
				b.Fatal(err)
			}
		}
		r.closeStmts()
		conn.Close()
		db.Close()
		b.StopTimer()
		cpu += cputime.Since(cpu0)
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms")
}
