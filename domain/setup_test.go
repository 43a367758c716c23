package domain_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
)

// The people of the tests, by bare JID.
const (
	owner    = "owner@example.org"
	admin    = "admin@example.org"
	alice    = "alice@example.org"
	bob      = "bob@example.org"
	carol    = "carol@example.org"
	stranger = "stranger@example.org"
)

// now is when the command under test is decided; the history before it is
// decided a little earlier.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// createTeam makes the group most cases start from: an owner, an admin and
// two plain members, each with a mid and a nick.
func createTeam() domain.CreateGroup {
	return domain.CreateGroup{
		GroupID: "team",
		Name:    "Team",
		Creator: domain.Member{JID: owner, MID: "boss", Nick: "Boss"},
		Members: []domain.Member{
			{JID: admin, MID: "adm", Nick: "Ada", Role: domain.RoleAdmin},
			{JID: alice, MID: "alice", Nick: "Alice"},
			{JID: bob, MID: "bob", Nick: "Bob"},
		},
	}
}

// teamMembers is the membership createTeam yields.
func teamMembers() []domain.Member {
	return []domain.Member{
		{JID: owner, MID: "boss", Nick: "Boss", Role: domain.RoleOwner},
		{JID: admin, MID: "adm", Nick: "Ada", Role: domain.RoleAdmin},
		{JID: alice, MID: "alice", Nick: "Alice", Role: domain.RoleMember},
		{JID: bob, MID: "bob", Nick: "Bob", Role: domain.RoleMember},
	}
}

// build returns the state of a group after the given history; every command
// of the history must be accepted.
func build(t testing.TB, lim domain.Limits, history ...domain.Command) *domain.Group {
	t.Helper()
	g := domain.NewGroup(lim)
	for i, cmd := range history {
		at := now.Add(time.Duration(i-len(history)) * time.Minute)
		d, err := domain.Decide(g, cmd, at, lim)
		if err != nil {
			t.Fatalf("history step %d, %T %+v: refused: %v", i, cmd, cmd, err)
		}
		for _, e := range d.Events {
			g = domain.Evolve(g, e)
		}
	}
	return g
}

// apply evolves g by a decision's events and returns it.
func apply(g *domain.Group, d domain.Decision) *domain.Group {
	for _, e := range d.Events {
		g = domain.Evolve(g, e)
	}
	return g
}

// accepted is a command the rules accept, with the events it must yield and,
// optionally, what must hold of the group afterwards.
type accepted struct {
	name    string
	lim     *domain.Limits // nil: the default limits
	history []domain.Command
	cmd     domain.Command
	want    []domain.Event
	then    func(t *testing.T, g *domain.Group)
}

func runAccepted(t *testing.T, cases []accepted) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lim := domain.DefaultLimits()
			if tc.lim != nil {
				lim = *tc.lim
			}
			g := build(t, lim, tc.history...)
			d, err := domain.Decide(g, tc.cmd, now, lim)
			if err != nil {
				t.Fatalf("%T %+v was refused: %v", tc.cmd, tc.cmd, err)
			}
			if d.Duplicate != nil {
				t.Fatalf("%T %+v was taken for a duplicate of %+v", tc.cmd, tc.cmd, *d.Duplicate)
			}
			if !reflect.DeepEqual(d.Events, tc.want) {
				t.Fatalf("%T %+v\n yielded %+v\n    want %+v", tc.cmd, tc.cmd, d.Events, tc.want)
			}
			g = apply(g, d)
			checkOneOwner(t, g)
			if tc.then != nil {
				tc.then(t, g)
			}
		})
	}
}

// refused is a command the rules refuse, with the kind of the refusal.
type refused struct {
	name    string
	lim     *domain.Limits // nil: the default limits
	history []domain.Command
	cmd     domain.Command
	want    domain.Kind
}

func runRefused(t *testing.T, cases []refused) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lim := domain.DefaultLimits()
			if tc.lim != nil {
				lim = *tc.lim
			}
			g := build(t, lim, tc.history...)
			d, err := domain.Decide(g, tc.cmd, now, lim)
			if err == nil {
				t.Fatalf("%T %+v was accepted (events %+v), want a %q refusal", tc.cmd, tc.cmd, d.Events, tc.want)
			}
			var de *domain.Error
			if !errors.As(err, &de) {
				t.Fatalf("%T %+v was refused with %v (%T), want a *domain.Error of kind %q", tc.cmd, tc.cmd, err, err, tc.want)
			}
			if de.Kind != tc.want {
				t.Fatalf("%T %+v was refused as %q (%v), want %q", tc.cmd, tc.cmd, de.Kind, err, tc.want)
			}
			if de.Text == "" {
				t.Errorf("the %q refusal says nothing to the person who made it", de.Kind)
			}
			if len(d.Events) != 0 || d.Duplicate != nil {
				t.Errorf("a refused command still yielded %+v", d)
			}
		})
	}
}

// checkOneOwner fails unless an existing group has exactly one owner.
func checkOneOwner(t *testing.T, g *domain.Group) {
	t.Helper()
	if !g.Exists() {
		return
	}
	var owners []string
	for _, m := range g.Members() {
		if m.Role == domain.RoleOwner {
			owners = append(owners, m.JID)
		}
	}
	if len(owners) != 1 {
		t.Errorf("the group has owners %q, want exactly one", owners)
	}
}

// wantMembers fails unless g has exactly the given members, in order.
func wantMembers(want ...domain.Member) func(t *testing.T, g *domain.Group) {
	return func(t *testing.T, g *domain.Group) {
		t.Helper()
		if got := g.Members(); !reflect.DeepEqual(got, want) {
			t.Errorf("members are\n %+v\nwant\n %+v", got, want)
		}
	}
}

// withLimits returns the default limits changed by f.
func withLimits(f func(*domain.Limits)) *domain.Limits {
	lim := domain.DefaultLimits()
	f(&lim)
	return &lim
}
