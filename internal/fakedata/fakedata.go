// Package fakedata builds the data that the tests of the mirror and of the
// command give convotest's fake, changes it while the fake serves, and
// runs a test once for each provider, so that both modules' tests work on
// the same data, the same changes and the same providers. It is imported
// by tests alone.
package fakedata

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// Volume returns conversations conversations of messages messages each,
// bodies of SMS length, a minute apart, with the fields of every provider
// (each fake serves those it has).
func Volume(conversations, messages int) *convotest.Dataset {
	d := convotest.NewDataset()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for c := range conversations {
		msgs := make([]convo.Message, messages)
		for i := range msgs {
			dir := convo.Inbound
			if i%2 == 1 {
				dir = convo.Outbound
			}
			msgs[i] = convo.Message{
				ID:            fmt.Sprintf("msg_%06d_%03d", c, i),
				Direction:     dir,
				Body:          fmt.Sprintf("Hi, this is message %d of conversation %d: your appointment is confirmed for tomorrow at 10:30. Reply STOP to opt out.", i, c),
				SentAt:        start.Add(time.Duration(c*messages+i) * time.Minute),
				Channel:       "sms",
				PhoneNumberID: "pn_bench",
				FromNumber:    "+15550100",
				ToNumber:      fmt.Sprintf("+1555%07d", c),
				SegmentCount:  1,
			}
		}
		d.AddConversation(convo.Conversation{
			ID: fmt.Sprintf("Y29udl8%06d", c), ContactID: fmt.Sprintf("+1555%07d", c), PhoneNumberID: "pn_bench", PhoneNumber: "+15550100",
			ContactNumber: fmt.Sprintf("+1555%07d", c), LastMessageAt: msgs[len(msgs)-1].SentAt, MessageCount: len(msgs),
		}, msgs...)
	}
	return d
}

// ChangeMessages changes, on srv, the records of the first and the last
// message of c the way its provider can, and returns their ids: a provider
// that documents redaction redacts them (the fake refuses a redaction
// elsewhere with convotest.ErrUndocumentedChange); the others flip their
// delivery status between read and delivered and give them metadata.
func ChangeMessages(t testing.TB, srv *convotest.Server, c convotest.ConversationData) []string {
	t.Helper()
	var ids []string
	for _, m := range []convo.Message{c.Messages[0], c.Messages[len(c.Messages)-1]} {
		err := srv.RedactMessage(c.Conversation.ID, m.ID, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
		if errors.Is(err, convotest.ErrUndocumentedChange) {
			err = srv.ChangeMessage(c.Conversation.ID, m.ID, func(m *convo.Message) {
				m.Status = map[bool]string{true: "delivered", false: "read"}[m.Status == "read"]
				m.Metadata = []byte(`{"seen":true}`)
			})
		}
		require.NoError(t, err)
		ids = append(ids, m.ID)
	}
	return ids
}

// EachProvider runs test for every provider of the registry, as parallel
// subtests named by the provider.
func EachProvider(t *testing.T, test func(t *testing.T, p convo.Provider)) {
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			test(t, p)
		})
	}
}
