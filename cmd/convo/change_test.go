package main

import (
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

// --refresh and --recheck map to SyncParams: unset keeps the SDK's
// default, 0 refreshes every run (and rechecks nothing), never turns each
// off, days are days.
func TestChangeFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args             []string
		refresh, recheck time.Duration
	}{
		{nil, 0, 0},
		{[]string{"--refresh", "15m", "--recheck", "36h"}, 15 * time.Minute, 36 * time.Hour},
		{[]string{"--refresh", "0", "--recheck", "0"}, time.Nanosecond, -1},
		{[]string{"--refresh", "never", "--recheck", "never"}, -1, -1},
		{[]string{"--refresh", "off", "--recheck", "2d"}, -1, 48 * time.Hour},
	}
	for _, tt := range tests {
		var c changes
		fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
		c.register(fs)
		require.NoError(t, fs.Parse(tt.args))
		var p convo.SyncParams
		c.apply(&p)
		assert.Equal(t, tt.refresh, p.Refresh, "%v", tt.args)
		assert.Equal(t, tt.recheck, p.Recheck, "%v", tt.args)
	}
	// The help shows the SDK's defaults.
	var c changes
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	c.register(fs)
	assert.Equal(t, convo.DefaultRefresh.String(), fs.Lookup("refresh").DefValue)
	assert.Equal(t, convo.DefaultRecheck.String(), fs.Lookup("recheck").DefValue)
}

func TestParseSpan(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "0d": 0, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute, "0": 0} {
		got, err := parseSpan(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "d", "1.5d", "30 days", "soon"} {
		_, err := parseSpan(in)
		assert.Error(t, err, in)
	}
}

// The help of export and sync shows the change flags with their defaults.
func TestCLIHelpShowsChangeFlags(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"export", "sync"} {
		r := convoRun(t, nil, cmd, "--help")
		require.Equal(t, 0, r.code)
		assert.Regexp(t, `--refresh duration +re-read the whole conversation list.*\(default 1h0m0s\)`, r.stdout, cmd)
		assert.Regexp(t, `--recheck duration +a refresh also re-reads.*\(default 24h0m0s\)`, r.stdout, cmd)
	}
	r := convoRun(t, nil, "sync", "--help")
	assert.Regexp(t, `--retention duration +remove from the mirror the bodies of messages`, r.stdout)
	assert.NotContains(t, r.stdout, "(default 0)", "retention is off by default, and says so without a default")
}
