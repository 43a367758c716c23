package domain_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
)

func TestVersionCountsEvents(t *testing.T) {
	created := domain.GroupCreated{GroupID: "team", Name: "Team", Type: domain.TypeCustomized, By: owner, At: now,
		Members: []domain.Member{{JID: owner, MID: "boss", Role: domain.RoleOwner}, {JID: alice, MID: "alice", Role: domain.RoleMember}}}
	post := domain.MessagePosted{ID: "m", Sender: alice, MID: "alice", Body: "hi", At: now}
	cases := []struct {
		name   string
		events []domain.Event
		want   uint64
	}{
		{"a group with no events is at version 0", nil, 0},
		{"creation is the first event", []domain.Event{created}, 1},
		{"every kind of event counts once", []domain.Event{created, post,
			domain.MessageRead{Reader: alice, MID: "alice", Upto: 1, At: now},
			domain.GroupUpdated{Name: "New", By: owner, At: now},
			domain.MemberAdded{Members: []domain.Member{{JID: bob, MID: "bob", Role: domain.RoleMember}}, By: owner, At: now},
			domain.MemberRemoved{Members: []domain.Member{{JID: bob, MID: "bob", Role: domain.RoleMember}}, By: owner, At: now},
			domain.GroupDeleted{By: owner, At: now}}, 7},
		{"a resent message stored twice counts twice", []domain.Event{created, post, post}, 3},
		{"events after deletion still count", []domain.Event{created, domain.GroupDeleted{By: owner, At: now}, post}, 3},
		{"events before creation still count", []domain.Event{post, created}, 2},
		{"an event given by pointer counts like one given by value", []domain.Event{&created, &post}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var g *domain.Group
			for _, e := range tc.events {
				g = domain.Evolve(g, e)
			}
			if got := g.Version(); got != tc.want {
				t.Errorf("after %d events Version() = %d, want %d", len(tc.events), got, tc.want)
			}
		})
	}
}

// TestLastMessage: the newest posted message is what a read receipt
// without an id marks; other events leave it, and a group without
// messages has none.
func TestLastMessage(t *testing.T) {
	created := domain.GroupCreated{GroupID: "team", Name: "Team", Type: domain.TypeCustomized, By: owner, At: now,
		Members: []domain.Member{{JID: owner, MID: "boss", Role: domain.RoleOwner}, {JID: alice, MID: "alice", Role: domain.RoleMember}}}
	post := func(id, sender string) domain.MessagePosted {
		return domain.MessagePosted{ID: id, Sender: sender, MID: "x", Body: "hi", At: now}
	}
	cases := []struct {
		name   string
		events []domain.Event
		want   domain.MessageRef
		ok     bool
	}{
		{"no events", nil, domain.MessageRef{}, false},
		{"created, nothing posted", []domain.Event{created}, domain.MessageRef{}, false},
		{"one message", []domain.Event{created, post("m1", alice)}, domain.MessageRef{ID: "m1", Version: 1, Sender: alice}, true},
		{"the newest of two", []domain.Event{created, post("m1", alice), post("m2", owner)}, domain.MessageRef{ID: "m2", Version: 2, Sender: owner}, true},
		{"later events that are not messages keep it", []domain.Event{created, post("m1", alice),
			domain.MessageRead{Reader: owner, MID: "boss", Upto: 1, At: now}, domain.GroupUpdated{Name: "New", By: owner, At: now}},
			domain.MessageRef{ID: "m1", Version: 1, Sender: alice}, true},
		{"a message given by pointer", []domain.Event{created, func() domain.Event { p := post("m1", alice); return &p }()},
			domain.MessageRef{ID: "m1", Version: 1, Sender: alice}, true},
		{"a message without an id", []domain.Event{created, post("", alice)}, domain.MessageRef{Version: 1, Sender: alice}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := domain.NewGroup(domain.DefaultLimits())
			for _, e := range tc.events {
				g.Apply(e)
			}
			if got, ok := g.LastMessage(); got != tc.want || ok != tc.ok {
				t.Errorf("LastMessage() = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	var none *domain.Group
	if _, ok := none.LastMessage(); ok {
		t.Error("a nil group has a last message")
	}
}

func TestEventsByPointerEvolveLikeEventsByValue(t *testing.T) {
	lim := domain.DefaultLimits()
	byValue := build(t, lim, createTeam(), domain.PostMessage{Sender: alice, ID: "m1", Body: "hi"},
		domain.RemoveMembers{By: owner, Members: []domain.MemberSelector{{JID: bob}}})
	g := domain.NewGroup(lim)
	for _, cmd := range []domain.Command{createTeam(), domain.PostMessage{Sender: alice, ID: "m1", Body: "hi"},
		domain.RemoveMembers{By: owner, Members: []domain.MemberSelector{{JID: bob}}}} {
		for _, e := range decideOK(t, g, cmd, lim).Events {
			g.Apply(pointerTo(e))
		}
	}
	if fmt.Sprint(g.Members()) != fmt.Sprint(byValue.Members()) || g.Version() != byValue.Version() {
		t.Errorf("events by pointer built members %v at version %d; by value %v at version %d",
			g.Members(), g.Version(), byValue.Members(), byValue.Version())
	}
	if _, ok := g.Recent(alice, "m1"); !ok {
		t.Errorf("a *MessagePosted was not remembered for resends")
	}
}

func pointerTo(e domain.Event) domain.Event {
	switch e := e.(type) {
	case domain.GroupCreated:
		return &e
	case domain.GroupUpdated:
		return &e
	case domain.GroupDeleted:
		return &e
	case domain.MemberAdded:
		return &e
	case domain.MemberRemoved:
		return &e
	case domain.MessagePosted:
		return &e
	case domain.MessageRead:
		return &e
	case domain.PushEnabled:
		return &e
	case domain.PushDisabled:
		return &e
	case domain.NotifyLevelSet:
		return &e
	case domain.MemberRoleChanged:
		return &e
	}
	return e
}

// TestEvolveNeverPanics applies arbitrary sequences of events, including
// ones Decide would never yield (members removed twice, ownership handed to
// strangers, events before creation or after deletion, nil events), and
// checks that Evolve takes them all, counts them, and keeps its member
// lookups in step with the member list.
func TestEvolveNeverPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	jids := []string{"", owner, admin, alice, bob, carol}
	mids := []string{"", "boss", "alice", "bob", "x"}
	roles := []domain.Role{"", domain.RoleOwner, domain.RoleAdmin, domain.RoleMember, "king"}
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	someMembers := func() []domain.Member {
		var ms []domain.Member
		for range rng.IntN(4) {
			ms = append(ms, domain.Member{JID: pick(jids), MID: pick(mids), Nick: pick(mids), Role: roles[rng.IntN(len(roles))]})
		}
		return ms
	}
	at := time.Unix(0, 0).UTC()
	randomEvent := func() domain.Event {
		switch rng.IntN(9) {
		case 0:
			return domain.GroupCreated{GroupID: pick([]string{"", "team"}), Name: "n", Members: someMembers(), At: at}
		case 1:
			return domain.GroupUpdated{Name: pick(mids), NewOwner: pick(jids), By: pick(jids), At: at}
		case 2:
			return domain.GroupDeleted{Members: someMembers(), At: at}
		case 3:
			return domain.MemberAdded{Members: someMembers(), At: at}
		case 4:
			return domain.MemberRemoved{Members: someMembers(), At: at}
		case 5:
			return domain.MessagePosted{ID: pick(mids), Sender: pick(jids), Body: "b", Mentions: jids[:rng.IntN(len(jids))], At: at}
		case 6:
			return domain.MessageRead{Reader: pick(jids), Upto: rng.Uint64(), Message: &domain.MessageRef{Version: rng.Uint64()}, At: at}
		case 7:
			return pointerTo(domain.MemberAdded{Members: someMembers(), At: at})
		default:
			return nil
		}
	}
	for run := range 2000 {
		g := domain.NewGroup(domain.Limits{DedupWindow: 1 + rng.IntN(3)})
		if run%2 == 1 {
			g = nil // Evolve starts from nothing
		}
		n := rng.IntN(40)
		var applied []string
		for range n {
			e := randomEvent()
			applied = append(applied, fmt.Sprintf("%T%+v", e, e))
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("Evolve panicked with %v after the events\n%v", r, applied)
					}
				}()
				g = domain.Evolve(g, e)
			}()
		}
		if n > 0 && g.Version() != uint64(n) {
			t.Fatalf("after %d events Version() = %d\n%v", n, g.Version(), applied)
		}
		for _, m := range g.Members() {
			if got, ok := g.Member(m.JID); !ok || got.JID != m.JID {
				t.Fatalf("%+v is listed but Member(%q) = %+v, %v\n%v", m, m.JID, got, ok, applied)
			}
			if got, ok := g.MemberByMID(m.MID); !ok || got.MID != m.MID {
				t.Fatalf("%+v is listed but MemberByMID(%q) = %+v, %v\n%v", m, m.MID, got, ok, applied)
			}
		}
	}
}
