package convo_test

import (
	"fmt"
	"time"

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
