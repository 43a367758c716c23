package domain_test

import (
	"fmt"
	"testing"

	"github.com/uuchat/groupchat/domain"
)

// BenchmarkDecidePost measures the hot path of the service: deciding one
// message in a group of 100 members and applying its event, with the dedup
// window full as it is in a busy group.
func BenchmarkDecidePost(b *testing.B) {
	lim := domain.DefaultLimits()
	create := domain.CreateGroup{GroupID: "busy", Name: "Busy", Creator: domain.Member{JID: "m0@example.org"}}
	senders := make([]string, 100)
	senders[0] = create.Creator.JID
	for i := 1; i < len(senders); i++ {
		senders[i] = fmt.Sprintf("m%d@example.org", i)
		create.Members = append(create.Members, domain.Member{JID: senders[i]})
	}
	g := build(b, lim, create)
	if g.MemberCount() != 100 {
		b.Fatalf("the group has %d members, want 100", g.MemberCount())
	}
	// More distinct ids than the window holds, so that every post is new
	// and the window evicts as it would in production.
	ids := make([]string, 2*lim.DedupWindow+1)
	for i := range ids {
		ids[i] = fmt.Sprintf("msg-%d", i)
	}
	post := domain.PostMessage{Body: "Are we meeting at noon?", Mentions: []string{senders[1]}}

	b.ReportAllocs()
	i := 0
	for b.Loop() {
		post.Sender, post.ID = senders[i%len(senders)], ids[i%len(ids)]
		d, err := domain.Decide(g, post, now, lim)
		if err != nil || len(d.Events) != 1 {
			b.Fatalf("post %d: %+v, %v", i, d, err)
		}
		g.Apply(d.Events[0])
		i++
	}
}
