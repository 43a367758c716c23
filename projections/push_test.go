package projections_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/projections"
)

// withPushEvents returns events with a user's push settings events woven
// in after every few group events, positions renumbered, as the log holds
// them once users register push targets.
func withPushEvents(t *testing.T, events []eventstore.RecordedEvent) []eventstore.RecordedEvent {
	t.Helper()
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	push := []domain.Event{
		domain.PushEnabled{User: alice, JID: "push.example.org", Node: "n1", At: at},
		domain.NotifyLevelSet{User: alice, Group: "g", Level: domain.NotifyMentions, At: at},
		domain.PushDisabled{User: alice, JID: "push.example.org", Reason: domain.DisabledByUser, At: at},
	}
	var out []eventstore.RecordedEvent
	var version uint64
	for i, ev := range events {
		if i%3 == 1 {
			typ, data, err := domain.EncodeEvent(push[int(version)%len(push)])
			if err != nil {
				t.Fatal(err)
			}
			stream := domain.PushStream(alice)
			out = append(out, eventstore.RecordedEvent{ID: stream + "/" + strconv.FormatUint(version, 10),
				Stream: stream, Version: version, Type: typ, Data: data, Recorded: at})
			version++
		}
		out = append(out, ev)
	}
	for i := range out {
		out[i].Position = uint64(i + 1)
	}
	return out
}

func TestPushEventsAreSkippedAlike(t *testing.T) {
	l := newGroup(t)
	for i := 0; i < 10; i++ {
		post(l, t, bob, "m"+strconv.Itoa(i), alice)
	}
	read(l, t, alice, nil)
	events := withPushEvents(t, l.Events)

	db := openDB(t)
	apply(t, db, events)
	compareDumps(t, "applied", dump(t, db), "built", built(t, events))
	if cp, err := db.Checkpoint(context.Background()); err != nil || cp != events[len(events)-1].Position {
		t.Errorf("checkpoint = %d (%v), want %d: push events move it on like any other", cp, err, events[len(events)-1].Position)
	}
	if _, ok, err := db.Group(context.Background(), domain.PushStream(alice)); err != nil || ok {
		t.Errorf("a push stream became a group (ok=%v, err=%v)", ok, err)
	}
	checkAgainstDomain(t, db, l)
}

func TestPushEventsOutsidePushStreamsAreRefused(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	l := newGroup(t)
	typ, data, err := domain.EncodeEvent(domain.PushEnabled{User: alice, JID: "push.example.org", Node: "n1", At: at})
	if err != nil {
		t.Fatal(err)
	}
	bad := eventstore.RecordedEvent{ID: "x", Stream: "g", Version: 1, Position: 2, Type: typ, Data: data}
	db := openDB(t)
	apply(t, db, l.Events)
	if err := db.Apply(context.Background(), []eventstore.RecordedEvent{bad}); !errors.Is(err, projections.ErrInvalidEvent) {
		t.Errorf("a push event in a group stream: err = %v, want ErrInvalidEvent", err)
	}
}
