package convo_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// upgradeBase is the time of the first message of the data the format-2
// checkpoint fixtures (testdata/checkpoint/v2_*.json) were written from.
var upgradeBase = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)

// upgradeData is the data of the format-2 fixtures: three conversations of
// 60 messages each, a minute apart, newest activity first, with the fields
// of provider p (a status and delivery statuses to change later).
func upgradeData(p convo.Provider) *convotest.Dataset {
	d := convotest.NewDataset()
	for i := 2; i >= 0; i-- {
		id := fmt.Sprintf("up%d", i)
		c := convo.Conversation{ID: id, ContactID: "contact-" + id, Status: "open", CreatedAt: upgradeBase, Tags: []string{"lead"}}
		switch p {
		case convo.VantaxAI:
			c.Channel = "sms"
		case convo.Rentalot:
			c.Channel, c.Status = "sms", "active"
		case convo.AgentMessage:
			c.ContactNumber, c.PhoneNumber, c.PhoneNumberID, c.Status, c.Tags = "+1555010"+fmt.Sprint(i), "+15550000000", "pn_1", "", nil
			c.Consent = &convo.Consent{OptedIn: true, OptedInAt: upgradeBase}
		}
		var msgs []convo.Message
		for j := range 60 {
			at := upgradeBase.Add(time.Duration(i*60+j) * time.Minute)
			m := convo.Message{ID: fmt.Sprintf("%s-m%03d", id, j), Direction: convo.Inbound, Body: fmt.Sprintf("message %d of %s", j, id), SentAt: at}
			if j%2 == 1 {
				m.Direction = convo.Outbound
			}
			switch p {
			case convo.Vobiz, convo.VantaxAI:
				m.Status = "delivered"
			}
			msgs = append(msgs, m)
		}
		last := msgs[len(msgs)-1]
		c.LastMessageAt, c.MessageCount, c.UpdatedAt = last.SentAt, len(msgs), last.SentAt
		if p == convo.AgentMessage {
			c.LastMessageDirection, c.LastMessagePreview = last.Direction, last.Body
		}
		d.AddConversation(c, msgs...)
	}
	return d
}

// TestCheckpointVersion2FirstRefresh loads, for each provider, a checkpoint
// written by the previous release (format 2) after a full sync of
// upgradeData, changes the data (a conversation's record, a message's
// record, new messages) and runs the first incremental sync: it is a
// refresh, and it loses no change — every conversation comes once more
// with its current record, the messages of the window come in Updated
// (the changed one with its new record), the new messages come in
// Messages and no other message does. The next refresh delivers nothing.
func TestCheckpointVersion2FirstRefresh(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			cp, err := convo.LoadCheckpoint(filepath.Join("testdata", "checkpoint", "v2_"+p.Name()+".json"))
			require.NoError(t, err)
			require.True(t, cp.Done())
			assert.Equal(t, 3, cp.Known())
			assert.True(t, cp.Refreshed().IsZero(), "format 2 records no refresh")
			assert.True(t, cp.RefreshDue(time.Hour), "its first incremental sync is a refresh")
			assert.False(t, cp.RefreshDue(-1), "unless refresh is off")

			srv := convotest.New(t, p, convotest.WithData(upgradeData(p)), convotest.WithRateLimit(-1))
			client, err := srv.Client()
			require.NoError(t, err)
			// The consumer holds what the previous release delivered.
			r := newReplica(t)
			convs, msgs := truth(t, client)
			for id, c := range convs {
				r.convs[id] = c
			}
			for id, m := range msgs {
				r.msgs[id], r.delivered[id] = m, 1
			}

			require.NoError(t, srv.ChangeConversation("up1", func(c *convo.Conversation) { changeOf[p.Name()](c, 1) }))
			changeMessage(t, srv, "up2", "up2-m055", 1)
			at := upgradeBase.Add(5 * time.Hour)
			fresh := []convo.Message{{ID: "up0-new1", Direction: convo.Inbound, Body: "new", SentAt: at}, {ID: "up0-new2", Direction: convo.Outbound, Body: "new", SentAt: at.Add(time.Second)}}
			require.NoError(t, srv.AddMessages("up0", fresh...))

			// The window reaches back over the whole data.
			recheck := time.Since(upgradeBase) + time.Hour
			r.lenient = true
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Recheck: recheck}, nil)
			require.True(t, cp.Done())
			r.check(client, upgradeBase, "after the first refresh")
			assert.ElementsMatch(t, []string{"up0", "up1", "up2"}, r.starts, "every conversation once more")
			assert.Contains(t, r.updated, "up2-m055", "the changed message")
			assert.Equal(t, 2, len(r.delivered)-len(msgs), "the new messages, and no other, in Messages")
			assert.Equal(t, 1, r.delivered["up0-new1"])

			// From now on, only changes.
			r.lenient, r.starts, r.updated = false, nil, nil
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Recheck: recheck, Refresh: refreshNow}, nil)
			assert.Empty(t, r.starts)
			assert.Empty(t, r.updated)
			changeMessage(t, srv, "up1", "up1-m010", 3)
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Recheck: recheck, Refresh: refreshNow}, nil)
			assert.Equal(t, []string{"up1-m010"}, r.updated)
		})
	}
}
