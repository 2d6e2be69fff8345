package convotest_test

import (
	"context"
	"testing"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConvotestFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("vantaxai", func(t *testing.T) {
		srv := convotest.NewServer(convo.VantaxAI)
		defer srv.Close()
		c := mustClient(t, srv)
		d := srv.Dataset()
		params := []convo.ConversationListParams{
			{Channel: "email"}, {Status: "pending"}, {SubAccountID: "sub_5d03b7a9"},
			{Channel: "sms", Status: "open", PageSize: 2},
		}
		for _, p := range params {
			var want []string
			for _, cd := range d.Conversations {
				cv := cd.Conversation
				if (p.Channel == "" || cv.Channel == p.Channel) && (p.Status == "" || cv.Status == p.Status) &&
					(p.SubAccountID == "" || cv.SubAccountID == p.SubAccountID) {
					want = append(want, cv.ID)
				}
			}
			require.NotEmpty(t, want, "%+v selects nothing in the demo data", p)
			assert.Less(t, len(want), len(d.Conversations))
			got := collect(t, c.Conversations.List(ctx, &p).All())
			assert.Equal(t, want, ids(got), "%+v", p)
		}
	})
	t.Run("rentalot", func(t *testing.T) {
		srv := convotest.NewServer(convo.Rentalot)
		defer srv.Close()
		c := mustClient(t, srv)
		d := srv.Dataset()
		contact := ""
		counts := map[string]int{}
		for _, cd := range d.Conversations {
			counts[cd.Conversation.ContactID]++
			if counts[cd.Conversation.ContactID] == 2 {
				contact = cd.Conversation.ContactID
			}
		}
		require.NotEmpty(t, contact, "a contact with several conversations")
		for _, p := range []convo.ConversationListParams{{ContactID: contact}, {Status: "archived"}, {Status: "active", PageSize: 5}} {
			var want []string
			for _, cd := range d.Conversations {
				if (p.ContactID == "" || cd.Conversation.ContactID == p.ContactID) && (p.Status == "" || cd.Conversation.Status == p.Status) {
					want = append(want, cd.Conversation.ID)
				}
			}
			require.NotEmpty(t, want)
			assert.Equal(t, want, ids(collect(t, c.Conversations.List(ctx, &p).All())), "%+v", p)
		}
	})
	t.Run("agentmessage", func(t *testing.T) {
		srv := convotest.NewServer(convo.AgentMessage)
		defer srv.Close()
		c := mustClient(t, srv)
		d := srv.Dataset()
		yes, no := true, false
		since := d.Conversations[len(d.Conversations)/2].Conversation.LastMessageAt
		tests := []struct {
			p    convo.ConversationListParams
			keep func(cv convo.Conversation) bool
		}{
			{convo.ConversationListParams{PhoneNumberID: "3b9e2c71-4d5a-4f1e-8b6c-9a0d1e2f3a4b"}, func(cv convo.Conversation) bool {
				return cv.PhoneNumberID == "3b9e2c71-4d5a-4f1e-8b6c-9a0d1e2f3a4b"
			}},
			{convo.ConversationListParams{ContactNumber: d.Conversations[3].Conversation.ContactNumber}, func(cv convo.Conversation) bool {
				return cv.ContactNumber == d.Conversations[3].Conversation.ContactNumber
			}},
			{convo.ConversationListParams{Since: since}, func(cv convo.Conversation) bool { return !cv.LastMessageAt.Before(since) }},
			{convo.ConversationListParams{OptedIn: &yes, PageSize: 4}, func(cv convo.Conversation) bool { return cv.Consent != nil && cv.Consent.OptedIn }},
			{convo.ConversationListParams{OptedIn: &no}, func(cv convo.Conversation) bool { return cv.Consent == nil || !cv.Consent.OptedIn }},
		}
		for _, tt := range tests {
			var want []string
			for _, cd := range d.Conversations {
				if tt.keep(cd.Conversation) {
					want = append(want, cd.Conversation.ID)
				}
			}
			require.NotEmpty(t, want)
			assert.Less(t, len(want), len(d.Conversations))
			assert.Equal(t, want, ids(collect(t, c.Conversations.List(ctx, &tt.p).All())), "%+v", tt.p)
		}
	})
}
