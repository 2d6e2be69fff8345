package main

import (
	"github.com/spf13/pflag"

	"github.com/convokit/convo"
)

// syncFlags are the flags of the two commands that run a sync, export and
// sync: the API's, the filters, the sync's pace and how it looks for
// changes.
type syncFlags struct {
	common
	filters     filters
	changes     changes
	concurrency int
	pageSize    int
}

func (s *syncFlags) register(fs *pflag.FlagSet, e *env) {
	s.common.register(fs, e)
	s.filters.register(fs)
	fs.IntVar(&s.concurrency, "concurrency", convo.DefaultSyncConcurrency, "conversations fetched at once")
	fs.IntVar(&s.pageSize, "page-size", 0, "messages per request (0: the largest the provider documents)")
	s.changes.register(fs)
}

// start reads the filters, then makes the client (see common.client),
// and returns the sync's params as the flags give them, the client and
// the function that releases it.
func (s *syncFlags) start(e *env) (convo.SyncParams, *convo.Client, func(), error) {
	params, err := s.filters.params(0)
	if err != nil {
		return convo.SyncParams{}, nil, nil, err
	}
	client, release, err := s.client(e)
	if err != nil {
		return convo.SyncParams{}, nil, nil, err
	}
	sp := convo.SyncParams{Conversations: params, MessagePageSize: s.pageSize, Concurrency: s.concurrency}
	s.changes.apply(&sp)
	return sp, client, release, nil
}
