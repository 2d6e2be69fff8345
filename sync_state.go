package convo

import (
	"cmp"
	"encoding/json"
	"hash/fnv"
	"strconv"
	"time"
)

// ledger is the sync engine's hold on a Checkpoint. The Checkpoint is data
// (checkpoint.go: what it holds and its file format); its state machine is
// here: a run begins (full, resumed, incremental, refresh), a conversation
// is taken from the list, a batch is delivered, the list is walked, the
// run completes. Every transition takes the checkpoint's lock, so that
// Save and the accessors see a state between two transitions.
type ledger struct {
	cp   *Checkpoint
	spec *changeSpec
}

// syncPlan is where a run starts: a snapshot of its checkpoint.
type syncPlan struct {
	list     string
	listDone bool
	pending  []pendingConversation
	nextSeq  int64 // sequence number of the next conversation taken from the list
	run      runState
}

// runOptions is what a sync's params say about the run that begins.
type runOptions struct {
	provider    string
	startCursor string // the caller's list cursor: only for a new checkpoint
	lookback    time.Duration
	refresh     time.Duration // SyncParams.Refresh, 0 already made DefaultRefresh
	recheck     time.Duration // SyncParams.Recheck, 0 already made DefaultRecheck; < 0: none
	callerSince bool          // the caller filters the list with Since
	now         time.Time     // the client's clock
}

// refreshDue reports whether an incremental run that begins at now, whose
// checkpoint last refreshed at refreshed, re-reads the whole list: always
// where the list shows no activity (it is read whole anyway), never for a
// negative refresh.
func refreshDue(refreshed time.Time, refresh time.Duration, spec *changeSpec, now time.Time) bool {
	switch {
	case refresh < 0:
		return false
	case refresh == 0:
		refresh = DefaultRefresh
	}
	return spec.activity == nil || refreshed.IsZero() || now.Sub(refreshed) >= refresh
}

// recheckFrom is the start of the recheck window of a run that begins at
// now; zero for none.
func recheckFrom(now time.Time, recheck time.Duration) time.Time {
	if recheck < 0 {
		return time.Time{}
	}
	return now.Add(-recheck)
}

// begin binds a new checkpoint to the provider (starting the list at the
// caller's cursor), or checks that a used one belongs to it; a done one
// starts an incremental run, a refresh when one is due, whose window
// otherwise reaches lookback behind the watermark. It returns where the
// run starts.
func (l *ledger) begin(o runOptions) (syncPlan, error) {
	cp := l.cp
	cp.mu.Lock()
	defer cp.mu.Unlock()
	fresh := cp.provider == "" && cp.list == "" && len(cp.pending) == 0 && !cp.done && len(cp.states) == 0
	switch {
	case fresh:
		cp.provider, cp.list, cp.legacy = o.provider, o.startCursor, false
	case cp.provider != o.provider:
		return syncPlan{}, invalidParams("sync: the checkpoint was made for provider %q, not %q", cp.provider, o.provider)
	case o.startCursor != "":
		return syncPlan{}, invalidParams("sync: SyncParams.Conversations.Cursor must be empty when resuming a checkpoint")
	}
	switch {
	case cp.done:
		if cp.legacy {
			return syncPlan{}, invalidParams("sync: the checkpoint was saved in format version 1, which does not record what an incremental sync needs; start a full sync with a new Checkpoint")
		}
		cp.done, cp.list, cp.listDone, cp.nextSeq, cp.run = false, "", false, 0, l.incrementalRun(o)
	case cp.run.started.IsZero():
		// A new sync, or one an earlier release began: its clock starts now.
		cp.run.started, cp.run.recheck, cp.run.span = o.now, recheckFrom(o.now, o.recheck), o.recheck
	}
	plan := syncPlan{list: cp.list, listDone: cp.listDone, nextSeq: cp.nextSeq, run: cp.run}
	for _, p := range cp.pending {
		q := *p
		q.compare = l.compareSet(q.conv.ID, q.digests)
		plan.pending = append(plan.pending, q)
	}
	return plan, nil
}

// incrementalRun is the run a done checkpoint begins: a refresh when one
// is due, else a walk down to lookback behind the watermark. cp.mu is
// held.
func (l *ledger) incrementalRun(o runOptions) runState {
	cp := l.cp
	run := runState{incremental: true, started: o.now, recheck: recheckFrom(o.now, o.recheck), span: o.recheck}
	run.refresh = refreshDue(cp.refreshed, o.refresh, l.spec, o.now)
	// A window wider than the one the starting points were kept for (or
	// none was: an earlier format, or Recheck was off) rechecks from each
	// conversation's start, once.
	run.widened = run.refresh && o.recheck >= 0 && (cp.span <= 0 || o.recheck > cp.span)
	if !run.refresh && !cp.watermark.IsZero() && l.spec.byActivity {
		run.window = cp.watermark.Add(-o.lookback)
		run.since = l.spec.since && !o.callerSince
	}
	return run
}

// compareSet is what a pass compares the messages it re-reads with: the
// record digest of each message delivered inside the window, by id digest,
// from the conversation's state and then its pass's own deliveries. nil
// when there is none. cp.mu is held.
func (l *ledger) compareSet(id string, own []msgDigest) map[uint64]uint64 {
	var base []msgDigest
	if i, ok := l.cp.known[id]; ok {
		base = l.cp.states[i].digests
	}
	if len(base)+len(own) == 0 {
		return nil
	}
	m := make(map[uint64]uint64, len(base)+len(own))
	for _, d := range base {
		m[d.id] = d.record
	}
	for _, d := range own {
		m[d.id] = d.record
	}
	return m
}

// next returns the pass a listed conversation needs: nil when the
// checkpoint knows it, its record is the one last delivered, its activity
// and signals have not moved, and a refresh has nothing of it to recheck.
func (l *ledger) next(conv *Conversation) *pendingConversation {
	cp, spec := l.cp, l.spec
	cp.mu.Lock()
	defer cp.mu.Unlock()
	p := &pendingConversation{conv: conv}
	i, ok := cp.known[conv.ID]
	if !ok {
		return p // new: all its messages
	}
	s := &cp.states[i]
	changed := s.record != recordDigest(conv)
	moved := true // a provider that shows no activity: look at the newest messages
	if spec.activity != nil {
		at, _ := spec.activity(conv)
		moved = !at.Equal(s.activity) || signalsOf(conv, spec) != s.signals
	}
	run := &cp.run
	recheck := run.refresh && !run.recheck.IsZero() && s.newest.id != "" && !s.newest.at.Before(run.recheck)
	if !changed && !moved && !recheck {
		return nil
	}
	p.quiet = !changed
	p.newest = s.newest
	switch {
	case !moved && !recheck:
		p.noRead = true
	case spec.newestFirst:
		p.stop = s.newest
	case recheck: // from before the window, comparing through newest
		p.token, p.pos = s.anchor, s.newest
		if run.widened {
			p.token = "" // the kept start may lie inside this wider window
		}
	default:
		p.token, p.pos = s.token, s.newest
	}
	if recheck {
		p.recheck = true
		p.compare = l.compareSet(conv.ID, nil)
	}
	return p
}

func signalsOf(conv *Conversation, spec *changeSpec) string {
	if spec.signals == nil {
		return ""
	}
	var b []byte
	for i, v := range spec.signals(conv) {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, v, 10)
	}
	return string(b)
}

// started records that the conversation of p was taken from the list,
// which now resumes at listCursor, having shown activity up to watermark.
func (l *ledger) started(p pendingConversation, listCursor string, watermark time.Time) {
	cp := l.cp
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.list = listCursor
	cp.run.watermark = later(cp.run.watermark, watermark)
	p.compare = nil // the pass's own; the checkpoint keeps digests
	cp.pending = append(cp.pending, &p)
	cp.nextSeq = max(cp.nextSeq, p.seq+1)
}

// listed records that the run has walked its list, which showed activity
// up to watermark.
func (l *ledger) listed(watermark time.Time) {
	cp := l.cp
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.listDone = true
	cp.run.watermark = later(cp.run.watermark, watermark)
}

// commit records that the batch of ev has been delivered (or, silent,
// passed over: nothing in it for the caller): its messages, its changed
// messages' new digests, and where the conversation's messages continue.
// The batch that ends a pass turns the pass into the conversation's state.
func (l *ledger) commit(ev *syncEvent, silent bool) {
	cp, spec, s := l.cp, l.spec, ev.batch
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.messages += int64(len(s.Messages))
	cp.updated += int64(len(s.Updated))
	for i, p := range cp.pending {
		if p.seq != ev.seq {
			continue
		}
		if n := len(s.Messages); n > 0 {
			first, last := &s.Messages[0], &s.Messages[n-1]
			switch {
			case !spec.newestFirst:
				p.newest = msgMark{last.ID, last.SentAt}
			case p.pos.id == "": // the first messages of this pass: the newest
				p.newest = msgMark{first.ID, first.SentAt}
			}
			p.pos = msgMark{last.ID, last.SentAt}
		}
		if ev.cursor != "" {
			p.cursor = ev.cursor
		}
		if ev.page != "" {
			p.page = ev.page
		}
		if ev.anchorSet {
			p.anchor, p.anchorSet = ev.anchor, true
		}
		p.digests = appendDigests(p.digests, cp.run.recheck, s.Messages, s.Updated)
		p.delivered = p.delivered || (s.Start && !silent)
		if !s.Done {
			return
		}
		cp.pending = append(cp.pending[:i], cp.pending[i+1:]...)
		if !silent {
			cp.conversations++
		}
		l.settle(p)
		return
	}
}

// settle makes a finished pass the conversation's state. cp.mu is held.
func (l *ledger) settle(p *pendingConversation) {
	cp, spec := l.cp, l.spec
	st := convState{id: p.conv.ID, signals: signalsOf(p.conv, spec), newest: p.newest, record: recordDigest(p.conv)}
	if spec.activity != nil {
		st.activity, _ = spec.activity(p.conv)
	}
	j, ok := cp.known[st.id]
	var was convState
	if ok {
		was = cp.states[j]
	}
	if !spec.newestFirst {
		// Where the list continues after newest: this pass's, else the
		// state's (a pass that delivered no new message), else where the
		// pass began.
		st.token = cmp.Or(p.page, was.token)
		if st.token == "" && !p.recheck {
			st.token = p.token
		}
		st.anchor = was.anchor
		if p.anchorSet {
			st.anchor = p.anchor
		}
	}
	st.digests = mergeDigests(was.digests, p.digests, cp.run.recheck)
	if ok {
		cp.states[j] = st
		return
	}
	if cp.known == nil {
		cp.known = map[string]int{}
	}
	cp.known[st.id] = len(cp.states)
	cp.states = append(cp.states, st)
}

// finish marks the run complete when nothing is pending and the list was
// walked: the watermark moves to the newest activity the run saw and, for
// a refresh or a full sync, the time of the last refresh to the run's
// start; the digests of messages that left the recheck window go.
func (l *ledger) finish() {
	cp := l.cp
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if len(cp.pending) != 0 || !cp.listDone {
		return
	}
	cp.done = true
	cp.watermark = later(cp.watermark, cp.run.watermark)
	if !cp.run.incremental || cp.run.refresh && l.spec.activity != nil {
		// A provider that refreshes on every run (no activity) keeps the full
		// sync's time: a run that finds nothing leaves the checkpoint as it
		// was.
		cp.refreshed = later(cp.refreshed, cp.run.started)
		cp.span = cp.run.span
	}
	if cp.run.refresh || !cp.run.incremental {
		for i := range cp.states {
			cp.states[i].digests = mergeDigests(cp.states[i].digests, nil, cp.run.recheck)
		}
	}
	cp.run = runState{}
	cp.list, cp.listDone, cp.nextSeq = "", false, 0
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// recordDigest is the digest of a record: its JSON, hashed; never 0 (which
// stands for unknown).
func recordDigest(v any) uint64 {
	b, err := json.Marshal(v)
	if err != nil {
		return 1 // the models always marshal; a record that does not reads as changed
	}
	h := fnv.New64a()
	h.Write(b)
	return max(h.Sum64(), 1)
}

// messageDigest is what a checkpoint keeps of a delivered message.
func messageDigest(m *Message) msgDigest {
	d := msgDigest{id: hashID(m.ID), record: recordDigest(m)}
	if sec := m.SentAt.Unix(); !m.SentAt.IsZero() && sec > 0 && sec < 1<<32 {
		d.at = uint32(sec)
	}
	return d
}

// appendDigests appends the digests of the messages sent inside the
// window (from from on); none when there is no window.
func appendDigests(ds []msgDigest, from time.Time, lists ...[]Message) []msgDigest {
	if from.IsZero() {
		return ds
	}
	for _, msgs := range lists {
		for i := range msgs {
			if !msgs[i].SentAt.Before(from) {
				ds = append(ds, messageDigest(&msgs[i]))
			}
		}
	}
	return ds
}

// mergeDigests returns base with the digests of add replacing those of the
// same message, without those of messages sent before from (all of them
// when from is zero: no window).
func mergeDigests(base, add []msgDigest, from time.Time) []msgDigest {
	if from.IsZero() {
		return nil
	}
	floor := from.Unix()
	inWindow := func(d msgDigest) bool { return d.at != 0 && int64(d.at) >= floor }
	replaced := make(map[uint64]bool, len(add))
	for _, d := range add {
		replaced[d.id] = true
	}
	var out []msgDigest
	for _, d := range base {
		if !replaced[d.id] && inWindow(d) {
			out = append(out, d)
		}
	}
	seen := make(map[uint64]bool, len(add))
	for i := len(add) - 1; i >= 0; i-- { // the last digest of a message is its latest
		if d := add[i]; !seen[d.id] && inWindow(d) {
			seen[d.id] = true
			out = append(out, d)
		}
	}
	return out
}
