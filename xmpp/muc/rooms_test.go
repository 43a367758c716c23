package muc_test

import (
	"slices"
	"testing"

	"github.com/uuchat/groupchat/xmpp/muc"
)

func TestRooms(t *testing.T) {
	const alice, bob = "alice@example.org", "bob@example.org"
	r := muc.NewRooms(3)
	if !r.Enter(alice+"/phone", alice, "coven") || !r.Enter(alice+"/desk", alice, "coven") || !r.Enter(bob+"/pda", bob, "coven") {
		t.Fatal("three occupancies fit a registry of three")
	}
	if r.Enter(bob+"/pda", bob, "heath") {
		t.Fatal("a fourth occupancy is refused")
	}
	if !r.Enter(bob+"/pda", bob, "coven") {
		t.Error("entering a room one is in again is no new occupancy")
	}
	if !r.Present("coven", alice) || r.Present("heath", bob) {
		t.Error("Present follows who is in which room")
	}
	if got := r.Occupants(nil, "coven", alice); !slices.Equal(got, []string{alice + "/desk", alice + "/phone"}) {
		t.Errorf("alice's occupants of coven: %v", got)
	}
	if !r.In(bob+"/pda", "coven") || r.In(bob+"/pda", "heath") || !r.InAny(bob+"/pda") || r.InAny(bob+"/other") {
		t.Error("In and InAny follow who entered where")
	}

	r.Exit(alice+"/phone", alice, "coven")
	if got := r.Occupants(nil, "coven", alice); !slices.Equal(got, []string{alice + "/desk"}) || r.Count() != 2 {
		t.Errorf("after an exit: %v, count %d", got, r.Count())
	}
	r.Exit(alice+"/phone", alice, "coven") // twice changes nothing
	if r.Count() != 2 {
		t.Errorf("a second exit changed the count to %d", r.Count())
	}

	if !r.Enter(bob+"/pda", bob, "heath") {
		t.Fatal("room freed by the exit")
	}
	r.Forget(bob+"/pda", bob)
	if r.InAny(bob+"/pda") || r.Count() != 1 {
		t.Errorf("a bounced resource leaves every room: count %d", r.Count())
	}

	r.Enter(bob+"/pda", bob, "coven")
	r.ExitGroup("coven", alice)
	if len(r.Occupants(nil, "coven", alice)) != 0 || !r.In(bob+"/pda", "coven") {
		t.Error("emptying a room of one user keeps the others")
	}
	r.ExitGroup("coven", "")
	if r.Count() != 0 || r.InAny(bob+"/pda") {
		t.Errorf("an emptied room holds nobody: count %d", r.Count())
	}
}
