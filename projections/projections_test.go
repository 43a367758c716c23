package projections_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/projections"
	"github.com/uuchat/groupchat/projections/projectionstest"
)

const (
	alice = "alice@example.org"
	bob   = "bob@example.org"
	carol = "carol@example.org"
	dave  = "dave@example.org"
)

func openDB(t testing.TB) *projections.DB {
	t.Helper()
	db, err := projections.Open(filepath.Join(t.TempDir(), "projections.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func apply(t testing.TB, db *projections.DB, events []eventstore.RecordedEvent) {
	t.Helper()
	if err := db.Apply(context.Background(), events); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func dump(t testing.TB, db *projections.DB) map[string][]string {
	t.Helper()
	d, err := db.Dump(context.Background())
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	return d
}

// newGroup starts a log with group g of alice (owner), bob and carol.
func newGroup(t testing.TB) *projectionstest.Log {
	l := projectionstest.NewLog()
	l.Must(t, "g", domain.CreateGroup{GroupID: "g", Name: "Group", Creator: domain.Member{JID: alice, MID: "alice"},
		Members: []domain.Member{{JID: bob, MID: "bob"}, {JID: carol, MID: "carol"}}})
	return l
}

func post(l *projectionstest.Log, t testing.TB, from, id string, mentions ...string) uint64 {
	evs := l.Must(t, "g", domain.PostMessage{Sender: from, ID: id, Body: "text", Mentions: mentions})
	return evs[0].Version
}

// amend posts a message of kind k (a correction, a reaction) naming the
// message id it amends, as XEP-0308 and XEP-0444 send them.
func amend(l *projectionstest.Log, t testing.TB, from string, k domain.MessageKind, of string, mentions ...string) uint64 {
	c := domain.PostMessage{Sender: from, Kind: k, Mentions: mentions}
	switch k {
	case domain.Correction:
		c.Body, c.Payload = "text, corrected", `<replace xmlns="urn:xmpp:message-correct:0" id="`+of+`"/>`
	case domain.Reaction:
		c.Payload = `<reactions xmlns="urn:xmpp:reactions:0" id="` + of + `"><reaction>👍</reaction></reactions>`
	}
	return l.Must(t, "g", c)[0].Version
}

func read(l *projectionstest.Log, t testing.TB, who string, upto *uint64) {
	cmd := domain.MarkRead{Reader: who}
	if upto != nil {
		cmd.Message = &domain.MessageRef{Version: *upto}
	}
	l.Must(t, "g", cmd)
}

func ptr(v uint64) *uint64 { return &v }

// TestCounters checks each counter rule of the product brief on a group of
// alice (owner), bob and carol created at version 0.
func TestCounters(t *testing.T) {
	type want struct {
		jid string
		projections.Counters
	}
	tests := []struct {
		name  string
		steps func(l *projectionstest.Log, t *testing.T)
		want  []want
	}{
		{
			name:  "a new group starts at zero, read up to its creation",
			steps: func(l *projectionstest.Log, t *testing.T) {},
			want:  []want{{alice, projections.Counters{}}, {bob, projections.Counters{}}},
		},
		{
			name: "own messages never count as unread",
			steps: func(l *projectionstest.Log, t *testing.T) {
				post(l, t, alice, "1")
				post(l, t, alice, "2")
				post(l, t, bob, "3")
			},
			want: []want{{alice, projections.Counters{Unread: 1}}, {bob, projections.Counters{Unread: 2}}, {carol, projections.Counters{Unread: 3}}},
		},
		{
			name: "a mention counts for the member with that bare JID, never the sender",
			steps: func(l *projectionstest.Log, t *testing.T) {
				post(l, t, alice, "1", bob, alice)
				post(l, t, carol, "2", bob, bob)
			},
			want: []want{
				{alice, projections.Counters{Unread: 1}},
				{bob, projections.Counters{Unread: 2, Mentions: 2}},
				{carol, projections.Counters{Unread: 1}},
			},
		},
		{
			name: "corrections and reactions are never unread, nor their mentions",
			steps: func(l *projectionstest.Log, t *testing.T) {
				post(l, t, alice, "1")
				amend(l, t, alice, domain.Correction, "1", bob)
				amend(l, t, bob, domain.Reaction, "1")
				amend(l, t, carol, domain.Reaction, "1")
			},
			want: []want{{alice, projections.Counters{}}, {bob, projections.Counters{Unread: 1}}, {carol, projections.Counters{Unread: 1}}},
		},
		{
			name: "a read recounts without corrections and reactions after it",
			steps: func(l *projectionstest.Log, t *testing.T) {
				m1 := post(l, t, alice, "1")
				post(l, t, alice, "2", bob)
				amend(l, t, alice, domain.Correction, "2", bob)
				amend(l, t, carol, domain.Reaction, "2")
				read(l, t, bob, &m1)
			},
			want: []want{{bob, projections.Counters{Unread: 1, Mentions: 1, ReadUpto: 1}}},
		},
		{
			name: "a stored signal is never unread",
			steps: func(l *projectionstest.Log, t *testing.T) {
				l.Must(t, "g", domain.PostMessage{Sender: alice, Payload: `<displayed xmlns="urn:xmpp:chat-markers:0" id="1"/><store xmlns="urn:xmpp:hints"/>`, Kind: domain.StoredSignal})
			},
			want: []want{{bob, projections.Counters{}}},
		},
		{
			name: "a new member starts at zero, read up to the version that added it",
			steps: func(l *projectionstest.Log, t *testing.T) {
				post(l, t, alice, "1", bob)
				post(l, t, bob, "2")
				l.Must(t, "g", domain.AddMembers{By: alice, Members: []domain.Member{{JID: dave}}}) // version 3
				post(l, t, bob, "3", dave)
			},
			want: []want{{dave, projections.Counters{Unread: 1, Mentions: 1, ReadUpto: 3}}},
		},
		{
			name: "reading everything clears the counters",
			steps: func(l *projectionstest.Log, t *testing.T) {
				post(l, t, alice, "1", bob)
				post(l, t, carol, "2")
				read(l, t, bob, nil) // version 3, up to 2
			},
			want: []want{{bob, projections.Counters{ReadUpto: 2}}, {carol, projections.Counters{Unread: 1}}},
		},
		{
			name: "reading up to a message leaves what others posted after it",
			steps: func(l *projectionstest.Log, t *testing.T) {
				m1 := post(l, t, alice, "1")
				post(l, t, alice, "2", bob)
				post(l, t, bob, "3")
				post(l, t, carol, "4", bob)
				read(l, t, bob, &m1)
			},
			want: []want{{bob, projections.Counters{Unread: 2, Mentions: 2, ReadUpto: 1}}},
		},
		{
			name: "an older read receipt does not move read-up-to back",
			steps: func(l *projectionstest.Log, t *testing.T) {
				post(l, t, alice, "1")
				m2 := post(l, t, alice, "2", bob)
				post(l, t, alice, "3")
				read(l, t, bob, &m2)
				read(l, t, bob, ptr(1))
			},
			want: []want{{bob, projections.Counters{Unread: 1, ReadUpto: 2}}},
		},
		{
			name: "messages after a read count again",
			steps: func(l *projectionstest.Log, t *testing.T) {
				post(l, t, alice, "1", bob)
				read(l, t, bob, nil)
				post(l, t, alice, "2", bob)
				post(l, t, bob, "3", bob)
			},
			want: []want{{bob, projections.Counters{Unread: 1, Mentions: 1, ReadUpto: 1}}},
		},
		{
			name: "a member removed and added again starts afresh",
			steps: func(l *projectionstest.Log, t *testing.T) {
				post(l, t, alice, "1", bob)
				l.Must(t, "g", domain.RemoveMembers{By: alice, Members: []domain.MemberSelector{{JID: bob}}}) // 2
				post(l, t, alice, "2", carol)
				l.Must(t, "g", domain.AddMembers{By: alice, Members: []domain.Member{{JID: bob}}}) // 4
			},
			want: []want{{bob, projections.Counters{ReadUpto: 4}}, {carol, projections.Counters{Unread: 2, Mentions: 1}}},
		},
		{
			name: "members who read up to different messages count what is after each",
			steps: func(l *projectionstest.Log, t *testing.T) {
				l.Must(t, "g", domain.AddMembers{By: alice, Members: []domain.Member{{JID: dave}}}) // 1
				post(l, t, alice, "1", carol)
				m3 := post(l, t, bob, "2", dave)
				post(l, t, carol, "3", bob, dave)
				m5 := post(l, t, dave, "4")
				post(l, t, alice, "5", bob)
				read(l, t, bob, &m3)
				read(l, t, dave, &m3)
				read(l, t, carol, &m5)
			},
			want: []want{
				{alice, projections.Counters{Unread: 3}},
				{bob, projections.Counters{Unread: 3, Mentions: 2, ReadUpto: 3}},
				{carol, projections.Counters{Unread: 1, ReadUpto: 5}},
				{dave, projections.Counters{Unread: 2, Mentions: 1, ReadUpto: 3}},
			},
		},
		{
			name: "a member's messages count for others after it left, its own never for it",
			steps: func(l *projectionstest.Log, t *testing.T) {
				post(l, t, bob, "1")
				l.Must(t, "g", domain.RemoveMembers{By: alice, Members: []domain.MemberSelector{{JID: bob}}}) // 2
				post(l, t, alice, "2", bob)
				l.Must(t, "g", domain.AddMembers{By: alice, Members: []domain.Member{{JID: bob}}}) // 4
				post(l, t, bob, "3", carol)
				post(l, t, alice, "4")
			},
			want: []want{{bob, projections.Counters{Unread: 1, ReadUpto: 4}}, {carol, projections.Counters{Unread: 4, Mentions: 1}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newGroup(t)
			tt.steps(l, t)
			db := openDB(t)
			apply(t, db, l.Events)
			for _, w := range tt.want {
				got, ok, err := db.Counters(context.Background(), "g", w.jid)
				if err != nil || !ok {
					t.Fatalf("Counters(%s) = %v, %v", w.jid, ok, err)
				}
				if got != w.Counters {
					t.Errorf("%s: counters %+v, want %+v", w.jid, got, w.Counters)
				}
			}
			// The same rules folded in memory give the same counters.
			if got, want := built(t, l.Events), dump(t, db); !reflect.DeepEqual(got, want) {
				t.Errorf("a rebuilt database differs:\nrebuilt %v\napplied %v", got["counters"], want["counters"])
			}
		})
	}
}

// built folds events with a Builder and dumps the file it writes.
func built(t testing.TB, events []eventstore.RecordedEvent) map[string][]string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "built.db")
	b, err := projections.NewBuilder(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		e, err := projections.Decode(ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Add(ev, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	db, err := projections.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return dump(t, db)
}

func TestApplyTwiceChangesNothing(t *testing.T) {
	l := newGroup(t)
	post(l, t, alice, "1", bob)
	read(l, t, bob, nil)
	db := openDB(t)
	apply(t, db, l.Events)
	before := dump(t, db)
	apply(t, db, l.Events)
	apply(t, db, l.Events[1:3])
	if after := dump(t, db); !reflect.DeepEqual(before, after) {
		t.Errorf("applying the same events again changed the tables:\nbefore %v\nafter  %v", before, after)
	}
	// A batch overlapping the checkpoint applies only its new part.
	post(l, t, carol, "2")
	apply(t, db, l.Events)
	if c, _, _ := db.Counters(context.Background(), "g", bob); c.Unread != 1 {
		t.Errorf("bob's unread after an overlapping batch = %d, want 1", c.Unread)
	}
	if cp, _ := db.Checkpoint(context.Background()); cp != uint64(len(l.Events)) {
		t.Errorf("checkpoint %d, want %d", cp, len(l.Events))
	}
}

func TestSpansFollowMembership(t *testing.T) {
	l := newGroup(t)
	post(l, t, alice, "1")                                                                        // 1
	l.Must(t, "g", domain.RemoveMembers{By: alice, Members: []domain.MemberSelector{{JID: bob}}}) // 2
	post(l, t, alice, "2")                                                                        // 3
	l.Must(t, "g", domain.AddMembers{By: alice, Members: []domain.Member{{JID: bob}}})            // 4
	post(l, t, alice, "3")                                                                        // 5
	l.Must(t, "g", domain.RemoveMembers{By: bob, Members: []domain.MemberSelector{{JID: bob}}})   // 6: leaves
	l.Must(t, "g", domain.AddMembers{By: alice, Members: []domain.Member{{JID: bob}}})            // 7
	db := openDB(t)
	apply(t, db, l.Events)
	ctx := context.Background()
	got, err := db.Spans(ctx, "g", bob)
	if err != nil {
		t.Fatal(err)
	}
	want := []projections.Span{{From: 0, To: 3}, {From: 4, To: 7}, {From: 7}}
	if !slices.Equal(got, want) {
		t.Fatalf("bob's spans %v, want %v", got, want)
	}
	// What bob may see: versions 0-2 (its removal included), 4-6, 7 on.
	for v, visible := range []bool{true, true, true, false, true, true, true, true} {
		seen := slices.ContainsFunc(got, func(s projections.Span) bool { return s.Contains(uint64(v)) })
		if seen != visible {
			t.Errorf("version %d visible to bob: %v, want %v", v, seen, visible)
		}
	}
	if got, _ := db.Spans(ctx, "g", alice); !slices.Equal(got, []projections.Span{{From: 0}}) {
		t.Errorf("alice's spans %v, want one open span from 0", got)
	}
	if got, _ := db.Spans(ctx, "g", dave); len(got) != 0 {
		t.Errorf("dave, never a member, has spans %v", got)
	}
}

func TestDirectory(t *testing.T) {
	ctx := context.Background()
	l := newGroup(t)
	l.Must(t, "h", domain.CreateGroup{GroupID: "h", Name: "Group", Creator: domain.Member{JID: bob}})
	l.Must(t, "k", domain.CreateGroup{GroupID: "k", Name: "Other", Type: domain.TypeSystem, Creator: domain.Member{JID: carol}, Members: []domain.Member{{JID: bob, Role: domain.RoleAdmin}}})
	post(l, t, alice, "x", bob)
	l.Must(t, "g", domain.UpdateGroup{By: alice, Name: "Renamed", NewOwner: bob})
	db := openDB(t)
	apply(t, db, l.Events)

	items, err := db.GroupsOf(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	want := []projections.GroupItem{
		{ID: "g", Name: "Renamed", Type: domain.TypeCustomized, Members: 3, Role: domain.RoleOwner, Unread: 1, Mentions: 1, Version: 2},
		{ID: "h", Name: "Group", Type: domain.TypeCustomized, Members: 1, Role: domain.RoleOwner, Version: 0},
		{ID: "k", Name: "Other", Type: domain.TypeSystem, Members: 2, Role: domain.RoleAdmin, Version: 0},
	}
	if !slices.Equal(items, want) {
		t.Errorf("GroupsOf(bob) =\n%+v\nwant\n%+v", items, want)
	}
	members, err := db.Members(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	wantMembers := []domain.Member{
		{JID: alice, MID: "alice", Nick: "alice", Role: domain.RoleAdmin},
		{JID: bob, MID: "bob", Nick: "bob", Role: domain.RoleOwner},
		{JID: carol, MID: "carol", Nick: "carol", Role: domain.RoleMember},
	}
	if !slices.Equal(members, wantMembers) || !slices.Equal(members, l.Group("g").Members()) {
		t.Errorf("Members(g) = %+v, want %+v (as the domain has them)", members, wantMembers)
	}

	// GroupByName answers the oldest live group of that name.
	if g, ok, err := db.GroupByName(ctx, "Group"); err != nil || !ok || g.ID != "h" {
		t.Errorf("GroupByName(Group) = %+v, %v, %v; want h (g was renamed)", g, ok, err)
	}
	l.Must(t, "j", domain.CreateGroup{GroupID: "j", Name: "Other", Creator: domain.Member{JID: dave}})
	l.Must(t, "k", domain.DeleteGroup{By: carol})
	apply(t, db, l.Events)
	if g, ok, err := db.GroupByName(ctx, "Other"); err != nil || !ok || g.ID != "j" {
		t.Errorf("GroupByName(Other) = %+v, %v, %v; want j, k being deleted", g, ok, err)
	}

	// A deleted group leaves the lists but keeps its entry.
	items, _ = db.GroupsOf(ctx, bob)
	if len(items) != 2 || items[0].ID != "g" || items[1].ID != "h" {
		t.Errorf("after deleting k, GroupsOf(bob) = %+v, want g and h", items)
	}
	info, ok, err := db.Group(ctx, "k")
	if err != nil || !ok || !info.Deleted || info.Owner != carol || info.Members != 2 || info.Version != 1 {
		t.Errorf("Group(k) = %+v, %v, %v; want a deleted entry owned by carol", info, ok, err)
	}
	if want := l.Now; !info.UpdatedAt.Equal(want) {
		t.Errorf("Group(k).UpdatedAt = %v, want %v", info.UpdatedAt, want)
	}
	if _, ok, _ := db.Group(ctx, "nope"); ok {
		t.Error("Group(nope) found a group never created")
	}
}

func TestMessageLookups(t *testing.T) {
	ctx := context.Background()
	l := newGroup(t)
	post(l, t, alice, "a1")                                                     // 1
	post(l, t, bob, "same")                                                     // 2
	post(l, t, carol, "same")                                                   // 3
	l.Must(t, "g", domain.PostMessage{Sender: bob, ID: "same", Body: "resent"}) // a resend: no event
	l.Must(t, "g", domain.PostMessage{Sender: alice, Body: "no id"})            // 4
	read(l, t, bob, ptr(2))                                                     // 5
	read(l, t, carol, ptr(1))                                                   // 6
	db := openDB(t)
	apply(t, db, l.Events)
	pos := func(v uint64) uint64 { return l.Events[v].Position }

	for _, c := range []struct {
		sender string
		want   domain.MessageRef
		ok     bool
	}{
		// Another member reusing an id later does not take it over.
		{"", domain.MessageRef{ID: "same", Version: 2, Sender: bob}, true},
		{bob, domain.MessageRef{ID: "same", Version: 2, Sender: bob}, true},
		{carol, domain.MessageRef{ID: "same", Version: 3, Sender: carol}, true},
		{alice, domain.MessageRef{}, false},
	} {
		ref, p, ok, err := db.MessageByID(ctx, "g", c.sender, "same")
		if err != nil || ok != c.ok || ref != c.want || (ok && p != pos(c.want.Version)) {
			t.Errorf("MessageByID(%q, same) = %+v, %d, %v, %v; want %+v, %v", c.sender, ref, p, ok, err, c.want, c.ok)
		}
	}
	ref, _, ok, _ := db.MessageResent(ctx, "g", bob, "same")
	if !ok || ref.Version != 2 {
		t.Errorf("MessageResent(bob, same) = %+v, %v; want version 2", ref, ok)
	}
	ref, p, ok, _ := db.MessageByVersion(ctx, "g", 1)
	if !ok || ref != (domain.MessageRef{ID: "a1", Version: 1, Sender: alice}) || p != pos(1) {
		t.Errorf("MessageByVersion(1) = %+v, %d, %v", ref, p, ok)
	}
	for _, v := range []uint64{0, 5, 99} {
		if _, _, ok, _ := db.MessageByVersion(ctx, "g", v); ok {
			t.Errorf("MessageByVersion(%d) found a message", v)
		}
	}
	if _, _, ok, _ := db.MessageByID(ctx, "g", "", ""); ok {
		t.Error("MessageByID with no id found a message")
	}
	readers, err := db.ReadBy(ctx, "g", 1)
	if err != nil || !slices.Equal(readers, []string{bob, carol}) {
		t.Errorf("ReadBy(1) = %v, %v; want bob and carol", readers, err)
	}
	if readers, _ := db.ReadBy(ctx, "g", 2); len(readers) != 0 {
		t.Errorf("ReadBy(2) = %v; bob is the sender and carol read up to 1", readers)
	}
}

func TestApplyRefusesAndChangesNothing(t *testing.T) {
	l := newGroup(t)
	post(l, t, alice, "1")
	post(l, t, alice, "2")
	db := openDB(t)
	apply(t, db, l.Events[:1])
	before := dump(t, db)
	garbage := l.Events[1]
	garbage.Data = []byte(`{"v":1,"d":{`)
	gap := l.Events[2]
	unknown := l.Events[1]
	unknown.Type = "Nope"
	orphan := l.Events[1]
	orphan.Stream = "never-created"
	for name, batch := range map[string][]eventstore.RecordedEvent{
		"undecodable data":            {l.Events[1], garbage},
		"an unknown type":             {unknown},
		"a gap in the stream":         {gap},
		"a group never created":       {orphan},
		"positions out of order":      {l.Events[2], l.Events[1]},
		"a second creation":           {{Stream: "g", Version: 1, Position: 9, Type: l.Events[0].Type, Data: l.Events[0].Data}},
		"an event without any stream": {{Position: 9, Type: l.Events[1].Type, Data: l.Events[1].Data}},
	} {
		err := db.Apply(context.Background(), batch)
		if !errors.Is(err, projections.ErrInvalidEvent) {
			t.Errorf("%s: Apply error %v, want ErrInvalidEvent", name, err)
		}
		if after := dump(t, db); !reflect.DeepEqual(before, after) {
			t.Errorf("%s: a refused batch changed the tables", name)
		}
	}
}

func TestWaitFor(t *testing.T) {
	l := newGroup(t)
	post(l, t, alice, "1")
	db := openDB(t)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- db.WaitFor(ctx, 2) }()
	apply(t, db, l.Events[:1])
	select {
	case err := <-done:
		t.Fatalf("WaitFor(2) returned %v at checkpoint 1", err)
	case <-time.After(20 * time.Millisecond):
	}
	apply(t, db, l.Events)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("WaitFor(2) = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WaitFor(2) still blocked at checkpoint 2")
	}
	if err := db.WaitFor(ctx, 1); err != nil {
		t.Errorf("WaitFor a past position = %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := db.WaitFor(short, 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitFor past the log's end = %v, want the deadline", err)
	}
	go func() { done <- db.WaitFor(ctx, 3) }()
	db.Close()
	if err := <-done; !errors.Is(err, projections.ErrClosed) {
		t.Errorf("WaitFor across Close = %v, want ErrClosed", err)
	}
}

func TestReopenKeepsCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	db, err := projections.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l := newGroup(t)
	post(l, t, bob, "1")
	apply(t, db, l.Events)
	before := dump(t, db)
	db.Close()
	db, err = projections.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if cp, _ := db.Checkpoint(context.Background()); cp != 2 {
		t.Errorf("checkpoint after reopening = %d, want 2", cp)
	}
	if after := dump(t, db); !reflect.DeepEqual(before, after) {
		t.Error("reopening changed the tables")
	}
}

// TestRoleChanges follows a member made admin and back: the member list
// and the member's own group item show its role as the domain has it.
func TestRoleChanges(t *testing.T) {
	ctx := context.Background()
	l := newGroup(t)
	l.Must(t, "g", domain.ChangeRole{By: alice, JID: carol, Role: domain.RoleAdmin})
	db := openDB(t)
	apply(t, db, l.Events)
	members, err := db.Members(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.Member{
		{JID: alice, MID: "alice", Nick: "alice", Role: domain.RoleOwner},
		{JID: bob, MID: "bob", Nick: "bob", Role: domain.RoleMember},
		{JID: carol, MID: "carol", Nick: "carol", Role: domain.RoleAdmin},
	}
	if !slices.Equal(members, want) || !slices.Equal(members, l.Group("g").Members()) {
		t.Errorf("Members(g) = %+v, want %+v (as the domain has them)", members, want)
	}
	l.Must(t, "g", domain.ChangeRole{By: alice, JID: carol, Role: domain.RoleMember})
	apply(t, db, l.Events)
	items, err := db.GroupsOf(ctx, carol)
	if err != nil || len(items) != 1 || items[0].Role != domain.RoleMember {
		t.Errorf("GroupsOf(carol) = %+v, %v; want g as a member again", items, err)
	}
}

// TestBuilderLeavesOnlyItsFile checks that a build removes its staging and
// tally files, whether it finishes or is aborted.
func TestBuilderLeavesOnlyItsFile(t *testing.T) {
	l := newGroup(t)
	post(l, t, alice, "1", bob)
	read(l, t, bob, nil)
	for _, finish := range []bool{true, false} {
		dir := t.TempDir()
		b, err := projections.NewBuilder(context.Background(), filepath.Join(dir, "built.db"))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range l.Events {
			e, err := projections.Decode(ev)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Add(ev, e); err != nil {
				t.Fatal(err)
			}
		}
		want := []string{}
		if finish {
			if err := b.Finish(context.Background()); err != nil {
				t.Fatal(err)
			}
			want = []string{"built.db"}
		} else {
			b.Abort()
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, e := range entries {
			got = append(got, e.Name())
		}
		if !slices.Equal(got, want) {
			t.Errorf("finish %v: the directory holds %v, want %v", finish, got, want)
		}
	}
}
