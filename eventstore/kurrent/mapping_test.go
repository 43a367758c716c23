package kurrent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/uuchat/groupchat/eventstore"
)

func TestEventMappingRoundTrip(t *testing.T) {
	n := names{prefix: "groupchat-"}
	created := time.Date(2026, 3, 1, 12, 30, 45, 123456700, time.UTC)
	cases := []struct {
		name     string
		in       eventstore.EventData
		wantType esdb.ContentType
	}{
		{"json data and metadata", eventstore.EventData{ID: "0b7e5b3e-8c1f-4a53-9d4e-3f1b2a6c7d80", Type: "message.posted",
			Data: []byte(`{"body":"hi"}`), Metadata: []byte(`{"from":"a@example.org/phone"}`)}, esdb.ContentTypeJson},
		{"binary data", eventstore.EventData{ID: "5f2d8a41-0e6b-4c7a-8b3d-2a9e1c4f6b05", Type: "blob",
			Data: []byte{0, 1, 2, 0xff}, Metadata: nil}, esdb.ContentTypeBinary},
		{"empty data", eventstore.EventData{ID: "9a1c3e5f-7b2d-4e6f-8a0c-1e3d5f7a9b2c", Type: "group.deleted"}, esdb.ContentTypeBinary},
		{"a JSON scalar is JSON", eventstore.EventData{ID: "c4e6a8b0-2d4f-4a6c-9e0b-3d5f7a9c1e3b", Type: "t", Data: []byte(`42`)}, esdb.ContentTypeJson},
		{"invalid JSON is binary", eventstore.EventData{ID: "d5f7b9c1-3e5a-4b7d-8f1c-4e6a8c0e2f4d", Type: "t", Data: []byte(`{"open":`)}, esdb.ContentTypeBinary},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			proposed, err := toProposed("g1", []eventstore.EventData{tc.in})
			if err != nil {
				t.Fatalf("toProposed: %v", err)
			}
			p := proposed[0]
			if p.EventID.String() != tc.in.ID || p.EventType != tc.in.Type || p.ContentType != tc.wantType ||
				!bytes.Equal(p.Data, tc.in.Data) || !bytes.Equal(p.Metadata, tc.in.Metadata) {
				t.Fatalf("proposed = %+v, want id %s type %s content type %d and the same bytes", p, tc.in.ID, tc.in.Type, tc.wantType)
			}
			// What the server hands back for that event.
			rec := &esdb.RecordedEvent{
				EventID:      p.EventID,
				EventType:    p.EventType,
				StreamID:     n.full("g1"),
				EventNumber:  uint64(i),
				Position:     esdb.Position{Commit: 98765 + uint64(i), Prepare: 98765 + uint64(i)},
				CreatedDate:  created,
				Data:         p.Data,
				UserMetadata: p.Metadata,
			}
			got, ok := n.fromRecorded(rec)
			if !ok {
				t.Fatal("fromRecorded refused the service's own event")
			}
			want := eventstore.RecordedEvent{ID: tc.in.ID, Stream: "g1", Version: uint64(i), Position: 98765 + uint64(i),
				Type: tc.in.Type, Data: tc.in.Data, Metadata: tc.in.Metadata, Recorded: created}
			if got.ID != want.ID || got.Stream != want.Stream || got.Version != want.Version || got.Position != want.Position ||
				got.Type != want.Type || !bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Metadata, want.Metadata) || !got.Recorded.Equal(want.Recorded) {
				t.Fatalf("fromRecorded = %+v, want %+v", got, want)
			}
		})
	}
}

func TestFromRecordedSkipsForeignEvents(t *testing.T) {
	n := names{prefix: "groupchat-"}
	id := uuid.MustParse("0b7e5b3e-8c1f-4a53-9d4e-3f1b2a6c7d80")
	cases := []struct {
		name   string
		stream string
		typ    string
		ours   bool
	}{
		{"the service's event", "groupchat-g1", "message.posted", true},
		{"another application's stream", "orders-17", "order.placed", false},
		{"a system stream", "$users", "$User", false},
		{"the prefix alone", "groupchat-", "message.posted", false},
		{"a prefix of the prefix", "groupchat", "message.posted", false},
		{"a metadata stream of a group", "$$groupchat-g1", "$metadata", false},
		{"a system event inside a group stream", "groupchat-g1", "$streamDeleted", false},
		{"a link inside a group stream", "groupchat-g1", "$>", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, ok := n.fromRecorded(&esdb.RecordedEvent{EventID: id, StreamID: tc.stream, EventType: tc.typ, Position: esdb.Position{Commit: 10, Prepare: 10}})
			if ok != tc.ours {
				t.Fatalf("fromRecorded(%s, %s) kept = %v, want %v", tc.stream, tc.typ, ok, tc.ours)
			}
		})
	}
	if _, ok := n.fromRecorded(nil); ok {
		t.Fatal("fromRecorded(nil) kept an event")
	}
}

func TestStreamNames(t *testing.T) {
	cases := []struct {
		prefix, stream, full string
	}{
		{"groupchat-", "g1", "groupchat-g1"},
		{"groupchat-", "a-b-c", "groupchat-a-b-c"},
		{"gc.", "8f0e@x", "gc.8f0e@x"},
		{"storetest-1a2b-", "groupchat-g1", "storetest-1a2b-groupchat-g1"},
	}
	for _, tc := range cases {
		n := names{prefix: tc.prefix}
		if got := n.full(tc.stream); got != tc.full {
			t.Errorf("full(%q) with prefix %q = %q, want %q", tc.stream, tc.prefix, got, tc.full)
		}
		if got, ok := n.local(tc.full); !ok || got != tc.stream {
			t.Errorf("local(%q) with prefix %q = %q, %v; want %q", tc.full, tc.prefix, got, ok, tc.stream)
		}
		f := n.filter()
		if f.Type != esdb.StreamFilterType || !reflect.DeepEqual(f.Prefixes, []string{tc.prefix}) || f.Regex != "" {
			t.Errorf("filter() = %+v, want a stream filter on prefix %q", f, tc.prefix)
		}
	}
}

func TestCheckPrefix(t *testing.T) {
	cases := []struct {
		prefix string
		ok     bool
	}{
		{"groupchat-", true},
		{"gc", true},
		{"", false},
		{"$groupchat-", false},
		{"group chat-", false},
		{"groupchat-\n", false},
	}
	for _, tc := range cases {
		if err := checkPrefix(tc.prefix); (err == nil) != tc.ok {
			t.Errorf("checkPrefix(%q) = %v, want ok %v", tc.prefix, err, tc.ok)
		}
	}
	if _, err := (Options{StreamPrefix: "$x"}).withDefaults(); err == nil {
		t.Error("Options with a $ prefix accepted")
	}
	if o, err := (Options{}).withDefaults(); err != nil || o.StreamPrefix != "groupchat-" || o.DedupWindow != 16 || o.ReadPageSize != 512 {
		t.Errorf("default options = %+v, %v", o, err)
	}
	if _, err := (Options{ReadPageSize: 1}).withDefaults(); err == nil {
		t.Error("ReadPageSize 1 accepted")
	}
	if _, err := (Options{ResubscribeMin: time.Second, ResubscribeMax: time.Millisecond}).withDefaults(); err == nil {
		t.Error("ResubscribeMax below ResubscribeMin accepted")
	}
}

func TestParseID(t *testing.T) {
	cases := []struct {
		id string
		ok bool
	}{
		{"0b7e5b3e-8c1f-4a53-9d4e-3f1b2a6c7d80", true},
		{uuid.NewString(), true},
		{"00000000-0000-0000-0000-000000000001", true},
		{"0B7E5B3E-8C1F-4A53-9D4E-3F1B2A6C7D80", false},   // reads back lowercase
		{"{0b7e5b3e-8c1f-4a53-9d4e-3f1b2a6c7d80}", false}, // braces
		{"urn:uuid:0b7e5b3e-8c1f-4a53-9d4e-3f1b2a6c7d80", false},
		{"0b7e5b3e8c1f4a539d4e3f1b2a6c7d80", false}, // no dashes
		{"00000000-0000-0000-0000-000000000000", false},
		{"", false},
		{"evt-1", false},
		{"0b7e5b3e-8c1f-4a53-9d4e-3f1b2a6c7d8", false},
	}
	for _, tc := range cases {
		u, err := parseID(tc.id)
		if tc.ok {
			if err != nil || u.String() != tc.id {
				t.Errorf("parseID(%q) = %v, %v; want the same UUID back", tc.id, u, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidID) {
			t.Errorf("parseID(%q) = %v, want ErrInvalidID", tc.id, err)
		} else if !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.id)) {
			t.Errorf("parseID(%q): the error %q does not name the id", tc.id, err)
		}
	}
}

func TestToProposedRefuses(t *testing.T) {
	a, b := "0b7e5b3e-8c1f-4a53-9d4e-3f1b2a6c7d80", "5f2d8a41-0e6b-4c7a-8b3d-2a9e1c4f6b05"
	cases := []struct {
		name   string
		stream string
		events []eventstore.EventData
		is     error
	}{
		{"empty stream name", "", []eventstore.EventData{{ID: a, Type: "t"}}, nil},
		{"no events", "g", nil, nil},
		{"an id that is not a UUID", "g", []eventstore.EventData{{ID: a, Type: "t"}, {ID: "evt-2", Type: "t"}}, ErrInvalidID},
		{"the same id twice", "g", []eventstore.EventData{{ID: a, Type: "t"}, {ID: b, Type: "t"}, {ID: a, Type: "t"}}, eventstore.ErrIDConflict},
		{"a system event type", "g", []eventstore.EventData{{ID: a, Type: "$metadata"}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := toProposed(tc.stream, tc.events)
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
		})
	}
}

func TestExpectedRevision(t *testing.T) {
	cases := []struct {
		in   eventstore.ExpectedVersion
		want esdb.ExpectedRevision
	}{
		{eventstore.Any(), esdb.Any{}},
		{eventstore.NoStream(), esdb.NoStream{}},
		{eventstore.StreamExists(), esdb.StreamExists{}},
		{eventstore.Exact(0), esdb.Revision(0)},
		{eventstore.Exact(41), esdb.Revision(41)},
		{eventstore.Exact(1 << 40), esdb.Revision(1 << 40)},
	}
	for _, tc := range cases {
		if got := expectedRevision(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("expectedRevision(%s) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestStartPositionAndCursor(t *testing.T) {
	if got := startPosition(0); got != (esdb.Start{}) {
		t.Errorf("startPosition(0) = %#v, want the start of $all", got)
	}
	if got := startPosition(4711); got != (esdb.Position{Commit: 4711, Prepare: 4711}) {
		t.Errorf("startPosition(4711) = %#v, want Position{4711, 4711}", got)
	}
	ev := func(pos uint64) *esdb.RecordedEvent {
		return &esdb.RecordedEvent{Position: esdb.Position{Commit: pos, Prepare: pos}}
	}
	cur := cursor{from: startPosition(100), after: 100}
	steps := []struct {
		event   *esdb.RecordedEvent
		advance bool
		after   uint64
	}{
		{ev(100), false, 100}, // the start itself: forward reads include it
		{ev(90), false, 100},  // before the start
		{ev(180), true, 180},
		{ev(180), false, 180}, // a resumed subscription repeating itself
		{ev(150), false, 180},
		{ev(260), true, 260},
		{nil, false, 260},
	}
	for i, s := range steps {
		if got := cur.advance(s.event); got != s.advance || cur.after != s.after {
			t.Fatalf("step %d: advance = %v, after = %d; want %v, %d", i, got, cur.after, s.advance, s.after)
		}
		if s.advance && cur.from != s.event.Position {
			t.Fatalf("step %d: from = %#v, want the event's position", i, cur.from)
		}
	}
}

func TestBackoff(t *testing.T) {
	low := backoff{min: 100 * time.Millisecond, max: 5 * time.Second, rand: func(int64) int64 { return 0 }}
	high := low
	high.rand = func(n int64) int64 { return n - 1 }
	cases := []struct {
		attempt  int
		low, top time.Duration
	}{
		{0, 50 * time.Millisecond, 100 * time.Millisecond},
		{1, 100 * time.Millisecond, 200 * time.Millisecond},
		{2, 200 * time.Millisecond, 400 * time.Millisecond},
		{5, 1600 * time.Millisecond, 3200 * time.Millisecond},
		{6, 2500 * time.Millisecond, 5 * time.Second}, // 6.4s capped
		{40, 2500 * time.Millisecond, 5 * time.Second},
		{1000, 2500 * time.Millisecond, 5 * time.Second}, // no overflow
	}
	for _, tc := range cases {
		if got := low.delay(tc.attempt); got != tc.low {
			t.Errorf("delay(%d) with the least jitter = %v, want %v", tc.attempt, got, tc.low)
		}
		if got := high.delay(tc.attempt); got != tc.top {
			t.Errorf("delay(%d) with the most jitter = %v, want %v", tc.attempt, got, tc.top)
		}
	}
}

// clientErrors collects the errors the real client produces from a
// server's answers, as this package receives them.
type clientErrors struct {
	openWith         func(code codes.Code) error
	invalidPosition  error
	closed           error
	dropUnavailable  error
	dropAccessDenied error
}

func collectClientErrors(t *testing.T) clientErrors {
	t.Helper()
	db := newFakeDB()
	fs := startFake(t, db)
	c := clientFor(t, fs)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	var ce clientErrors
	ce.openWith = func(code codes.Code) error {
		db.mu.Lock()
		db.openErrs = append(db.openErrs, status.Error(code, "fake: "+code.String()))
		db.mu.Unlock()
		sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.Start{}})
		if err == nil {
			sub.Close()
		}
		return err
	}
	pos := db.add("other", "t", "{}")
	rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{From: esdb.Position{Commit: pos + 1, Prepare: pos + 1}}, 10)
	if err == nil {
		_, err = rs.Recv()
		rs.Close()
	}
	ce.invalidPosition = err

	closed := clientFor(t, fs)
	closed.Close()
	_, ce.closed = closed.AppendToStream(ctx, "s", esdb.AppendToStreamOptions{}, esdb.EventData{EventID: uuid.New(), EventType: "t"})

	// A drop carries the gRPC error as the server ended the stream with it.
	db.mu.Lock()
	db.drops = append(db.drops, 0)
	db.mu.Unlock()
	sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.Start{}})
	if err != nil {
		t.Fatalf("SubscribeToAll: %v", err)
	}
	for ev := sub.Recv(); ; ev = sub.Recv() {
		if ev.SubscriptionDropped != nil {
			ce.dropUnavailable = ev.SubscriptionDropped.Error
			break
		}
	}
	// The client passes a drop's gRPC error on untouched, so a drop for
	// revoked access is this value exactly.
	ce.dropAccessDenied = status.Error(codes.PermissionDenied, "Access denied")
	return ce
}

func TestAsConflictWithClientErrors(t *testing.T) {
	ce := collectClientErrors(t)
	db := newFakeDB()
	fs := startFake(t, db)
	c := clientFor(t, fs)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := c.AppendToStream(ctx, "three", esdb.AppendToStreamOptions{},
			esdb.EventData{EventID: uuid.New(), EventType: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	wrong := func(stream string, expected esdb.ExpectedRevision) error {
		_, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: expected},
			esdb.EventData{EventID: uuid.New(), EventType: "t"})
		return err
	}
	cases := []struct {
		name string
		err  error
		ok   bool
		want conflict
	}{
		{"NoStream on a stream at 2", wrong("three", esdb.NoStream{}), true, conflict{actual: 2, exists: true, known: true}},
		{"Revision(0) on a stream at 2", wrong("three", esdb.Revision(0)), true, conflict{actual: 2, exists: true, known: true}},
		{"Revision(9) on a stream at 2", wrong("three", esdb.Revision(9)), true, conflict{actual: 2, exists: true, known: true}},
		{"StreamExists on no stream", wrong("none", esdb.StreamExists{}), true, conflict{known: true}},
		{"Revision(0) on no stream", wrong("none", esdb.Revision(0)), true, conflict{known: true}},
		{"wrapped by a caller", fmt.Errorf("appending: %w", wrong("three", esdb.Revision(1))), true, conflict{actual: 2, exists: true, known: true}},
		{"a closed client", ce.closed, false, conflict{}},
		{"an invalid position", ce.invalidPosition, false, conflict{}},
		{"a plain error", errors.New("wrong expected version: expecting '1' but got '2'"), false, conflict{}},
		{"no error", nil, false, conflict{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := asConflict(tc.err)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("asConflict(%v) = %+v, %v; want %+v, %v", tc.err, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestErrorKindsWithClientErrors(t *testing.T) {
	ce := collectClientErrors(t)
	cases := []struct {
		name            string
		err             error
		retry           bool
		invalidPosition bool
		clientClosed    bool
		notFound        bool
	}{
		{"open: unavailable", ce.openWith(codes.Unavailable), true, false, false, false},
		{"open: deadline exceeded", ce.openWith(codes.DeadlineExceeded), true, false, false, false},
		{"open: aborted", ce.openWith(codes.Aborted), true, false, false, false},
		{"open: internal", ce.openWith(codes.Internal), true, false, false, false},
		{"open: permission denied", ce.openWith(codes.PermissionDenied), false, false, false, false},
		{"open: unauthenticated", ce.openWith(codes.Unauthenticated), false, false, false, false},
		{"open: unimplemented", ce.openWith(codes.Unimplemented), false, false, false, false},
		{"open: invalid argument", ce.openWith(codes.InvalidArgument), false, true, false, false},
		{"read from inside a record", ce.invalidPosition, false, true, false, false},
		{"client closed itself", ce.closed, true, false, true, false},
		{"drop: node went away", ce.dropUnavailable, true, false, false, false},
		{"drop: access revoked", ce.dropAccessDenied, false, false, false, false},
		{"store closed", eventstore.ErrClosed, false, false, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("the client returned no error")
			}
			if got := retryable(tc.err); got != tc.retry {
				t.Errorf("retryable(%v) = %v, want %v", tc.err, got, tc.retry)
			}
			if got := isInvalidPosition(tc.err); got != tc.invalidPosition {
				t.Errorf("isInvalidPosition(%v) = %v, want %v", tc.err, got, tc.invalidPosition)
			}
			if got := isClientClosed(tc.err); got != tc.clientClosed {
				t.Errorf("isClientClosed(%v) = %v, want %v", tc.err, got, tc.clientClosed)
			}
			if got := isNotFound(tc.err); got != tc.notFound {
				t.Errorf("isNotFound(%v) = %v, want %v", tc.err, got, tc.notFound)
			}
		})
	}
}
