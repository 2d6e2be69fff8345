package main

import (
	"cmp"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/convokit/convo"
)

// span is a duration flag that also takes days ("30d") and, where allowed,
// "never". Unset, it is zero.
type span struct {
	d       time.Duration
	never   bool
	set     bool
	def     string // shown as the default
	neverOK bool   // "never" (or "off") is a value
}

func (s *span) String() string { return s.def }
func (s *span) Type() string   { return "duration" }

func (s *span) Set(v string) error {
	if s.neverOK && (v == "never" || v == "off") {
		s.d, s.never, s.set = 0, true, true
		return nil
	}
	d, err := parseSpan(v)
	if err != nil {
		return err
	}
	if d < 0 {
		if s.neverOK {
			return errors.New("must not be negative (\"never\" turns it off)")
		}
		return errors.New("must not be negative")
	}
	s.d, s.never, s.set = d, false, true
	return nil
}

// parseSpan reads a Go duration ("90m", "36h") or a whole number of days
// ("30d").
func parseSpan(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 32)
		if err != nil {
			return 0, errors.New("not a duration like 90m, 36h or 30d")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, errors.New("not a duration like 90m, 36h or 30d")
	}
	return d, nil
}

// changes are the flags that say how an incremental run looks for
// changes: --refresh and --recheck.
type changes struct {
	refresh, recheck span
}

func (c *changes) register(fs *pflag.FlagSet) {
	c.refresh = span{def: convo.DefaultRefresh.String(), neverOK: true}
	c.recheck = span{def: convo.DefaultRecheck.String(), neverOK: true}
	fs.Var(&c.refresh, "refresh", "re-read the whole conversation list, for changes no activity shows, when the last such run is older than this `duration` (0: every run; never: no refresh)")
	fs.Var(&c.recheck, "recheck", "a refresh also re-reads the messages sent within this `duration`, for changed records (0 or never: none)")
}

// apply sets the SyncParams of the flags given; an unset flag keeps the
// SDK's default.
func (c *changes) apply(p *convo.SyncParams) {
	switch {
	case !c.refresh.set:
	case c.refresh.never:
		p.Refresh = -1
	case c.refresh.d == 0:
		p.Refresh = time.Nanosecond // any refresh is older than that
	default:
		p.Refresh = c.refresh.d
	}
	switch {
	case !c.recheck.set:
	case c.recheck.never, c.recheck.d == 0:
		p.Recheck = -1
	default:
		p.Recheck = c.recheck.d
	}
}

// refreshNote says, for -v, that a sync given cp and p refreshes: it
// reads the whole conversation list again, and the messages of the
// recheck window; "" when it does not.
func refreshNote(cp *convo.Checkpoint, p *convo.SyncParams) string {
	if cp == nil || !cp.RefreshDue(p.Refresh) {
		return ""
	}
	last := "never before"
	if t := cp.Refreshed(); !t.IsZero() {
		last = "last at " + t.UTC().Format(time.RFC3339)
	}
	recheck := cmp.Or(p.Recheck, convo.DefaultRecheck)
	window := "and rechecks the messages sent within " + recheck.String()
	if recheck < 0 {
		window = "and rechecks no message (--recheck never)"
	}
	return "this run refreshes (" + last + "): it reads the whole conversation list again, " + window
}
