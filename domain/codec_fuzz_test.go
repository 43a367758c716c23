package domain_test

import (
	"reflect"
	"testing"

	"github.com/uuchat/groupchat/domain"
)

// FuzzDecodeEvent feeds DecodeEvent arbitrary stored records, in either
// encoding (version 1, JSON, and version 2, binary; the seeds hold both):
// it must never panic, must refuse with an error rather than return half an
// event, and whatever it accepts must encode and decode again to the same
// event.
func FuzzDecodeEvent(f *testing.F) {
	for _, e := range sampleEvents() {
		typ, data, err := domain.EncodeEvent(e)
		if err != nil {
			f.Fatalf("EncodeEvent(%+v): %v", e, err)
		}
		f.Add(typ, data)
		typ, data, err = domain.EncodeV1(e)
		if err != nil {
			f.Fatalf("EncodeV1(%+v): %v", e, err)
		}
		f.Add(typ, data)
	}
	f.Add(domain.TypeMessagePosted, []byte("\x02\x00\x00\x01a\x01b\x00\x00\x02\x00\x01c\x81\x01\x05"))
	f.Add(domain.TypeMessageRead, []byte("\x02\x01r\x01m\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x01\x00"))
	f.Add(domain.TypeGroupCreated, []byte("\x02\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00"))
	f.Add(domain.TypeGroupDeleted, []byte("\x02\x01"))
	f.Add(domain.TypeMessagePosted, []byte(`{"v":1,"d":{"mentions":[],"at":"2026-03-01T13:00:00+01:00"}}`))
	f.Add(domain.TypeMessageRead, []byte(`{"v":1,"d":{"message":null,"upto":18446744073709551615}}`))
	f.Add(domain.TypeGroupCreated, []byte(`{"v":1,"d":{"members":[null,{}],"GROUP":"\ud800"}}`))
	f.Add(domain.TypeGroupUpdated, []byte(`{"v":2,"d":{}}`))
	f.Add(domain.TypeGroupDeleted, []byte(`{"v":1,"d":null}`))
	f.Add("GroupRenamed", []byte(`{"v":1,"d":{}}`))
	f.Add("", []byte(""))
	f.Add(domain.TypeMemberAdded, []byte("\x00\xff{"))
	f.Add(domain.TypeMemberRemoved, []byte(`[1,2,3]`))
	f.Add(domain.TypeNotifyLevelSet, []byte(`{"v":1,"d":{"level":"loud","group":""}}`))
	f.Add(domain.TypePushDisabled, []byte(`{"v":1,"d":{"jid":"","node":null}}`))

	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		e, err := domain.DecodeEvent(typ, data)
		if err != nil {
			if e != nil {
				t.Fatalf("DecodeEvent(%q, %q) failed (%v) but returned %#v", typ, data, err, e)
			}
			return
		}
		if e.EventType() != typ {
			t.Fatalf("DecodeEvent(%q, %q) returned a %s", typ, data, e.EventType())
		}
		typ2, data2, err := domain.EncodeEvent(e)
		if err != nil {
			t.Fatalf("the decoded %#v does not encode: %v", e, err)
		}
		if typ2 != typ {
			t.Fatalf("the decoded %#v encodes as type %q, want %q", e, typ2, typ)
		}
		again, err := domain.DecodeEvent(typ2, data2)
		if err != nil {
			t.Fatalf("the re-encoded %s %s does not decode: %v", typ2, data2, err)
		}
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("decode, encode, decode changed the event\n first %#v\nsecond %#v\n  from %q\n    to %s", e, again, data, data2)
		}
		// Whatever the store hands back, evolving a group by it must not fail.
		domain.Evolve(domain.NewGroup(domain.DefaultLimits()), e)
		// Nor applying it to a user's push settings.
		domain.NewPushSettings("u@example.org").Apply(e)
	})
}
