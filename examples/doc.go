// Package examples holds convo's runnable examples, a program a directory:
//
//	go run ./examples/quickstart        # conversations, latest messages, a search
//	go run ./examples/vobiz -demo       # every conversation, its latest five messages
//	go run ./examples/vantaxai -demo    # the open conversations, all their messages
//	go run ./examples/rentalot -demo    # the active conversations, their latest three
//	go run ./examples/agentmessage -demo # the conversations of the last week
//
// With -demo (the quickstart needs none) each runs against the built-in
// fake server of package convotest; without it, against the real API with
// the credentials it names in its documentation (the variables its
// provider declares: [convo.Provider.CredentialHelp]). What the programs
// share, the client of the real API or of the fake and the provider
// programs' main, is in examples/internal/example. examples/uptodate is a
// complete updater and examples/testing the pattern for testing code of
// yours with convotest.
//
// The tests of this package build each program once and run it as a user
// would, against a fake server, checking what it prints and what it asks
// the server for.
package examples
