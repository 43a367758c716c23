package projections_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/projections"
)

func TestTimelineFollowsMembership(t *testing.T) {
	ctx := context.Background()
	l := newGroup(t)                                                                                                // g0: created, with bob
	m1 := post(l, t, bob, "b1")                                                                                     // g1
	l.Must(t, "h", domain.CreateGroup{GroupID: "h", Name: "H", Creator: domain.Member{JID: bob}})                   // h0
	l.Must(t, "g", domain.MarkRead{Reader: carol, Message: &domain.MessageRef{ID: "b1", Version: m1, Sender: bob}}) // g2: to bob
	l.Must(t, "g", domain.MarkRead{Reader: alice})                                                                  // g3: to nobody
	l.Must(t, "g", domain.RemoveMembers{By: alice, Members: []domain.MemberSelector{{JID: bob}}})                   // g4
	post(l, t, alice, "a1")                                                                                         // g5: bob away
	l.Must(t, "g", domain.AddMembers{By: alice, Members: []domain.Member{{JID: bob}}})                              // g6
	post(l, t, carol, "c1")                                                                                         // g7
	l.Must(t, "h", domain.PostMessage{Sender: bob, ID: "b2", Body: "in h"})                                         // h1
	db := openDB(t)
	apply(t, db, l.Events)
	pos := map[string]uint64{}
	for _, e := range l.Events {
		pos[e.Stream+string(rune('0'+e.Version))] = e.Position
	}
	entries := func(q projections.TimelineQuery) ([]string, int) {
		t.Helper()
		page, err := db.Timeline(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got, total := page.Entries, page.Count
		var out []string
		for i, e := range got {
			key := e.Group + string(rune('0'+e.Version))
			if pos[key] != e.Position {
				t.Errorf("entry %s has position %d, want %d", key, e.Position, pos[key])
			}
			if i > 0 && got[i-1].Position >= e.Position {
				t.Errorf("entries out of position order: %v", got)
			}
			out = append(out, key)
		}
		return out, total
	}
	tests := []struct {
		name  string
		q     projections.TimelineQuery
		want  []string
		total int
	}{
		{"bob's catch-up: his groups, his spans, receipts to him",
			projections.TimelineQuery{JID: bob},
			[]string{"g0", "g1", "h0", "g2", "g4", "g6", "g7", "h1"}, 8},
		{"carol does not get her own receipt",
			projections.TimelineQuery{JID: carol, Group: "g"},
			[]string{"g0", "g1", "g4", "g5", "g6", "g7"}, 6},
		{"messages only, one group",
			projections.TimelineQuery{JID: bob, Group: "g", MessagesOnly: true},
			[]string{"g1", "g7"}, 2},
		{"after a position",
			projections.TimelineQuery{JID: bob, After: pos["g2"]},
			[]string{"g4", "g6", "g7", "h1"}, 4},
		{"first page",
			projections.TimelineQuery{JID: bob, Max: 3},
			[]string{"g0", "g1", "h0"}, 8},
		{"last page, still in position order",
			projections.TimelineQuery{JID: bob, Max: 3, Last: true},
			[]string{"g6", "g7", "h1"}, 8},
		{"before a position, last page",
			projections.TimelineQuery{JID: bob, Before: pos["g6"], Max: 2, Last: true},
			[]string{"g2", "g4"}, 5},
		{"a stranger sees nothing",
			projections.TimelineQuery{JID: dave},
			nil, 0},
		{"one group, first page",
			projections.TimelineQuery{JID: bob, Group: "g", Max: 2},
			[]string{"g0", "g1"}, 6},
		{"one group, last page, in position order",
			projections.TimelineQuery{JID: bob, Group: "g", Max: 2, Last: true},
			[]string{"g6", "g7"}, 6},
		{"one group, a page after a position, past his absence",
			projections.TimelineQuery{JID: bob, Group: "g", Max: 2, PageAfter: pos["g2"]},
			[]string{"g4", "g6"}, 6},
		{"one group, a page before a position",
			projections.TimelineQuery{JID: bob, Group: "g", Max: 2, Last: true, PageBefore: pos["g6"]},
			[]string{"g2", "g4"}, 6},
		{"counting stops at CountUpTo: no count",
			projections.TimelineQuery{JID: bob, Group: "g", Max: 2, Last: true, CountUpTo: 5},
			[]string{"g6", "g7"}, -1},
		{"a range within CountUpTo is counted",
			projections.TimelineQuery{JID: bob, Group: "g", Max: 2, Last: true, CountUpTo: 6},
			[]string{"g6", "g7"}, 6},
	}
	for _, tt := range tests {
		got, total := entries(tt.q)
		if !slices.Equal(got, tt.want) || total != tt.total {
			t.Errorf("%s: %v (total %d), want %v (total %d)", tt.name, got, total, tt.want, tt.total)
		}
	}

	// More says whether the range goes on in the direction of paging.
	for _, c := range []struct {
		q    projections.TimelineQuery
		more bool
	}{
		{projections.TimelineQuery{JID: bob, Group: "g", Max: 2}, true},
		{projections.TimelineQuery{JID: bob, Group: "g", Max: 2, PageAfter: pos["g4"]}, false},
		{projections.TimelineQuery{JID: bob, Group: "g", Max: 2, Last: true}, true},
		{projections.TimelineQuery{JID: bob, Group: "g", Max: 2, Last: true, PageBefore: pos["g2"]}, false},
		{projections.TimelineQuery{JID: bob, Max: 8}, false},
		{projections.TimelineQuery{JID: bob, Max: 7}, true},
	} {
		page, err := db.Timeline(ctx, c.q)
		if err != nil || page.More != c.more {
			t.Errorf("%+v: More = %v, %v; want %v", c.q, page.More, err, c.more)
		}
	}

	// Time bounds are inclusive; each command in the log is a millisecond
	// after the previous one.
	at := func(key string) time.Time {
		for _, e := range l.Events {
			if e.Position == pos[key] {
				return e.Recorded
			}
		}
		t.Fatalf("no event %s", key)
		return time.Time{}
	}
	got, total := entries(projections.TimelineQuery{JID: bob, Group: "g", Start: at("g1"), End: at("g4")})
	if want := []string{"g1", "g2", "g4"}; !slices.Equal(got, want) || total != 3 {
		t.Errorf("between g1 and g4: %v (total %d), want %v", got, total, want)
	}
}

func TestMessageByPosition(t *testing.T) {
	ctx := context.Background()
	l := newGroup(t)
	post(l, t, alice, "a1")
	l.Must(t, "h", domain.CreateGroup{GroupID: "h", Name: "H", Creator: domain.Member{JID: bob}})
	db := openDB(t)
	apply(t, db, l.Events)
	ref, p, ok, err := db.MessageByPosition(ctx, "g", 2)
	if err != nil || !ok || ref != (domain.MessageRef{ID: "a1", Version: 1, Sender: alice}) || p != 2 {
		t.Errorf("MessageByPosition(g, 2) = %+v, %d, %v, %v", ref, p, ok, err)
	}
	for _, c := range []struct {
		group string
		pos   uint64
	}{{"g", 1}, {"h", 2}, {"g", 3}, {"g", 99}} {
		if _, _, ok, _ := db.MessageByPosition(ctx, c.group, c.pos); ok {
			t.Errorf("MessageByPosition(%s, %d) found a message", c.group, c.pos)
		}
	}
}

// TestTimelineFiltersAndPages checks the archive query's filters (a
// publisher by real JID or member id, a set of archive ids) and that RSM's
// count and index are those of the whole range, wherever the page is.
func TestTimelineFiltersAndPages(t *testing.T) {
	ctx := context.Background()
	l := newGroup(t)
	post(l, t, alice, "a1")
	post(l, t, bob, "b1")
	post(l, t, alice, "a2")
	post(l, t, carol, "c1")
	post(l, t, alice, "a3")
	db := openDB(t)
	apply(t, db, l.Events)
	pos := map[string]uint64{}
	for _, e := range l.Events {
		if e.Type == "MessagePosted" {
			m, err := domain.DecodeEvent(e.Type, e.Data)
			if err != nil {
				t.Fatal(err)
			}
			pos[m.(domain.MessagePosted).ID] = e.Position
		}
	}
	members, err := db.Members(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	bobMID := ""
	for _, m := range members {
		if m.JID == bob {
			bobMID = m.MID
		}
	}
	byPos := map[uint64]string{}
	for id, p := range pos {
		byPos[p] = id
	}
	msgs := projections.TimelineQuery{JID: alice, Group: "g", MessagesOnly: true}
	tests := []struct {
		name         string
		q            func(q projections.TimelineQuery) projections.TimelineQuery
		want         []string
		count, index int
	}{
		{"all", func(q projections.TimelineQuery) projections.TimelineQuery { return q },
			[]string{"a1", "b1", "a2", "c1", "a3"}, 5, 0},
		{"one sender by real JID", func(q projections.TimelineQuery) projections.TimelineQuery { q.Sender = alice; return q },
			[]string{"a1", "a2", "a3"}, 3, 0},
		{"one sender by member id", func(q projections.TimelineQuery) projections.TimelineQuery { q.SenderMID = bobMID; return q },
			[]string{"b1"}, 1, 0},
		{"a sender who never posted", func(q projections.TimelineQuery) projections.TimelineQuery { q.Sender = dave; return q },
			nil, 0, 0},
		{"archive ids", func(q projections.TimelineQuery) projections.TimelineQuery {
			q.Positions = []uint64{pos["b1"], pos["a3"]}
			return q
		}, []string{"b1", "a3"}, 2, 0},
		{"no archive ids", func(q projections.TimelineQuery) projections.TimelineQuery { q.Positions = []uint64{}; return q },
			nil, 0, 0},
		{"a page after a cursor keeps the range's count", func(q projections.TimelineQuery) projections.TimelineQuery {
			q.PageAfter, q.Max = pos["a1"], 2
			return q
		}, []string{"b1", "a2"}, 5, 1},
		{"a page before a cursor, from its end", func(q projections.TimelineQuery) projections.TimelineQuery {
			q.PageBefore, q.Max, q.Last = pos["c1"], 2, true
			return q
		}, []string{"b1", "a2"}, 5, 1},
		{"the last page", func(q projections.TimelineQuery) projections.TimelineQuery { q.Max, q.Last = 2, true; return q },
			[]string{"c1", "a3"}, 5, 3},
		{"a range and a cursor in it", func(q projections.TimelineQuery) projections.TimelineQuery {
			q.After, q.PageAfter, q.Max = pos["a1"], pos["b1"], 1
			return q
		}, []string{"a2"}, 4, 1},
		{"past the end", func(q projections.TimelineQuery) projections.TimelineQuery { q.PageAfter = pos["a3"]; return q },
			nil, 5, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := db.Timeline(ctx, tt.q(msgs))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range page.Entries {
				got = append(got, byPos[e.Position])
			}
			if !slices.Equal(got, tt.want) || page.Count != tt.count || page.Index != tt.index {
				t.Errorf("got %v count %d index %d, want %v count %d index %d", got, page.Count, page.Index, tt.want, tt.count, tt.index)
			}
		})
	}
}

// TestRetractionsInTheTimeline: a withdrawn message carries the version of
// its retraction, the retraction is archived like a message, and neither
// changes anyone's unread count.
func TestRetractionsInTheTimeline(t *testing.T) {
	ctx := context.Background()
	l := newGroup(t)
	v := post(l, t, alice, "a1")
	post(l, t, alice, "a2")
	r := l.Must(t, "g", domain.RetractMessage{By: alice, Message: &domain.MessageRef{ID: "a1", Version: v, Sender: alice}, ID: "r1", Target: "a1"})
	// A second retraction of the same message does not replace the first.
	l.Must(t, "g", domain.RetractMessage{By: alice, Message: &domain.MessageRef{ID: "a1", Version: v, Sender: alice}, ID: "r2", Target: "a1"})
	db := openDB(t)
	apply(t, db, l.Events)
	page, err := db.Timeline(ctx, projections.TimelineQuery{JID: bob, Group: "g", MessagesOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range page.Entries {
		got = append(got, fmt.Sprintf("v%d/r%d", e.Version, e.RetractedBy))
	}
	want := []string{fmt.Sprintf("v%d/r%d", v, r[0].Version), fmt.Sprintf("v%d/r0", v+1), fmt.Sprintf("v%d/r0", r[0].Version), fmt.Sprintf("v%d/r0", r[0].Version+1)}
	if !slices.Equal(got, want) {
		t.Errorf("the archive holds %v, want %v", got, want)
	}
	c, _, err := db.Counters(ctx, "g", bob)
	if err != nil || c.Unread != 2 {
		t.Errorf("bob's counters %+v, %v: two messages unread, retractions not counted", c, err)
	}
	compareDumps(t, "applied", dump(t, db), "built", built(t, l.Events))
}

// TestPreviousChange: each group change names the group's change before
// it, past the messages, read receipts and other groups' events between.
func TestPreviousChange(t *testing.T) {
	ctx := context.Background()
	// Positions: 1 g created, 2 a message, 3 bob's receipt to alice, 4 h
	// created, 5 g renamed, 6 dave added, 7 dave's message, 8 dave removed.
	l := newGroup(t)
	a1 := post(l, t, alice, "a1")
	read(l, t, bob, ptr(a1))
	l.Must(t, "h", domain.CreateGroup{GroupID: "h", Name: "H", Creator: domain.Member{JID: bob}})
	l.Must(t, "g", domain.UpdateGroup{By: alice, Name: "Renamed"})
	l.Must(t, "g", domain.AddMembers{By: alice, Members: []domain.Member{{JID: dave}}})
	post(l, t, dave, "d1")
	l.Must(t, "g", domain.RemoveMembers{By: alice, Members: []domain.MemberSelector{{JID: dave}}})
	db := openDB(t)
	apply(t, db, l.Events)
	for _, c := range []struct {
		group    string
		position uint64
		want     uint64
	}{
		{"g", 1, 0}, {"g", 5, 1}, {"g", 6, 5}, {"g", 8, 6},
		{"g", 4, 1}, {"g", 7, 6}, {"g", 99, 8},
		{"h", 4, 0}, {"h", 5, 4}, {"nope", 5, 0},
	} {
		got, err := db.PreviousChange(ctx, c.group, c.position)
		if err != nil || got != c.want {
			t.Errorf("PreviousChange(%s, %d) = %d, %v; want %d", c.group, c.position, got, err, c.want)
		}
	}
}
