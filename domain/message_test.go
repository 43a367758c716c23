package domain_test

import (
	"strings"
	"testing"

	"github.com/uuchat/groupchat/domain"
)

func TestPostMessage(t *testing.T) {
	team := createTeam()
	leave := func(jid string) domain.Command {
		return domain.RemoveMembers{By: jid, Members: []domain.MemberSelector{{JID: jid}}}
	}
	posted := func(e domain.MessagePosted) []domain.Event {
		e.At = now
		return []domain.Event{e}
	}
	runAccepted(t, []accepted{
		{
			name:    "a member posts; the event carries its mid",
			history: []domain.Command{team},
			cmd:     domain.PostMessage{Sender: alice, ID: "m1", Body: "hello"},
			want:    posted(domain.MessagePosted{ID: "m1", Sender: alice, MID: "alice", Body: "hello"}),
			then: func(t *testing.T, g *domain.Group) {
				want := domain.MessageRef{ID: "m1", Version: 1, Sender: alice}
				if got, ok := g.Recent(alice, "m1"); !ok || got != want {
					t.Errorf("Recent(alice, m1) = %+v, %v; want %+v (the message's archive version)", got, ok, want)
				}
			},
		},
		{
			name:    "the owner posts too",
			history: []domain.Command{team},
			cmd:     domain.PostMessage{Sender: owner, Body: "welcome"},
			want:    posted(domain.MessagePosted{Sender: owner, MID: "boss", Body: "welcome"}),
		},
		{
			name:    "a message with extensions and no body is a message",
			history: []domain.Command{team},
			cmd:     domain.PostMessage{Sender: alice, Payload: `<reactions xmlns="urn:xmpp:reactions:0" id="x"/>`},
			want:    posted(domain.MessagePosted{Sender: alice, MID: "alice", Payload: `<reactions xmlns="urn:xmpp:reactions:0" id="x"/>`}),
		},
		{
			name:    "a body of exactly MaxBodyBytes bytes is accepted",
			lim:     withLimits(func(l *domain.Limits) { l.MaxBodyBytes = 4 }),
			history: []domain.Command{team},
			cmd:     domain.PostMessage{Sender: alice, Body: "éé"},
			want:    posted(domain.MessagePosted{Sender: alice, MID: "alice", Body: "éé"}),
		},
		{
			name:    "mentions keep members only, once each, in order",
			history: []domain.Command{team},
			cmd:     domain.PostMessage{Sender: alice, Body: "@all", Mentions: []string{bob, stranger, admin, bob, "", alice}},
			want:    posted(domain.MessagePosted{Sender: alice, MID: "alice", Body: "@all", Mentions: []string{bob, admin, alice}}),
		},
		{
			name:    "mentions of nobody in the group leave none",
			history: []domain.Command{team},
			cmd:     domain.PostMessage{Sender: alice, Body: "hey", Mentions: []string{stranger}},
			want:    posted(domain.MessagePosted{Sender: alice, MID: "alice", Body: "hey"}),
		},
		{
			name:    "a mention of a member who left is dropped",
			history: []domain.Command{team, leave(bob)},
			cmd:     domain.PostMessage{Sender: alice, Body: "bob?", Mentions: []string{bob}},
			want:    posted(domain.MessagePosted{Sender: alice, MID: "alice", Body: "bob?"}),
		},
		{
			name:    "a mid names the member with it, in normal form (XEP-0372 occupant references)",
			history: []domain.Command{team},
			cmd:     domain.PostMessage{Sender: alice, Body: "boss, Ada", MentionMIDs: []string{"ｂｏｓｓ", "adm"}},
			want:    posted(domain.MessagePosted{Sender: alice, MID: "alice", Body: "boss, Ada", Mentions: []string{owner, admin}}),
		},
		{
			name:    "a member named by JID and by mid counts once",
			history: []domain.Command{team},
			cmd:     domain.PostMessage{Sender: alice, Body: "bob!", Mentions: []string{bob}, MentionMIDs: []string{"bob"}},
			want:    posted(domain.MessagePosted{Sender: alice, MID: "alice", Body: "bob!", Mentions: []string{bob}}),
		},
		{
			name:    "a mid no member has, or one whose member left, mentions nobody",
			history: []domain.Command{team, leave(bob)},
			cmd:     domain.PostMessage{Sender: alice, Body: "anyone?", MentionMIDs: []string{"nobody", "bob"}},
			want:    posted(domain.MessagePosted{Sender: alice, MID: "alice", Body: "anyone?"}),
		},
		{
			name:    "a correction keeps its kind and its mentions; counting them is the read model's rule",
			history: []domain.Command{team},
			cmd: domain.PostMessage{Sender: alice, ID: "good1", Body: "But soft, bob", Mentions: []string{bob},
				Payload: `<replace xmlns="urn:xmpp:message-correct:0" id="bad1"/>`, Kind: domain.Correction},
			want: posted(domain.MessagePosted{ID: "good1", Sender: alice, MID: "alice", Body: "But soft, bob", Mentions: []string{bob},
				Payload: `<replace xmlns="urn:xmpp:message-correct:0" id="bad1"/>`, Kind: domain.Correction}),
		},
		{
			name:    "a different sender with the same id is not a duplicate",
			history: []domain.Command{team, domain.PostMessage{Sender: alice, ID: "m1", Body: "hello"}},
			cmd:     domain.PostMessage{Sender: bob, ID: "m1", Body: "hello"},
			want:    posted(domain.MessagePosted{ID: "m1", Sender: bob, MID: "bob", Body: "hello"}),
		},
		{
			name:    "messages without an id are never duplicates",
			history: []domain.Command{team, domain.PostMessage{Sender: alice, Body: "ok"}},
			cmd:     domain.PostMessage{Sender: alice, Body: "ok"},
			want:    posted(domain.MessagePosted{Sender: alice, MID: "alice", Body: "ok"}),
		},
		{
			name: "a resend of a message pushed out of the dedup window is a new message",
			lim:  withLimits(func(l *domain.Limits) { l.DedupWindow = 2 }),
			history: []domain.Command{team,
				domain.PostMessage{Sender: alice, ID: "m1", Body: "one"},
				domain.PostMessage{Sender: alice, ID: "m2", Body: "two"},
				domain.PostMessage{Sender: alice, ID: "m3", Body: "three"}},
			cmd:  domain.PostMessage{Sender: alice, ID: "m1", Body: "one"},
			want: posted(domain.MessagePosted{ID: "m1", Sender: alice, MID: "alice", Body: "one"}),
		},
	})
	runRefused(t, []refused{
		{name: "a non-member may not post", history: []domain.Command{team},
			cmd: domain.PostMessage{Sender: stranger, Body: "hi"}, want: domain.KindNotMember},
		{name: "a member who left may not post", history: []domain.Command{team, leave(bob)},
			cmd: domain.PostMessage{Sender: bob, Body: "hi"}, want: domain.KindNotMember},
		{name: "a removed member may not resend what it posted before", history: []domain.Command{team,
			domain.PostMessage{Sender: bob, ID: "m1", Body: "hi"}, domain.RemoveMembers{By: owner, Members: []domain.MemberSelector{{JID: bob}}}},
			cmd: domain.PostMessage{Sender: bob, ID: "m1", Body: "hi"}, want: domain.KindNotMember},
		{name: "posting to an unknown group is not found",
			cmd: domain.PostMessage{Sender: alice, Body: "hi"}, want: domain.KindNotFound},
		{name: "an empty message is a bad request", history: []domain.Command{team},
			cmd: domain.PostMessage{Sender: alice, ID: "m1"}, want: domain.KindBadRequest},
		{name: "a body over MaxBodyBytes bytes is over a limit", history: []domain.Command{team},
			lim: withLimits(func(l *domain.Limits) { l.MaxBodyBytes = 4 }),
			cmd: domain.PostMessage{Sender: alice, Body: "ééx"}, want: domain.KindLimit},
		{name: "a body over the default 64 KiB is over a limit", history: []domain.Command{team},
			cmd: domain.PostMessage{Sender: alice, Body: strings.Repeat("x", 64<<10+1)}, want: domain.KindLimit},
		{name: "extensions over MaxPayloadBytes are over a limit", history: []domain.Command{team},
			lim: withLimits(func(l *domain.Limits) { l.MaxPayloadBytes = 8 }),
			cmd: domain.PostMessage{Sender: alice, Body: "hi", Payload: "<x>long</x>"}, want: domain.KindLimit},
	})
}

func TestResendIsRecognised(t *testing.T) {
	lim := domain.DefaultLimits()
	lim.DedupWindow = 3
	cases := []struct {
		name     string
		history  []domain.Command
		resend   domain.PostMessage
		original domain.MessageRef
	}{
		{
			name:     "the same sender resending the same id gets the original version back",
			history:  []domain.Command{domain.PostMessage{Sender: alice, ID: "m1", Body: "hello"}},
			resend:   domain.PostMessage{Sender: alice, ID: "m1", Body: "hello"},
			original: domain.MessageRef{ID: "m1", Version: 1, Sender: alice},
		},
		{
			name: "a resend is recognised by sender and id alone, whatever its body",
			history: []domain.Command{domain.PostMessage{Sender: alice, ID: "m1", Body: "hello"},
				domain.PostMessage{Sender: bob, ID: "m2", Body: "hi"}},
			resend:   domain.PostMessage{Sender: alice, ID: "m1", Body: "hello, edited"},
			original: domain.MessageRef{ID: "m1", Version: 1, Sender: alice},
		},
		{
			name: "a resend names the original even if it would now be refused as empty",
			history: []domain.Command{domain.PostMessage{Sender: alice, ID: "m1", Body: "hello"},
				domain.PostMessage{Sender: bob, ID: "m1", Body: "hi"}},
			resend:   domain.PostMessage{Sender: bob, ID: "m1"},
			original: domain.MessageRef{ID: "m1", Version: 2, Sender: bob},
		},
		{
			name: "the newest DedupWindow messages are remembered, the oldest evicted first",
			history: []domain.Command{
				domain.PostMessage{Sender: alice, ID: "m1", Body: "1"},
				domain.PostMessage{Sender: alice, ID: "m2", Body: "2"},
				domain.PostMessage{Sender: alice, ID: "m3", Body: "3"},
				domain.PostMessage{Sender: alice, ID: "m4", Body: "4"}},
			resend:   domain.PostMessage{Sender: alice, ID: "m2", Body: "2"},
			original: domain.MessageRef{ID: "m2", Version: 2, Sender: alice},
		},
		{
			name: "a resend the window forgot is recognised by the original the caller found in the archive",
			history: []domain.Command{
				domain.PostMessage{Sender: alice, ID: "m1", Body: "1"},
				domain.PostMessage{Sender: alice, ID: "m2", Body: "2"},
				domain.PostMessage{Sender: alice, ID: "m3", Body: "3"},
				domain.PostMessage{Sender: alice, ID: "m4", Body: "4"}},
			resend:   domain.PostMessage{Sender: alice, OriginID: "o1", ID: "m9", Body: "1", Resent: &domain.MessageRef{ID: "m1", Version: 1, Sender: alice}},
			original: domain.MessageRef{ID: "m1", Version: 1, Sender: alice},
		},
		{
			name: "a member who left and came back is still recognised",
			history: []domain.Command{
				domain.PostMessage{Sender: bob, ID: "m1", Body: "1"},
				domain.RemoveMembers{By: bob, Members: []domain.MemberSelector{{JID: bob}}},
				domain.AddMembers{By: owner, Members: []domain.Member{{JID: bob}}}},
			resend:   domain.PostMessage{Sender: bob, ID: "m1", Body: "1"},
			original: domain.MessageRef{ID: "m1", Version: 1, Sender: bob},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := build(t, lim, append([]domain.Command{createTeam()}, tc.history...)...)
			version := g.Version()
			d, err := domain.Decide(g, tc.resend, now, lim)
			if err != nil {
				t.Fatalf("the resend %+v was refused: %v", tc.resend, err)
			}
			if len(d.Events) != 0 {
				t.Errorf("the resend yielded events %+v, want none (nothing is stored twice)", d.Events)
			}
			if d.Duplicate == nil {
				t.Fatalf("the resend was not recognised, want a duplicate of %+v", tc.original)
			}
			if *d.Duplicate != tc.original {
				t.Errorf("the resend duplicates %+v, want %+v", *d.Duplicate, tc.original)
			}
			if g.Version() != version {
				t.Errorf("deciding a resend moved the version from %d to %d", version, g.Version())
			}
		})
	}

	t.Run("an archived original of another sender is not a resend", func(t *testing.T) {
		g := build(t, lim, createTeam(), domain.PostMessage{Sender: bob, ID: "m1", Body: "1"})
		d := decideOK(t, g, domain.PostMessage{Sender: alice, ID: "m1", Body: "mine", Resent: &domain.MessageRef{ID: "m1", Version: 1, Sender: bob}}, lim)
		if d.Duplicate != nil || len(d.Events) != 1 {
			t.Errorf("alice's message was taken for bob's: duplicate %+v, events %+v", d.Duplicate, d.Events)
		}
	})

	t.Run("the newest message out of the window is remembered as forgotten", func(t *testing.T) {
		g := build(t, lim, createTeam())
		for i, id := range []string{"m1", "m2", "m3", "m4", "m5"} {
			g = apply(g, decideOK(t, g, domain.PostMessage{Sender: alice, ID: id, Body: id}, lim))
			v, ok := g.Forgotten()
			// createTeam is version 0; m1 is version 1.
			wantOK := i >= lim.DedupWindow
			wantV := uint64(i + 1 - lim.DedupWindow)
			if ok != wantOK || (ok && v != wantV) {
				t.Errorf("after %s, Forgotten() = %d, %v; want %d, %v", id, v, ok, wantV, wantOK)
			}
		}
	})

	t.Run("eviction is by age, one message at a time", func(t *testing.T) {
		g := build(t, lim, createTeam())
		for i, id := range []string{"m1", "m2", "m3", "m4", "m5"} {
			g = apply(g, decideOK(t, g, domain.PostMessage{Sender: alice, ID: id, Body: id}, lim))
			for j, older := range []string{"m1", "m2", "m3", "m4", "m5"}[:i+1] {
				_, remembered := g.Recent(alice, older)
				if want := i-j < lim.DedupWindow; remembered != want {
					t.Errorf("after posting %s, Recent(alice, %s) = %v, want %v (window %d)", id, older, remembered, want, lim.DedupWindow)
				}
			}
		}
	})
}

func decideOK(t *testing.T, g *domain.Group, cmd domain.Command, lim domain.Limits) domain.Decision {
	t.Helper()
	d, err := domain.Decide(g, cmd, now, lim)
	if err != nil {
		t.Fatalf("%T %+v was refused: %v", cmd, cmd, err)
	}
	return d
}

func TestMarkRead(t *testing.T) {
	team := createTeam()
	// Versions: 0 created, 1 and 2 posted, 3 a member added.
	history := []domain.Command{team,
		domain.PostMessage{Sender: alice, ID: "m1", Body: "one"},
		domain.PostMessage{Sender: bob, ID: "m2", Body: "two"},
		domain.AddMembers{By: owner, Members: []domain.Member{{JID: carol}}},
	}
	m1 := domain.MessageRef{ID: "m1", Version: 1, Sender: alice}
	runAccepted(t, []accepted{
		{
			name:    "everything so far reads up to the last version",
			history: history,
			cmd:     domain.MarkRead{Reader: bob},
			want:    []domain.Event{domain.MessageRead{Reader: bob, MID: "bob", Upto: 3, At: now}},
		},
		{
			name:    "everything so far in a group with no message reads up to its creation",
			history: []domain.Command{team},
			cmd:     domain.MarkRead{Reader: alice},
			want:    []domain.Event{domain.MessageRead{Reader: alice, MID: "alice", Upto: 0, At: now}},
		},
		{
			name:    "naming a message reads up to its version",
			history: history,
			cmd:     domain.MarkRead{Reader: bob, Message: &m1},
			want:    []domain.Event{domain.MessageRead{Reader: bob, MID: "bob", Message: &m1, Upto: 1, At: now}},
		},
		{
			name:    "a member added after a message may still say it read it",
			history: history,
			cmd:     domain.MarkRead{Reader: carol, Message: &domain.MessageRef{ID: "m2", Version: 2, Sender: bob}},
			want: []domain.Event{domain.MessageRead{Reader: carol, MID: "carol", At: now, Upto: 2,
				Message: &domain.MessageRef{ID: "m2", Version: 2, Sender: bob}}},
		},
	})
	runRefused(t, []refused{
		{name: "a version beyond the stream is not found", history: history,
			cmd: domain.MarkRead{Reader: bob, Message: &domain.MessageRef{ID: "m9", Version: 99, Sender: alice}}, want: domain.KindNotFound},
		{name: "the next version, not yet written, is not found", history: history,
			cmd: domain.MarkRead{Reader: bob, Message: &domain.MessageRef{Version: 4}}, want: domain.KindNotFound},
		{name: "a non-member may not read", history: history,
			cmd: domain.MarkRead{Reader: stranger}, want: domain.KindNotMember},
		{name: "reading an unknown group is not found",
			cmd: domain.MarkRead{Reader: alice}, want: domain.KindNotFound},
	})

	t.Run("the event keeps its own copy of the named message", func(t *testing.T) {
		lim := domain.DefaultLimits()
		g := build(t, lim, history...)
		ref := m1
		d := decideOK(t, g, domain.MarkRead{Reader: bob, Message: &ref}, lim)
		ref.Version = 3
		if got := d.Events[0].(domain.MessageRead); got.Message.Version != 1 || got.Upto != 1 {
			t.Errorf("changing the caller's ref after Decide changed the event to %+v / %+v", got, *got.Message)
		}
	})
}
