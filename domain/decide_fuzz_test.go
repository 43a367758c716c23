package domain

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// fuzzLimits are small so that random programs reach every limit.
var fuzzLimits = Limits{
	MaxNameChars:    8,
	MaxBodyBytes:    16,
	MaxPayloadBytes: 16,
	MaxMembers:      4,
	MaxMIDChars:     6,
	MaxNickChars:    6,
	DedupWindow:     3,
}

// program turns fuzz bytes into commands, each parameter picked from a small
// pool of valid and invalid values so that the rules are hit often.
type program struct{ b []byte }

func (p *program) more() bool { return len(p.b) > 0 }

func (p *program) next() int {
	if len(p.b) == 0 {
		return 0
	}
	v := p.b[0]
	p.b = p.b[1:]
	return int(v)
}

func pick[T any](p *program, pool ...T) T { return pool[p.next()%len(pool)] }

var (
	fuzzJIDs  = []string{"owner@x", "admin@x", "alice@x", "alice@y", "bob@x", "carolinabella@x", "", "x"}
	fuzzMIDs  = []string{"", "", "", "boss", "alice", "alice-2", " bad", "toolongmid", "ａｌｉｃｅ", "bo\u200bss"}
	fuzzNicks = []string{"", "", "Nick", " ", "n\n", "waytoolong", "Ｎｉｃｋ", "Ni\u00adck"}
	fuzzRoles = []Role{"", "", RoleMember, RoleAdmin, RoleOwner, "king"}
	fuzzMsgs  = []string{"", "m1", "m2", "m3", "m4", "m5"}
)

func (p *program) jid() string { return pick(p, fuzzJIDs...) }

func (p *program) members() []Member {
	ms := make([]Member, p.next()%4)
	for i := range ms {
		ms[i] = Member{JID: p.jid(), MID: pick(p, fuzzMIDs...), Nick: pick(p, fuzzNicks...), Role: pick(p, fuzzRoles...)}
	}
	return ms
}

func (p *program) command() Command {
	op := p.next()
	var cmd Command
	switch op % 8 {
	case 0:
		cmd = CreateGroup{
			GroupID: pick(p, "team", "team", "Team", ""),
			Name:    pick(p, "Team", "T", "", "   ", "a\tb", "waytoolongname"),
			Type:    pick(p, "", TypeCustomized, TypeSystem, "secret"),
			Creator: Member{JID: p.jid(), MID: pick(p, fuzzMIDs...), Nick: pick(p, fuzzNicks...)},
			Members: p.members(),
		}
	case 1:
		cmd = UpdateGroup{By: p.jid(), Name: pick(p, "", "Team", "New", " ", "waytoolongname"), NewOwner: pick(p, append([]string{"", ""}, fuzzJIDs...)...)}
	case 2:
		cmd = DeleteGroup{By: p.jid()}
	case 3:
		cmd = AddMembers{By: p.jid(), Members: p.members()}
	case 4:
		sels := make([]MemberSelector, p.next()%3)
		for i := range sels {
			switch p.next() % 4 {
			case 0:
				sels[i].JID = p.jid()
			case 1:
				sels[i].MID = pick(p, fuzzMIDs...)
			case 2:
				sels[i].Nick = pick(p, fuzzNicks...)
			}
		}
		cmd = RemoveMembers{By: p.jid(), Members: sels}
	case 5, 6:
		var mentions []string
		for range p.next() % 4 {
			mentions = append(mentions, p.jid())
		}
		cmd = PostMessage{Sender: p.jid(), ID: pick(p, fuzzMsgs...), Body: pick(p, "hi", "", "hello", strings.Repeat("x", 17)),
			Payload: pick(p, "", "", "<x/>", strings.Repeat("<y/>", 5)), Mentions: mentions}
	case 7:
		c := MarkRead{Reader: p.jid()}
		if v := p.next(); v%2 == 1 {
			c.Message = &MessageRef{ID: pick(p, fuzzMsgs...), Version: uint64(v / 2), Sender: p.jid()}
		}
		cmd = c
	}
	if op >= 0xf0 {
		return pointerToCommand(cmd) // callers may hand commands by pointer
	}
	return cmd
}

func pointerToCommand(cmd Command) Command {
	switch c := cmd.(type) {
	case CreateGroup:
		return &c
	case UpdateGroup:
		return &c
	case DeleteGroup:
		return &c
	case AddMembers:
		return &c
	case RemoveMembers:
		return &c
	case PostMessage:
		return &c
	case MarkRead:
		return &c
	}
	return cmd
}

// step is one command of a program and what Decide made of it.
type step struct {
	cmd Command
	d   Decision
	err error
}

// snapshot is a deep copy of g that reflect.DeepEqual compares with g itself.
func snapshot(g *Group) Group {
	s := *g
	s.members = slices.Clone(g.members)
	s.byJID = maps.Clone(g.byJID)
	s.byMID = maps.Clone(g.byMID)
	s.recent = maps.Clone(g.recent)
	s.ring = slices.Clone(g.ring)
	return s
}

// FuzzDecide runs random command programs against one group and checks,
// after every command, that Decide left the state it was given alone and
// that the group the accepted events build keeps its invariants: exactly one
// owner while it exists, unique and valid jids and mids, no more members than
// the limit, a version that counts events, and resends recognised within the
// dedup window. At the end the group rebuilt from the stored encoding of its
// events equals the one built incrementally.
func FuzzDecide(f *testing.F) {
	f.Add([]byte{})
	// create team by owner@x with alice@x and bob@x; alice posts m1; alice
	// resends m1; owner hands over to alice; alice deletes.
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 4, 0, 0, 0, 5, 0, 2, 1, 0, 0, 5, 0, 2, 1, 0, 0, 1, 0, 0, 4, 2, 2})
	rng := rand.New(rand.NewPCG(7, 11))
	for range 8 {
		seed := make([]byte, 40+rng.IntN(200))
		for i := range seed {
			seed[i] = byte(rng.Uint32())
		}
		seed[0] = 0 // start with a create
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, code []byte) {
		lim := fuzzLimits
		p := &program{b: code}
		g := NewGroup(lim)
		var (
			stored []Event
			steps  []step
			// latest archive version of each (sender, id), and the order in
			// which ids were posted, to know what the window must hold.
			posted = map[dedupKey]uint64{}
			order  []dedupKey
		)
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("CET", 3600))
		fail := func(format string, args ...any) {
			t.Helper()
			var b strings.Builder
			for _, s := range steps {
				fmt.Fprintf(&b, "\n  %T%+v -> %+v, duplicate of %v, %v", s.cmd, s.cmd, s.d.Events, s.d.Duplicate, s.err)
			}
			t.Fatalf("%s\nafter the program:%s", fmt.Sprintf(format, args...), b.String())
		}
		for n := 0; p.more() && n < 100; n++ {
			cmd := p.command()
			at = at.Add(time.Second)
			before := snapshot(g)
			d, err := Decide(g, cmd, at, lim)
			steps = append(steps, step{cmd, d, err})
			if after := snapshot(g); !reflect.DeepEqual(after, before) {
				fail("Decide changed the state it was given\nbefore %+v\n after %+v", before, after)
			}
			switch {
			case err != nil:
				if KindOf(err) == 0 {
					fail("refused without a kind: %v", err)
				}
				if len(d.Events) != 0 || d.Duplicate != nil {
					fail("a refusal came with a decision %+v", d)
				}
				continue
			case d.Duplicate != nil:
				post, ok := commandValue(cmd).(PostMessage)
				if !ok {
					fail("a %T was taken for a duplicate", cmd)
				}
				if len(d.Events) != 0 {
					fail("a resend yielded events %+v", d.Events)
				}
				if v, ok := posted[dedupKey{post.Sender, post.ID}]; !ok || *d.Duplicate != (MessageRef{ID: post.ID, Version: v, Sender: post.Sender}) {
					fail("the resend names %+v, but that message was posted at version %d (%v)", *d.Duplicate, v, ok)
				}
				continue
			case len(d.Events) != 1:
				fail("an accepted command yielded %d events, want 1", len(d.Events))
			}
			for _, e := range d.Events {
				if !e.OccurredAt().Equal(at) || e.OccurredAt().Location() != time.UTC {
					fail("the event happened at %v, want %v in UTC", e.OccurredAt(), at)
				}
				if m, ok := e.(MessagePosted); ok && m.ID != "" {
					k := dedupKey{m.Sender, m.ID}
					posted[k] = g.Version()
					order = append(order, k)
				}
				g.Apply(e)
				stored = append(stored, e)
			}
			checkGroup(t, g, lim, fail)
			if g.Version() != uint64(len(stored)) {
				fail("Version() = %d after %d events", g.Version(), len(stored))
			}
			for i, k := range order {
				inWindow := i >= len(order)-lim.DedupWindow
				ref, ok := g.Recent(k.sender, k.id)
				if inWindow && (!ok || ref.Version != posted[k]) {
					fail("message %v, posted at version %d, is within the last %d but Recent gives %+v, %v", k, posted[k], lim.DedupWindow, ref, ok)
				}
				if !inWindow && ok && !slices.Contains(order[len(order)-lim.DedupWindow:], k) {
					fail("message %v fell out of the window of %d but Recent still gives %+v", k, lim.DedupWindow, ref)
				}
			}
		}

		replayed := NewGroup(lim)
		for _, e := range stored {
			typ, data, err := EncodeEvent(e)
			if err != nil {
				fail("EncodeEvent(%+v): %v", e, err)
			}
			back, err := DecodeEvent(typ, data)
			if err != nil {
				fail("DecodeEvent(%s, %s): %v", typ, data, err)
			}
			if !reflect.DeepEqual(back, e) {
				fail("the event %#v came back from the store as %#v", e, back)
			}
			replayed.Apply(back)
		}
		if a, b := snapshot(replayed), snapshot(g); !reflect.DeepEqual(a, b) {
			fail("replaying the stored events built\n %+v\nbut deciding them built\n %+v", a, b)
		}
	})
}

// checkGroup fails unless g holds the invariants every decided history keeps.
func checkGroup(t *testing.T, g *Group, lim Limits, fail func(string, ...any)) {
	t.Helper()
	if !g.Created() {
		fail("an event was stored but the group was never created")
	}
	if g.Deleted() {
		if g.Exists() {
			fail("a deleted group still exists")
		}
		return
	}
	if ok, _ := validText(g.Name(), lim.MaxNameChars); !ok || !ValidGroupID(g.ID()) {
		fail("the group has id %q and name %q", g.ID(), g.Name())
	}
	ms := g.Members()
	if len(ms) == 0 || len(ms) > lim.MaxMembers {
		fail("the group has %d members, want 1 to %d", len(ms), lim.MaxMembers)
	}
	owners := 0
	jids, mids := map[string]bool{}, map[string]bool{}
	for i, m := range ms {
		switch m.Role {
		case RoleOwner:
			owners++
		case RoleAdmin, RoleMember:
		default:
			fail("member %+v has role %q", m, m.Role)
		}
		if m.JID == "" || jids[m.JID] {
			fail("member %+v: jid empty or held twice in %+v", m, ms)
		}
		if mid, err := NormalizeMID(m.MID); err != nil || mid != m.MID || tooLong(mid, lim.MaxMIDChars) || mids[m.MID] {
			fail("member %+v: mid invalid, not normalized, over %d characters or held twice in %+v", m, lim.MaxMIDChars, ms)
		}
		if nick, err := NormalizeNick(m.Nick); err != nil || nick != m.Nick || tooLong(nick, lim.MaxNickChars) {
			fail("member %+v: nick invalid, not normalized or over %d characters", m, lim.MaxNickChars)
		}
		jids[m.JID], mids[m.MID] = true, true
		if got, ok := g.Member(m.JID); !ok || got != m {
			fail("Member(%q) = %+v, %v; want %+v", m.JID, got, ok, m)
		}
		if got, ok := g.MemberByMID(m.MID); !ok || got != m {
			fail("MemberByMID(%q) = %+v, %v; want %+v", m.MID, got, ok, m)
		}
		if g.byJID[m.JID] != i || g.byMID[m.MID] != i {
			fail("the indexes of %+v point at %d and %d, want %d", m, g.byJID[m.JID], g.byMID[m.MID], i)
		}
	}
	if owners != 1 {
		fail("the group has %d owners, want exactly one: %+v", owners, ms)
	}
	if len(g.byJID) != len(ms) || len(g.byMID) != len(ms) {
		fail("the indexes hold %d jids and %d mids for %d members", len(g.byJID), len(g.byMID), len(ms))
	}
}
