package push

import (
	"context"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// groups is a membership answer fixed by the test.
type groups map[string]struct{ deleted, member bool }

func (g groups) LiveMember(_ context.Context, group, _ string) (bool, bool, bool, error) {
	m, ok := g[group]
	return ok, m.deleted, m.member, nil
}

func TestAnswer(t *testing.T) {
	const alice = "alice@example.test"
	ctx := context.Background()
	s := NewSettings(&memStore{}, domain.DefaultPushLimits())
	member := groups{"coven": {member: true}, "heath": {}, "gone": {deleted: true, member: true}}
	tests := []struct {
		name string
		req  protocol.Request
		// want is in the payload; kind is the refusal's.
		want string
		kind domain.Kind
	}{
		{"enable", protocol.PushEnable{JID: "push.example.test", Node: "n1"}, "", 0},
		{"set a member's level", protocol.NotifyLevel{Group: "coven", Set: true, Level: domain.NotifyMentions}, "", 0},
		{"read it back", protocol.NotifyLevel{Group: "coven"}, "mentions", 0},
		{"a group one is not a member of", protocol.NotifyLevel{Group: "heath", Set: true, Level: domain.NotifyNone}, "", domain.KindNotMember},
		{"a deleted group", protocol.NotifyLevel{Group: "gone"}, "", domain.KindNotFound},
		{"no such group", protocol.NotifyLevel{Group: "nowhere"}, "", domain.KindNotFound},
		{"disable", protocol.PushDisable{JID: "push.example.test", Node: "n1"}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload, err := s.Answer(ctx, alice, tt.req, member)
			if tt.kind != 0 {
				if domain.KindOf(err) != tt.kind {
					t.Fatalf("got %v, want a refusal of kind %v", err, tt.kind)
				}
				return
			}
			if err != nil || !strings.Contains(string(payload), tt.want) {
				t.Fatalf("got %q, %v; want %q", payload, err, tt.want)
			}
		})
	}
	if regs := s.Registrations(alice); len(regs) != 0 {
		t.Errorf("disable left %v", regs)
	}
}
