package mirror_test

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/convokit/convo"
	"github.com/convokit/convo/mirror"
)

// The README's Go code about the mirror, compiled here (see the root
// package's TestReadmeGoBlocks).

var _ = readmeMirror

func readmeMirror(ctx context.Context, client *convo.Client) error {
	// readme:mirror
	db, err := sql.Open("sqlite", "file:inbox.db?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return err
	}
	m, err := mirror.Open(ctx, db, mirror.SQLite) // or mirror.PostgreSQL: creates or migrates the schema
	if err != nil {
		return err
	}
	stats, err := m.Sync(ctx, client, &mirror.Options{Name: "support"})
	fmt.Println(stats.Conversations, stats.Messages, err)
	// readme:end
	return err
}
