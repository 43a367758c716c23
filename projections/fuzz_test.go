package projections_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/projections"
)

var eventTypes = []string{
	domain.TypeGroupCreated, domain.TypeGroupUpdated, domain.TypeGroupDeleted, domain.TypeMemberAdded,
	domain.TypeMemberRemoved, domain.TypeMessagePosted, domain.TypeMessageRead, "Unknown",
}

// FuzzApply feeds stored events of arbitrary bytes to the decoder and to
// Apply: decoding never panics, and an event that does not decode makes
// Apply fail without changing anything. The database starts from a small
// group, so decodable events also exercise the rules.
func FuzzApply(f *testing.F) {
	l := newGroup(f)
	post(l, f, alice, "1", bob)
	for _, ev := range l.Events {
		f.Add(uint8(0), ev.Version, ev.Data)
	}
	for i := range eventTypes {
		f.Add(uint8(i), uint64(2), []byte(`{"v":1,"d":{}}`))
	}
	f.Add(uint8(5), uint64(2), []byte(`{"v":1,"d":{"sender":"`+alice+`","mentions":["`+bob+`",""]}}`))
	f.Add(uint8(6), uint64(2), []byte(`{"v":1,"d":{"reader":"`+bob+`","upto":99}}`))
	f.Add(uint8(4), uint64(2), []byte(`{"v":1,"d":{"members":[{"jid":"nobody"}]}}`))
	f.Add(uint8(1), uint64(2), []byte(`{"v":2,"d":{}}`))
	f.Add(uint8(3), uint64(2), []byte(`{"v":1,"d":null}`))
	f.Add(uint8(7), uint64(2), []byte(`garbage`))

	db := openDB(f)
	if err := db.Apply(context.Background(), l.Events); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, typ uint8, version uint64, data []byte) {
		ev := eventstore.RecordedEvent{
			Stream: "g", Version: version, Type: eventTypes[int(typ)%len(eventTypes)], Data: data,
		}
		_, decodeErr := domain.DecodeEvent(ev.Type, ev.Data)
		ctx := context.Background()
		cp, err := db.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = cp + 1
		before := dump(t, db)
		err = db.Apply(ctx, []eventstore.RecordedEvent{ev})
		if decodeErr != nil && !errors.Is(err, projections.ErrInvalidEvent) {
			t.Fatalf("an event that does not decode (%v) was applied: %v", decodeErr, err)
		}
		if err != nil {
			if after := dump(t, db); !reflect.DeepEqual(before, after) {
				t.Fatalf("a failed Apply (%v) changed the tables", err)
			}
		}
	})
}
