package domain_test

import (
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
)

// TestRetract checks who may withdraw which message: its sender retracts
// (XEP-0424), the owner and admins moderate anyone's (XEP-0425).
func TestRetract(t *testing.T) {
	at := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	const owner, admin, alice, bob = "owner@example.org", "admin@example.org", "alice@example.org", "bob@example.org"
	g := domain.NewGroup(domain.DefaultLimits())
	g.Apply(domain.GroupCreated{GroupID: "g", Name: "G", Type: domain.TypeCustomized, By: owner, At: at, Members: []domain.Member{
		{JID: owner, MID: "owner", Role: domain.RoleOwner}, {JID: admin, MID: "admin", Role: domain.RoleAdmin},
		{JID: alice, MID: "alice", Role: domain.RoleMember}, {JID: bob, MID: "bob", Role: domain.RoleMember}}})
	g.Apply(domain.MessagePosted{ID: "a1", Sender: alice, MID: "alice", Body: "oops", At: at})
	alices := &domain.MessageRef{ID: "a1", Version: 1, Sender: alice}
	tests := []struct {
		name string
		cmd  domain.RetractMessage
		kind domain.Kind
	}{
		{"the sender retracts", domain.RetractMessage{By: alice, Message: alices, ID: "r1", Target: "17"}, 0},
		{"another member may not retract it", domain.RetractMessage{By: bob, Message: alices}, domain.KindNotAllowed},
		{"a member may not moderate", domain.RetractMessage{By: bob, Message: alices, Moderate: true}, domain.KindNotAllowed},
		{"an admin moderates", domain.RetractMessage{By: admin, Message: alices, Moderate: true, Reason: "spam"}, 0},
		{"the owner moderates", domain.RetractMessage{By: owner, Message: alices, Moderate: true}, 0},
		{"an admin retracting without moderating is a sender's retraction", domain.RetractMessage{By: admin, Message: alices}, domain.KindNotAllowed},
		{"no such message", domain.RetractMessage{By: alice}, domain.KindNotFound},
		{"a version beyond the group's", domain.RetractMessage{By: alice, Message: &domain.MessageRef{Version: 9, Sender: alice}}, domain.KindNotFound},
		{"a non-member", domain.RetractMessage{By: "eve@example.org", Message: alices}, domain.KindNotMember},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec, err := domain.Decide(g, tt.cmd, at, domain.DefaultLimits())
			if tt.kind != 0 {
				if domain.KindOf(err) != tt.kind {
					t.Fatalf("got %v, want a refusal of kind %v", err, tt.kind)
				}
				return
			}
			if err != nil || len(dec.Events) != 1 {
				t.Fatalf("got %v, %v", dec, err)
			}
			e, ok := dec.Events[0].(domain.MessageRetracted)
			if !ok || e.Message != *alices || e.By != tt.cmd.By || e.Moderated != tt.cmd.Moderate || e.Reason != tt.cmd.Reason || e.ID != tt.cmd.ID || e.Target != tt.cmd.Target {
				t.Errorf("got %+v", dec.Events[0])
			}
		})
	}
}
