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

func readmeMirror(ctx context.Context, db *sql.DB, client *convo.Client) error {
	// readme:mirror
	m, err := mirror.Open(ctx, db, mirror.SQLite) // or mirror.PostgreSQL; creates or migrates the schema
	if err != nil {
		return err
	}
	stats, err := m.Sync(ctx, client, &mirror.Options{Name: "support"})
	fmt.Println(stats.Conversations, stats.Messages, err)
	// readme:end
	return err
}
