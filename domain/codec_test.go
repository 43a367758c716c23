package domain_test

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sampleEvents is one event of every type with every field set, and a few
// with optional fields left out.
func sampleEvents() []domain.Event {
	at := time.Date(2026, 3, 1, 12, 30, 45, 123456789, time.UTC)
	members := []domain.Member{
		{JID: owner, MID: "boss", Nick: "Boss", Role: domain.RoleOwner},
		{JID: alice, MID: "alice", Nick: "Alice ✓", Role: domain.RoleMember},
	}
	return []domain.Event{
		domain.GroupCreated{GroupID: "team", Name: "Team <&>", Type: domain.TypeCustomized, Members: members, By: owner, At: at},
		domain.GroupUpdated{Name: "Red team", NewOwner: alice, By: owner, At: at},
		domain.GroupUpdated{Name: "Only renamed", By: owner, At: at},
		domain.GroupDeleted{Members: members, By: owner, At: at},
		domain.MemberAdded{Members: []domain.Member{{JID: bob, MID: "bob", Nick: "bob", Role: domain.RoleAdmin}}, By: owner, At: at},
		domain.MemberRemoved{Members: []domain.Member{{JID: bob, MID: "bob", Nick: "bob", Role: domain.RoleAdmin}}, By: bob, At: at},
		domain.MessagePosted{ID: "m1", Sender: alice, MID: "alice", Body: "hello \"world\"\n",
			Payload: `<reply xmlns="urn:xmpp:reply:0" id="m0"/>`, Mentions: []string{owner, bob}, At: at},
		domain.MessagePosted{Sender: alice, MID: "alice", Body: "no id, no mentions", At: at},
		domain.MessageRead{Reader: bob, MID: "bob", Message: &domain.MessageRef{ID: "m1", Version: 7, Sender: alice}, Upto: 7, At: at},
		domain.MessageRead{Reader: bob, MID: "bob", Upto: 9, At: at},
		domain.PushEnabled{User: alice, JID: "push.example.org", Node: "device-1",
			PublishOptions: `<x xmlns="jabber:x:data" type="submit"><field var="secret"><value>s3</value></field></x>`, IncludeBody: true, At: at},
		domain.PushEnabled{User: alice, JID: "push.example.org", Node: "device-2", At: at},
		domain.PushDisabled{User: alice, JID: "push.example.org", Node: "device-1", Reason: domain.DisabledFailing, At: at},
		domain.PushDisabled{User: alice, JID: "push.example.org", Reason: domain.DisabledByUser, At: at},
		domain.NotifyLevelSet{User: alice, Group: "team", Level: domain.NotifyMentions, At: at},
		domain.MessageRetracted{Message: domain.MessageRef{ID: "m1", Version: 7, Sender: alice}, ID: "r1", Target: "1207",
			By: alice, MID: "alice", Body: "/me retracted a previous message", At: at},
		domain.MessageRetracted{Message: domain.MessageRef{Version: 8, Sender: alice}, ID: "mod-1", Target: "1208",
			By: owner, MID: "boss", Moderated: true, Reason: "spam <&>", At: at},
		// Kinds came after the others: records of plain messages stay as
		// they were.
		domain.MessagePosted{ID: "good1", Sender: alice, MID: "alice", Body: "But soft, what light through yonder window breaks?",
			Payload: `<replace xmlns="urn:xmpp:message-correct:0" id="bad1"/>`, Mentions: []string{bob}, At: at, Kind: domain.Correction},
		domain.MessagePosted{ID: "96d73204", Sender: bob, MID: "bob",
			Payload: `<reactions xmlns="urn:xmpp:reactions:0" id="744f6e18"><reaction>👋</reaction></reactions>`, At: at, Kind: domain.Reaction},
		// Role changes came after kinds, and a deletion's reason and venue
		// after them.
		domain.MemberRoleChanged{Member: domain.Member{JID: alice, MID: "alice", Nick: "Alice ✓", Role: domain.RoleAdmin}, By: owner, At: at},
		domain.GroupDeleted{Members: members, By: owner, At: at, Reason: "Macbeth doth come.", Venue: "coven@chat.shakespeare.lit"},
	}
}

func TestEveryEventRoundTrips(t *testing.T) {
	for _, e := range sampleEvents() {
		t.Run(e.EventType(), func(t *testing.T) {
			typ, data, err := domain.EncodeEvent(e)
			if err != nil {
				t.Fatalf("EncodeEvent(%+v): %v", e, err)
			}
			if typ != e.EventType() {
				t.Errorf("EncodeEvent stored the type as %q, want %q", typ, e.EventType())
			}
			got, err := domain.DecodeEvent(typ, data)
			if err != nil {
				t.Fatalf("DecodeEvent(%q, %s): %v", typ, data, err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Errorf("round trip through %s\n gave %#v\n want %#v", data, got, e)
			}
			if !got.OccurredAt().Equal(e.OccurredAt()) {
				t.Errorf("OccurredAt() = %v after the round trip, want %v", got.OccurredAt(), e.OccurredAt())
			}
		})
	}
}

func TestEventsByPointerEncodeLikeEventsByValue(t *testing.T) {
	for _, e := range sampleEvents() {
		_, byValue, err := domain.EncodeEvent(e)
		if err != nil {
			t.Fatalf("EncodeEvent(%+v): %v", e, err)
		}
		typ, byPointer, err := domain.EncodeEvent(pointerTo(e))
		if err != nil {
			t.Fatalf("EncodeEvent(&%+v): %v", e, err)
		}
		if typ != e.EventType() || !bytes.Equal(byPointer, byValue) {
			t.Errorf("a *%s encodes as %q %s, want %q %s", e.EventType(), typ, byPointer, e.EventType(), byValue)
		}
	}
}

// TestEventTypeNamesAreStable pins the stored names: they are the schema and
// may never change.
func TestEventTypeNamesAreStable(t *testing.T) {
	cases := []struct {
		event domain.Event
		name  string
	}{
		{domain.GroupCreated{}, "GroupCreated"},
		{domain.GroupUpdated{}, "GroupUpdated"},
		{domain.GroupDeleted{}, "GroupDeleted"},
		{domain.MemberAdded{}, "MemberAdded"},
		{domain.MemberRemoved{}, "MemberRemoved"},
		{domain.MessagePosted{}, "MessagePosted"},
		{domain.MessageRead{}, "MessageRead"},
		{domain.MessageRetracted{}, "MessageRetracted"},
		{domain.PushEnabled{}, "PushEnabled"},
		{domain.PushDisabled{}, "PushDisabled"},
		{domain.NotifyLevelSet{}, "NotifyLevelSet"},
		{domain.MemberRoleChanged{}, "MemberRoleChanged"},
	}
	for _, tc := range cases {
		if got := tc.event.EventType(); got != tc.name {
			t.Errorf("%T is stored as %q, want %q: a stored name never changes", tc.event, got, tc.name)
		}
	}
}

// TestEncodingIsStable compares the encoding of the sample events with the
// one stored in testdata (hex, one record a line), so that a change to the
// stored format is a deliberate act (go test -run TestEncodingIsStable
// -update).
func TestEncodingIsStable(t *testing.T) {
	var b strings.Builder
	for _, e := range sampleEvents() {
		typ, data, err := domain.EncodeEvent(e)
		if err != nil {
			t.Fatalf("EncodeEvent(%+v): %v", e, err)
		}
		fmt.Fprintf(&b, "%s %x\n", typ, data)
	}
	golden := filepath.Join("testdata", "events.v2.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading the stored encoding (run with -update to write it): %v", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("the events no longer encode as %s stores them; events already stored must stay readable\n got:\n%s\nwant:\n%s", golden, got, want)
	}
	checkGolden(t, golden, func(s string) ([]byte, error) { return hex.DecodeString(s) })
}

// TestVersion1RecordsStillDecode reads the records encoding version 1
// (JSON) stored, kept in testdata as they were written: logs written before
// version 2 must keep decoding to the same events.
func TestVersion1RecordsStillDecode(t *testing.T) {
	checkGolden(t, filepath.Join("testdata", "events.golden"), func(s string) ([]byte, error) { return []byte(s), nil })
	// And version 1 as the tests still write it matches what was stored.
	var b strings.Builder
	for _, e := range sampleEvents() {
		typ, data, err := domain.EncodeV1(e)
		if err != nil {
			t.Fatalf("EncodeV1(%+v): %v", e, err)
		}
		fmt.Fprintf(&b, "%s %s\n", typ, data)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "events.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("EncodeV1 no longer writes what version 1 stored\n got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// checkGolden decodes every record of a golden file and compares it with
// the sample event of the same line.
func checkGolden(t *testing.T, golden string, raw func(string) ([]byte, error)) {
	t.Helper()
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	samples := sampleEvents()
	lines := strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")
	if len(lines) != len(samples) {
		t.Errorf("%s has %d records, want %d", golden, len(lines), len(samples))
	}
	for i, line := range lines {
		typ, text, _ := strings.Cut(line, " ")
		data, err := raw(text)
		if err != nil {
			t.Errorf("%s line %d: %v", golden, i+1, err)
			continue
		}
		e, err := domain.DecodeEvent(typ, data)
		if err != nil {
			t.Errorf("%s line %d no longer decodes: %v", golden, i+1, err)
			continue
		}
		if i < len(samples) && !reflect.DeepEqual(e, samples[i]) {
			t.Errorf("%s line %d decodes to %#v, want %#v", golden, i+1, e, samples[i])
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	cases := []struct {
		name string
		typ  string
		data string
	}{
		{"an unknown event type", "GroupRenamed", `{"v":1,"d":{"name":"x"}}`},
		{"an event type in another case", "groupcreated", `{"v":1,"d":{"group":"team"}}`},
		{"no event type", "", `{"v":1,"d":{}}`},
		{"an encoding version from the future", domain.TypeGroupCreated, `{"v":2,"d":{"group":"team"}}`},
		{"encoding version 0", domain.TypeGroupCreated, `{"v":0,"d":{"group":"team"}}`},
		{"no encoding version", domain.TypeGroupCreated, `{"d":{"group":"team"}}`},
		{"a negative encoding version", domain.TypeGroupCreated, `{"v":-1,"d":{"group":"team"}}`},
		{"an encoding version that is not a number", domain.TypeGroupCreated, `{"v":"1","d":{"group":"team"}}`},
		{"no data", domain.TypeGroupCreated, `{"v":1}`},
		{"null data", domain.TypeGroupCreated, `{"v":1,"d":null}`},
		{"data that is not an object", domain.TypeMessagePosted, `{"v":1,"d":"hello"}`},
		{"a field of the wrong type", domain.TypeMemberAdded, `{"v":1,"d":{"members":"alice"}}`},
		{"a bad time", domain.TypeMessageRead, `{"v":1,"d":{"at":"yesterday"}}`},
		{"an empty record", domain.TypeGroupDeleted, ``},
		{"not JSON", domain.TypeGroupDeleted, `<event/>`},
		{"a truncated record", domain.TypeGroupDeleted, `{"v":1,"d":{"by":"own`},
		{"version 1 data marked as version 2", domain.TypeGroupCreated, `{"v":2,"d":{"group":"team"}}`},
		{"an empty version 2 record", domain.TypeGroupDeleted, "\x02"},
		{"a truncated version 2 record", domain.TypeMessageRead, "\x02\x03bob\x03bob\x00\x07"},
		{"a version 2 string longer than the record", domain.TypeGroupUpdated, "\x02\x7fabc"},
		{"a version 2 list longer than the record", domain.TypeMemberAdded, "\x02\xff\xff\x03\x00\x00\x00"},
		{"bytes after a version 2 record", domain.TypeGroupUpdated, "\x02\x00\x00\x00\x00\x00!"},
		{"a version 2 number in a longer form than needed", domain.TypeGroupUpdated, "\x02\x80\x00\x00\x00\x00\x00"},
		{"a version 2 number over 64 bits", domain.TypeGroupUpdated, "\x02\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f\x00"},
		{"version 2 nanoseconds of a whole second", domain.TypeGroupUpdated, "\x02\x00\x00\x00\x00\x80\x94\xeb\xdc\x03"},
		{"a version 2 message reference flag that is not 0 or 1", domain.TypeMessageRead, "\x02\x00\x00\x02\x00\x00\x00\x00\x00"},
		{"an unknown event type in version 2", "GroupRenamed", "\x02\x00\x00\x00\x00\x00"},
		{"encoding version 3", domain.TypeGroupUpdated, "\x03\x00\x00\x00\x00\x00"},
		{"a version 2 message kind written empty", domain.TypeMessagePosted, "\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := domain.DecodeEvent(tc.typ, []byte(tc.data))
			if err == nil {
				t.Fatalf("DecodeEvent(%q, %s) = %#v, want an error", tc.typ, tc.data, e)
			}
			if e != nil {
				t.Errorf("DecodeEvent(%q, %s) failed (%v) but still returned %#v", tc.typ, tc.data, err, e)
			}
		})
	}
}

func TestDecodeReadsOlderEventsWithFieldsMissing(t *testing.T) {
	got, err := domain.DecodeEvent(domain.TypeMessagePosted, []byte(`{"v":1,"d":{"sender":"alice@example.org","body":"hi","mentions":[],"at":"2026-03-01T12:00:00Z"}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := domain.MessagePosted{Sender: alice, Body: "hi", At: now}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %#v, want %#v (missing fields zero, an empty mention list as none)", got, want)
	}
}

func TestDecodeGivesTimesInUTC(t *testing.T) {
	for _, at := range []string{"2026-03-01T13:00:00+01:00", "2026-03-01T12:00:00+00:00", "2026-03-01T07:00:00-05:00"} {
		e, err := domain.DecodeEvent(domain.TypeGroupDeleted, []byte(`{"v":1,"d":{"by":"owner@example.org","at":"`+at+`"}}`))
		if err != nil {
			t.Fatalf("decoding an event at %s: %v", at, err)
		}
		want := domain.GroupDeleted{By: owner, At: now}
		if !reflect.DeepEqual(e, want) {
			t.Errorf("an event at %s decodes as %#v, want %#v", at, e, want)
		}
	}
}
