package domain_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/domain"
)

func TestCreateGroup(t *testing.T) {
	ownerNamed := func(mid string) domain.Member {
		return domain.Member{JID: owner, MID: mid, Nick: mid, Role: domain.RoleOwner}
	}
	plain := func(jid, mid string) domain.Member {
		return domain.Member{JID: jid, MID: mid, Nick: mid, Role: domain.RoleMember}
	}
	created := func(members ...domain.Member) []domain.Event {
		return []domain.Event{domain.GroupCreated{
			GroupID: "team", Name: "Team", Type: domain.TypeCustomized, Members: members, By: owner, At: now,
		}}
	}
	runAccepted(t, []accepted{
		{
			name: "the creator becomes the owner, listed first, and the listed members join as members or admins",
			cmd: domain.CreateGroup{GroupID: "team", Name: "Team", Creator: domain.Member{JID: owner, MID: "boss", Nick: "Boss"},
				Members: []domain.Member{{JID: alice}, {JID: admin, Role: domain.RoleAdmin}, {JID: bob, Role: domain.RoleMember}}},
			want: created(
				domain.Member{JID: owner, MID: "boss", Nick: "Boss", Role: domain.RoleOwner},
				plain(alice, "alice"),
				domain.Member{JID: admin, MID: "admin", Nick: "admin", Role: domain.RoleAdmin},
				plain(bob, "bob"),
			),
			then: func(t *testing.T, g *domain.Group) {
				if !g.Exists() || g.ID() != "team" || g.Name() != "Team" || g.Type() != domain.TypeCustomized {
					t.Errorf("after creation the group reads id %q name %q type %q exists %v, want team/Team/customized/true",
						g.ID(), g.Name(), g.Type(), g.Exists())
				}
				if o, _ := g.Owner(); o.JID != owner {
					t.Errorf("the owner is %q, want the creator %q", o.JID, owner)
				}
				if g.MemberCount() != 4 {
					t.Errorf("the group has %d members, want 4", g.MemberCount())
				}
			},
		},
		{
			name: "a group may start with its creator alone",
			cmd:  domain.CreateGroup{GroupID: "team", Name: "Team", Creator: domain.Member{JID: owner}},
			want: created(ownerNamed("owner")),
		},
		{
			name: "the creator listed in its own member list is merged, not added twice, and stays owner",
			cmd: domain.CreateGroup{GroupID: "team", Name: "Team", Creator: domain.Member{JID: owner},
				Members: []domain.Member{{JID: alice}, {JID: owner, MID: "boss", Nick: "Boss", Role: domain.RoleAdmin}}},
			want: created(domain.Member{JID: owner, MID: "boss", Nick: "Boss", Role: domain.RoleOwner}, plain(alice, "alice")),
		},
		{
			name: "the creator's own mid and nick win over those in its list entry",
			cmd: domain.CreateGroup{GroupID: "team", Name: "Team", Creator: domain.Member{JID: owner, MID: "boss", Nick: "Boss"},
				Members: []domain.Member{{JID: owner, MID: "other", Nick: "Other"}}},
			want: created(domain.Member{JID: owner, MID: "boss", Nick: "Boss", Role: domain.RoleOwner}),
		},
		{
			name: "missing mids come from the JID's local part, made unique",
			cmd: domain.CreateGroup{GroupID: "team", Name: "Team", Creator: domain.Member{JID: owner},
				Members: []domain.Member{{JID: "alice@a.example"}, {JID: "alice@b.example"}, {JID: "alice@c.example"}}},
			want: created(ownerNamed("owner"), plain("alice@a.example", "alice"), plain("alice@b.example", "alice-2"),
				plain("alice@c.example", "alice-3")),
		},
		{
			name: "an assigned mid never takes one another member asked for, even later in the list",
			cmd: domain.CreateGroup{GroupID: "team", Name: "Team", Creator: domain.Member{JID: owner},
				Members: []domain.Member{{JID: "alice@a.example"}, {JID: bob, MID: "alice"}}},
			want: created(ownerNamed("owner"), plain("alice@a.example", "alice-2"), plain(bob, "alice")),
		},
		{
			name: "an assigned mid stays within the mid limit",
			lim:  withLimits(func(l *domain.Limits) { l.MaxMIDChars = 6 }),
			cmd: domain.CreateGroup{GroupID: "team", Name: "Team", Creator: domain.Member{JID: owner, MID: "boss"},
				Members: []domain.Member{{JID: "alexandra@a.example"}, {JID: "alexandra@b.example"}}},
			want: created(domain.Member{JID: owner, MID: "boss", Nick: "boss", Role: domain.RoleOwner},
				plain("alexandra@a.example", "alexan"), plain("alexandra@b.example", "alex-2")),
		},
		{
			name: "a system group keeps its type",
			cmd:  domain.CreateGroup{GroupID: "news", Name: "News", Type: domain.TypeSystem, Creator: domain.Member{JID: owner, MID: "boss"}},
			want: []domain.Event{domain.GroupCreated{GroupID: "news", Name: "News", Type: domain.TypeSystem,
				Members: []domain.Member{{JID: owner, MID: "boss", Nick: "boss", Role: domain.RoleOwner}}, By: owner, At: now}},
		},
		{
			name: "a name of exactly MaxNameChars characters is accepted",
			cmd:  domain.CreateGroup{GroupID: "team", Name: strings.Repeat("é", 256), Creator: domain.Member{JID: owner, MID: "boss"}},
			want: []domain.Event{domain.GroupCreated{GroupID: "team", Name: strings.Repeat("é", 256), Type: domain.TypeCustomized,
				Members: []domain.Member{{JID: owner, MID: "boss", Nick: "boss", Role: domain.RoleOwner}}, By: owner, At: now}},
		},
		{
			name: "exactly MaxMembers members are accepted",
			lim:  withLimits(func(l *domain.Limits) { l.MaxMembers = 3 }),
			cmd: domain.CreateGroup{GroupID: "team", Name: "Team", Creator: domain.Member{JID: owner},
				Members: []domain.Member{{JID: alice}, {JID: bob}}},
			want: created(ownerNamed("owner"), plain(alice, "alice"), plain(bob, "bob")),
		},
	})

	team := createTeam()
	with := func(f func(c *domain.CreateGroup)) domain.CreateGroup {
		c := createTeam()
		c.Members = append([]domain.Member(nil), c.Members...)
		f(&c)
		return c
	}
	deleteTeam := domain.DeleteGroup{By: owner}
	runRefused(t, []refused{
		{name: "a missing name is a bad request", cmd: with(func(c *domain.CreateGroup) { c.Name = "" }), want: domain.KindBadRequest},
		{name: "a name of spaces only is a bad request", cmd: with(func(c *domain.CreateGroup) { c.Name = " \u00a0 " }), want: domain.KindBadRequest},
		{name: "a name with a newline is a bad request", cmd: with(func(c *domain.CreateGroup) { c.Name = "Team\nB" }), want: domain.KindBadRequest},
		{name: "a name with a NUL is a bad request", cmd: with(func(c *domain.CreateGroup) { c.Name = "Team\x00" }), want: domain.KindBadRequest},
		{name: "a name that is not UTF-8 is a bad request", cmd: with(func(c *domain.CreateGroup) { c.Name = "Team\xff" }), want: domain.KindBadRequest},
		{name: "a name over MaxNameChars characters is over a limit", cmd: with(func(c *domain.CreateGroup) { c.Name = strings.Repeat("é", 257) }), want: domain.KindLimit},
		{name: "a missing group id is a bad request", cmd: with(func(c *domain.CreateGroup) { c.GroupID = "" }), want: domain.KindBadRequest},
		{name: "a group id with a space is a bad request", cmd: with(func(c *domain.CreateGroup) { c.GroupID = "the team" }), want: domain.KindBadRequest},
		{name: "a group id with an @ is a bad request", cmd: with(func(c *domain.CreateGroup) { c.GroupID = "team@example.org" }), want: domain.KindBadRequest},
		{name: "a group id with a slash is a bad request", cmd: with(func(c *domain.CreateGroup) { c.GroupID = "team/x" }), want: domain.KindBadRequest},
		{name: "a group id in upper case is a bad request", cmd: with(func(c *domain.CreateGroup) { c.GroupID = "Team" }), want: domain.KindBadRequest},
		{name: "a group id over 256 bytes is a bad request", cmd: with(func(c *domain.CreateGroup) { c.GroupID = strings.Repeat("t", 257) }), want: domain.KindBadRequest},
		{name: "an unknown group type is a bad request", cmd: with(func(c *domain.CreateGroup) { c.Type = "secret" }), want: domain.KindBadRequest},
		{name: "a taken group id is a conflict", history: []domain.Command{team}, cmd: team, want: domain.KindConflict},
		{name: "a taken group id is a conflict for anyone", history: []domain.Command{team},
			cmd: domain.CreateGroup{GroupID: "team", Name: "Mine", Creator: domain.Member{JID: stranger}}, want: domain.KindConflict},
		{name: "a deleted group's id stays taken", history: []domain.Command{team, deleteTeam}, cmd: team, want: domain.KindConflict},
		{name: "a creator without a jid is a bad request", cmd: with(func(c *domain.CreateGroup) { c.Creator.JID = "" }), want: domain.KindBadRequest},
		{name: "a member without a jid is a bad request",
			cmd: with(func(c *domain.CreateGroup) { c.Members = append(c.Members, domain.Member{MID: "ghost"}) }), want: domain.KindBadRequest},
		{name: "a jid listed twice is a bad request",
			cmd: with(func(c *domain.CreateGroup) { c.Members = append(c.Members, domain.Member{JID: alice, MID: "alice2"}) }), want: domain.KindBadRequest},
		{name: "two members asking for one mid is a conflict",
			cmd: with(func(c *domain.CreateGroup) { c.Members = append(c.Members, domain.Member{JID: carol, MID: "alice"}) }), want: domain.KindConflict},
		{name: "a member asking for the creator's mid is a conflict",
			cmd: with(func(c *domain.CreateGroup) { c.Members = append(c.Members, domain.Member{JID: carol, MID: "boss"}) }), want: domain.KindConflict},
		{name: "a mid with a leading space is a bad request",
			cmd: with(func(c *domain.CreateGroup) { c.Members = append(c.Members, domain.Member{JID: carol, MID: " carol"}) }), want: domain.KindBadRequest},
		{name: "a mid over MaxMIDChars is over a limit",
			cmd: with(func(c *domain.CreateGroup) {
				c.Members = append(c.Members, domain.Member{JID: carol, MID: strings.Repeat("c", 65)})
			}), want: domain.KindLimit},
		{name: "a nick with a control character is a bad request",
			cmd: with(func(c *domain.CreateGroup) { c.Members = append(c.Members, domain.Member{JID: carol, Nick: "Ca\trol"}) }), want: domain.KindBadRequest},
		{name: "a nick over MaxNickChars is over a limit",
			cmd: with(func(c *domain.CreateGroup) {
				c.Members = append(c.Members, domain.Member{JID: carol, Nick: strings.Repeat("c", 129)})
			}), want: domain.KindLimit},
		{name: "more than MaxMembers members, the creator included, is over a limit",
			lim: withLimits(func(l *domain.Limits) { l.MaxMembers = 3 }), cmd: team, want: domain.KindLimit},
		{name: "making another member owner is not allowed",
			cmd: with(func(c *domain.CreateGroup) { c.Members[2].Role = domain.RoleOwner }), want: domain.KindNotAllowed},
		{name: "an unknown role is a bad request",
			cmd: with(func(c *domain.CreateGroup) { c.Members[2].Role = "moderator" }), want: domain.KindBadRequest},
	})
}

func TestUpdateGroup(t *testing.T) {
	team := createTeam()
	members := teamMembers()
	runAccepted(t, []accepted{
		{
			name:    "the owner renames the group",
			history: []domain.Command{team},
			cmd:     domain.UpdateGroup{By: owner, Name: "Red team"},
			want:    []domain.Event{domain.GroupUpdated{Name: "Red team", By: owner, At: now}},
			then: func(t *testing.T, g *domain.Group) {
				if g.Name() != "Red team" {
					t.Errorf("the group is named %q after the rename, want %q", g.Name(), "Red team")
				}
			},
		},
		{
			name:    "an admin renames the group",
			history: []domain.Command{team},
			cmd:     domain.UpdateGroup{By: admin, Name: "Blue team"},
			want:    []domain.Event{domain.GroupUpdated{Name: "Blue team", By: admin, At: now}},
		},
		{
			name:    "the owner hands ownership to a member and becomes an admin",
			history: []domain.Command{team},
			cmd:     domain.UpdateGroup{By: owner, NewOwner: alice},
			want:    []domain.Event{domain.GroupUpdated{NewOwner: alice, By: owner, At: now}},
			then: wantMembers(
				domain.Member{JID: owner, MID: "boss", Nick: "Boss", Role: domain.RoleAdmin},
				members[1],
				domain.Member{JID: alice, MID: "alice", Nick: "Alice", Role: domain.RoleOwner},
				members[3],
			),
		},
		{
			name:    "the owner renames and hands over at once",
			history: []domain.Command{team},
			cmd:     domain.UpdateGroup{By: owner, Name: "Alice's", NewOwner: admin},
			want:    []domain.Event{domain.GroupUpdated{Name: "Alice's", NewOwner: admin, By: owner, At: now}},
			then: func(t *testing.T, g *domain.Group) {
				if o, _ := g.Owner(); o.JID != admin || g.Name() != "Alice's" {
					t.Errorf("after the update the owner is %q and the name %q, want %q and %q", o.JID, g.Name(), admin, "Alice's")
				}
			},
		},
		{
			name:    "the owner naming itself as new owner while renaming only renames",
			history: []domain.Command{team},
			cmd:     domain.UpdateGroup{By: owner, Name: "Mine", NewOwner: owner},
			want:    []domain.Event{domain.GroupUpdated{Name: "Mine", By: owner, At: now}},
		},
		{
			name:    "the new owner may do what the old one could",
			history: []domain.Command{team, domain.UpdateGroup{By: owner, NewOwner: alice}},
			cmd:     domain.DeleteGroup{By: alice},
			want:    []domain.Event{domain.GroupDeleted{Members: handedTo(alice), By: alice, At: now}},
		},
	})
	runRefused(t, []refused{
		{name: "a plain member may not rename", history: []domain.Command{team},
			cmd: domain.UpdateGroup{By: alice, Name: "Mine"}, want: domain.KindNotAllowed},
		{name: "a non-member may not rename", history: []domain.Command{team},
			cmd: domain.UpdateGroup{By: stranger, Name: "Mine"}, want: domain.KindNotMember},
		{name: "an unknown group is not found",
			cmd: domain.UpdateGroup{By: owner, Name: "Mine"}, want: domain.KindNotFound},
		{name: "a deleted group is not found", history: []domain.Command{team, domain.DeleteGroup{By: owner}},
			cmd: domain.UpdateGroup{By: owner, Name: "Mine"}, want: domain.KindNotFound},
		{name: "an admin may not hand ownership over", history: []domain.Command{team},
			cmd: domain.UpdateGroup{By: admin, NewOwner: alice}, want: domain.KindNotAllowed},
		{name: "a plain member may not take ownership", history: []domain.Command{team},
			cmd: domain.UpdateGroup{By: alice, NewOwner: alice}, want: domain.KindNotAllowed},
		{name: "the old owner, now an admin, may not delete", history: []domain.Command{team, domain.UpdateGroup{By: owner, NewOwner: alice}},
			cmd: domain.DeleteGroup{By: owner}, want: domain.KindNotAllowed},
		{name: "ownership goes only to a member", history: []domain.Command{team},
			cmd: domain.UpdateGroup{By: owner, NewOwner: stranger}, want: domain.KindNotFound},
		{name: "handing ownership to oneself alone is a bad request", history: []domain.Command{team},
			cmd: domain.UpdateGroup{By: owner, NewOwner: owner}, want: domain.KindBadRequest},
		{name: "an empty update is a bad request", history: []domain.Command{team},
			cmd: domain.UpdateGroup{By: owner}, want: domain.KindBadRequest},
		{name: "a name of spaces only is a bad request", history: []domain.Command{team},
			cmd: domain.UpdateGroup{By: owner, Name: "   "}, want: domain.KindBadRequest},
		{name: "a name with a control character is a bad request", history: []domain.Command{team},
			cmd: domain.UpdateGroup{By: owner, Name: "a\u0085b"}, want: domain.KindBadRequest},
		{name: "a name over MaxNameChars is over a limit", history: []domain.Command{team},
			cmd: domain.UpdateGroup{By: owner, Name: strings.Repeat("n", 257)}, want: domain.KindLimit},
	})
}

// handedTo is the team's membership after the owner handed ownership to jid.
func handedTo(jid string) []domain.Member {
	ms := teamMembers()
	for i := range ms {
		switch {
		case ms[i].JID == jid:
			ms[i].Role = domain.RoleOwner
		case ms[i].Role == domain.RoleOwner:
			ms[i].Role = domain.RoleAdmin
		}
	}
	return ms
}

func TestDeleteGroup(t *testing.T) {
	team := createTeam()
	runAccepted(t, []accepted{{
		name:    "the owner deletes the group; the event names everyone it had",
		history: []domain.Command{team},
		cmd:     domain.DeleteGroup{By: owner},
		want:    []domain.Event{domain.GroupDeleted{Members: teamMembers(), By: owner, At: now}},
		then: func(t *testing.T, g *domain.Group) {
			if g.Exists() || !g.Deleted() || !g.Created() {
				t.Errorf("after delete: Exists %v, Deleted %v, Created %v; want false, true, true", g.Exists(), g.Deleted(), g.Created())
			}
		},
	}})
	runRefused(t, []refused{
		{name: "an admin may not delete", history: []domain.Command{team}, cmd: domain.DeleteGroup{By: admin}, want: domain.KindNotAllowed},
		{name: "a plain member may not delete", history: []domain.Command{team}, cmd: domain.DeleteGroup{By: alice}, want: domain.KindNotAllowed},
		{name: "a non-member may not delete", history: []domain.Command{team}, cmd: domain.DeleteGroup{By: stranger}, want: domain.KindNotMember},
		{name: "an unknown group is not found", cmd: domain.DeleteGroup{By: owner}, want: domain.KindNotFound},
	})

	// After delete, the group is gone for every command of every member; its
	// id stays taken.
	deleted := []domain.Command{team, domain.DeleteGroup{By: owner}}
	var after []refused
	for _, by := range []string{owner, admin, alice, stranger} {
		for _, cmd := range []domain.Command{
			domain.UpdateGroup{By: by, Name: "Again"},
			domain.DeleteGroup{By: by},
			domain.AddMembers{By: by, Members: []domain.Member{{JID: carol}}},
			domain.RemoveMembers{By: by, Members: []domain.MemberSelector{{JID: by}}},
			domain.PostMessage{Sender: by, ID: "m1", Body: "anyone?"},
			domain.MarkRead{Reader: by},
		} {
			after = append(after, refused{name: "after delete, " + by + " " + kindOfCommand(cmd) + " is not found",
				history: deleted, cmd: cmd, want: domain.KindNotFound})
		}
	}
	after = append(after, refused{name: "after delete, creating the same id is a conflict", history: deleted, cmd: team, want: domain.KindConflict})
	runRefused(t, after)
}

func kindOfCommand(cmd domain.Command) string {
	switch cmd.(type) {
	case domain.UpdateGroup:
		return "updating"
	case domain.DeleteGroup:
		return "deleting"
	case domain.AddMembers:
		return "adding"
	case domain.RemoveMembers:
		return "leaving"
	case domain.PostMessage:
		return "posting"
	case domain.MarkRead:
		return "reading"
	}
	return "commanding"
}

func TestDecideTakesCommandsByValueOrPointer(t *testing.T) {
	lim := domain.DefaultLimits()
	team := createTeam()
	byValue, err := domain.Decide(domain.NewGroup(lim), team, now, lim)
	if err != nil {
		t.Fatalf("creating the team: %v", err)
	}
	byPointer, err := domain.Decide(domain.NewGroup(lim), &team, now, lim)
	if err != nil {
		t.Fatalf("creating the team from a *CreateGroup: %v", err)
	}
	if !reflect.DeepEqual(byValue, byPointer) {
		t.Errorf("a *CreateGroup decides\n %+v\nbut the CreateGroup decides\n %+v", byPointer, byValue)
	}
	g := build(t, lim, team)
	if _, err := domain.Decide(g, &domain.PostMessage{Sender: alice, Body: "hi"}, now, lim); err != nil {
		t.Errorf("a *PostMessage was refused: %v", err)
	}
	for _, cmd := range []domain.Command{nil, (*domain.PostMessage)(nil), (*domain.CreateGroup)(nil)} {
		if _, err := domain.Decide(g, cmd, now, lim); domain.KindOf(err) != domain.KindBadRequest {
			t.Errorf("Decide(%#v) = %v, want a bad request", cmd, err)
		}
	}
}

func TestAGroupWithNoEventsDoesNotExist(t *testing.T) {
	for name, g := range map[string]*domain.Group{
		"nil":      nil,
		"NewGroup": domain.NewGroup(domain.DefaultLimits()),
		"zero":     {},
	} {
		t.Run(name, func(t *testing.T) {
			if g.Exists() || g.Created() || g.Deleted() {
				t.Errorf("Exists %v, Created %v, Deleted %v; want all false", g.Exists(), g.Created(), g.Deleted())
			}
			if g.ID() != "" || g.Name() != "" || g.Version() != 0 || g.MemberCount() != 0 || len(g.Members()) != 0 {
				t.Errorf("reads id %q name %q version %d members %v; want all empty", g.ID(), g.Name(), g.Version(), g.Members())
			}
			if _, ok := g.Member(owner); ok {
				t.Errorf("Member(%q) found someone", owner)
			}
			if _, ok := g.MemberByMID("boss"); ok {
				t.Errorf("MemberByMID found someone")
			}
			if _, ok := g.MemberByNick("Boss"); ok {
				t.Errorf("MemberByNick found someone")
			}
			if _, ok := g.Owner(); ok {
				t.Errorf("Owner found someone")
			}
			if _, ok := g.Recent(alice, "m1"); ok {
				t.Errorf("Recent found a message")
			}
			if _, err := domain.Decide(g, createTeam(), now, domain.DefaultLimits()); err != nil {
				t.Errorf("creating a group from it was refused: %v", err)
			}
		})
	}
}

// TestDeleteCarriesReason keeps the owner's reason and alternate venue
// with the deletion, within the body's limit.
func TestDeleteCarriesReason(t *testing.T) {
	lim := domain.DefaultLimits()
	g := build(t, lim, createTeam())
	c := domain.DeleteGroup{By: owner, Reason: "Macbeth doth come.", Venue: "coven@chat.shakespeare.lit"}
	dec, err := domain.Decide(g, c, now, lim)
	want := domain.GroupDeleted{Members: teamMembers(), By: owner, At: now, Reason: c.Reason, Venue: c.Venue}
	if err != nil || len(dec.Events) != 1 || !reflect.DeepEqual(dec.Events[0], want) {
		t.Fatalf("got %+v, %v, want %+v", dec.Events, err, want)
	}
	lim.MaxBodyBytes = 8
	if _, err := domain.Decide(g, c, now, lim); domain.KindOf(err) != domain.KindLimit {
		t.Errorf("a reason over the body's limit: %v, want a limit refusal", err)
	}
}

func TestSizeGrowsWithMembersAndTheWindowOnly(t *testing.T) {
	lim := domain.DefaultLimits()
	lim.DedupWindow = 4
	g := domain.NewGroup(lim)
	g.Apply(domain.GroupCreated{GroupID: "team", Name: "Team", Members: []domain.Member{{JID: owner, MID: "o", Role: domain.RoleOwner}}, By: owner, At: now})
	alone := g.Size()
	g.Apply(domain.MemberAdded{Members: []domain.Member{{JID: alice, MID: "a"}, {JID: bob, MID: "b"}}, By: owner, At: now})
	if g.Size() <= alone {
		t.Fatalf("size with 3 members %d, not above the size with 1, %d", g.Size(), alone)
	}
	sizes := map[int]int{}
	for i := range 10 {
		g.Apply(domain.MessagePosted{ID: strings.Repeat("x", i+1), Sender: alice, MID: "a", Body: "hi", At: now})
		sizes[i] = g.Size()
	}
	if sizes[3] <= sizes[0] {
		t.Errorf("size after 4 messages %d, not above the size after 1, %d", sizes[3], sizes[0])
	}
	if sizes[9] != sizes[3] {
		t.Errorf("size after 10 messages %d, after 4 %d: the window holds 4, so they must be equal", sizes[9], sizes[3])
	}
}
