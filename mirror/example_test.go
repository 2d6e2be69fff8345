package mirror_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the driver: database/sql name "sqlite", no cgo

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
	"github.com/convokit/convo/mirror"
)

// Mirror a provider's conversations into a SQLite file, then bring it up to
// date again: the second run finds nothing new and writes nothing.
func Example() {
	ctx := context.Background()
	srv := convotest.NewServer(convo.Rentalot) // a fake API with demo data
	defer srv.Close()
	client, err := srv.Client()
	if err != nil {
		log.Fatal(err)
	}

	dir, err := os.MkdirTemp("", "mirror-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "inbox.db")+"?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	m, err := mirror.Open(ctx, db, mirror.SQLite)
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		stats, err := m.Sync(ctx, client, &mirror.Options{Name: "leasing"})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("wrote %d conversations and %d messages; done: %v\n", stats.Conversations, stats.Messages, stats.Done)
	}

	var inbound int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE provider = 'rentalot' AND direction = 'inbound'`).Scan(&inbound)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("inbound messages:", inbound)
	// Output:
	// wrote 34 conversations and 337 messages; done: true
	// wrote 0 conversations and 0 messages; done: true
	// inbound messages: 178
}
