package protocol

import "testing"

func TestAddresses(t *testing.T) {
	a := Addresses{Domain: "groupchat.example.org"}
	tests := []struct{ group, mid, want string }{
		{"g1", "4", "g1@groupchat.example.org/4"},
		{"g1", "", "g1@groupchat.example.org"},
		// A zero-width space is prohibited in a resource: the member
		// speaks from the group's bare address instead.
		{"g1", "a\u200bb", "g1@groupchat.example.org"},
		{"g1", "Anne Marie", "g1@groupchat.example.org/Anne Marie"},
	}
	for _, tt := range tests {
		if got := a.Occupant(tt.group, tt.mid); got != tt.want {
			t.Errorf("Occupant(%q, %q) = %q, want %q", tt.group, tt.mid, got, tt.want)
		}
	}
	if got := a.Group("g1"); got != "g1@groupchat.example.org" {
		t.Errorf("Group = %q", got)
	}
}
