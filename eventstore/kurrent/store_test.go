package kurrent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/uuchat/groupchat/eventstore"
)

// These tests drive the store through the real client against fakeDB, an
// in-memory model of a KurrentDB node (see fakedb_test.go). They prove the
// store's own logic and its use of the client; the conformance suite in
// kurrent_test.go, run against a real server, is what proves the server
// behaves as modelled.

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func batch(n int) []eventstore.EventData {
	evs := make([]eventstore.EventData, n)
	for i := range evs {
		id := uuid.NewString()
		evs[i] = eventstore.EventData{ID: id, Type: "test.event", Data: []byte(fmt.Sprintf(`{"id":%q}`, id)), Metadata: []byte(`{"m":1}`)}
	}
	return evs
}

func mustAppend(t *testing.T, s *Store, stream string, exp eventstore.ExpectedVersion, evs ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(testCtx(t), stream, exp, evs...)
	if err != nil {
		t.Fatalf("Append(%s, %s): %v", stream, exp, err)
	}
	if res.Duplicate {
		t.Fatalf("Append(%s, %s) of new ids reported Duplicate", stream, exp)
	}
	return res
}

func TestAppendAndReadBack(t *testing.T) {
	db := newFakeDB()
	s := openFake(t, startFake(t, db), Options{})
	ctx := testCtx(t)
	first, second := batch(3), batch(2)
	r1 := mustAppend(t, s, "g1", eventstore.NoStream(), first...)
	db.add("orders-1", "order.placed", `{}`) // another writer in between
	r2 := mustAppend(t, s, "g1", eventstore.Exact(2), second...)
	if r1.Version != 2 || r2.Version != 4 || r2.Position <= r1.Position {
		t.Fatalf("append results %+v, %+v; want versions 2 and 4, growing positions", r1, r2)
	}
	got, err := s.ReadStream(ctx, "g1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]eventstore.EventData{}, first...), second...)
	if len(got) != len(want) {
		t.Fatalf("ReadStream: %d events, want %d", len(got), len(want))
	}
	for i, e := range got {
		w := want[i]
		if e.ID != w.ID || e.Stream != "g1" || e.Version != uint64(i) || e.Type != w.Type ||
			!bytes.Equal(e.Data, w.Data) || !bytes.Equal(e.Metadata, w.Metadata) || e.Recorded.IsZero() {
			t.Fatalf("event %d = %+v, want %+v at version %d", i, e, w, i)
		}
		if i > 0 && e.Position <= got[i-1].Position+1 {
			t.Fatalf("positions %d, %d: want sparse, strictly increasing positions", got[i-1].Position, e.Position)
		}
	}
	if got[2].Position != r1.Position || got[4].Position != r2.Position {
		t.Fatalf("append results name positions %d, %d; the batches end at %d, %d", r1.Position, r2.Position, got[2].Position, got[4].Position)
	}
	// Stored under the prefix, so other applications' streams stay apart.
	if evs := db.events(); evs[len(evs)-1].stream != "groupchat-g1" {
		t.Fatalf("stored in stream %q, want groupchat-g1", evs[len(evs)-1].stream)
	}
	if got, err := s.ReadStream(ctx, "missing", 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("ReadStream(missing) = %v, %v; want nothing", got, err)
	}
	if got, err := s.ReadStream(ctx, "g1", 3, 1); err != nil || len(got) != 1 || got[0].ID != second[0].ID {
		t.Fatalf("ReadStream(g1, 3, 1) = %v, %v; want version 3", got, err)
	}
}

func TestAppendWrongVersion(t *testing.T) {
	db := newFakeDB()
	s := openFake(t, startFake(t, db), Options{})
	ctx := testCtx(t)
	mustAppend(t, s, "three", eventstore.NoStream(), batch(3)...)
	cases := []struct {
		stream   string
		expected eventstore.ExpectedVersion
		actual   uint64
		exists   bool
	}{
		{"three", eventstore.NoStream(), 2, true},
		{"three", eventstore.Exact(0), 2, true},
		{"three", eventstore.Exact(1), 2, true},
		{"three", eventstore.Exact(7), 2, true},
		{"empty", eventstore.StreamExists(), 0, false},
		{"empty", eventstore.Exact(0), 0, false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%s", tc.stream, tc.expected), func(t *testing.T) {
			writes := db.writes
			_, err := s.Append(ctx, tc.stream, tc.expected, batch(2)...)
			var wv *eventstore.WrongVersionError
			if !errors.As(err, &wv) || !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
				t.Fatalf("err = %v, want *WrongVersionError", err)
			}
			want := eventstore.WrongVersionError{Stream: tc.stream, Expected: tc.expected, Actual: tc.actual, Exists: tc.exists}
			if *wv != want {
				t.Fatalf("WrongVersionError = %+v, want %+v", *wv, want)
			}
			if db.writes != writes {
				t.Fatal("a refused append wrote events")
			}
		})
	}
}

func TestAppendDuplicates(t *testing.T) {
	db := newFakeDB()
	s := openFake(t, startFake(t, db), Options{DedupWindow: 4})
	ctx := testCtx(t)
	b := batch(2)
	r1 := mustAppend(t, s, "g", eventstore.NoStream(), b...)
	type outcome int
	const (
		duplicate outcome = iota
		conflict
		stored
	)
	single := batch(1)
	var r2 eventstore.AppendResult
	steps := []struct {
		name     string
		before   func()
		expected eventstore.ExpectedVersion
		events   []eventstore.EventData
		want     outcome
		of       *eventstore.AppendResult // the append a duplicate names
	}{
		{name: "retry with the stale NoStream", expected: eventstore.NoStream(), events: b, want: duplicate, of: &r1},
		{name: "retry whose Exact matches the head", expected: eventstore.Exact(1), events: b, want: duplicate, of: &r1},
		{name: "retry with Any", expected: eventstore.Any(), events: b, want: duplicate, of: &r1},
		{name: "retry with an impossible Exact", expected: eventstore.Exact(7), events: b, want: duplicate, of: &r1},
		{name: "stored then new", expected: eventstore.Any(), events: []eventstore.EventData{b[0], batch(1)[0]}, want: conflict},
		{name: "new then stored", expected: eventstore.Any(), events: []eventstore.EventData{batch(1)[0], b[1]}, want: conflict},
		{name: "new, stored, new with a matching Exact", expected: eventstore.Exact(1), events: []eventstore.EventData{batch(1)[0], b[0], batch(1)[0]}, want: conflict},
		{name: "the single event", before: func() { r2 = mustAppend(t, s, "g", eventstore.Exact(1), single...) },
			expected: eventstore.StreamExists(), events: single, want: duplicate, of: &r2},
		{name: "the first batch after the stream moved on", expected: eventstore.Exact(1), events: b, want: duplicate, of: &r1},
		{name: "the single event with a stale Exact", expected: eventstore.Exact(0), events: single, want: duplicate, of: &r2},
	}
	for _, st := range steps {
		if st.before != nil {
			st.before()
		}
		writes := db.writes
		res, err := s.Append(ctx, "g", st.expected, st.events...)
		switch st.want {
		case duplicate:
			if err != nil || !res.Duplicate || res.Version != st.of.Version || res.Position != st.of.Position {
				t.Fatalf("%s: %+v, %v; want Duplicate of %+v", st.name, res, err, *st.of)
			}
		case conflict:
			if !errors.Is(err, eventstore.ErrIDConflict) {
				t.Fatalf("%s: %+v, %v; want ErrIDConflict", st.name, res, err)
			}
		}
		if db.writes != writes {
			t.Fatalf("%s: wrote events", st.name)
		}
	}
}

// The limits of duplicate detection, as documented: with DedupWindow 2, a
// batch of 2 followed by up to 2 events is always recognised, one that the
// window only partly covers too (the window is widened), and past that only
// what the server itself recognises.
func TestAppendDuplicatesBeyondTheWindow(t *testing.T) {
	exact := func(h uint64) eventstore.ExpectedVersion { return eventstore.Exact(h) }
	noStream := func(uint64) eventstore.ExpectedVersion { return eventstore.NoStream() }
	anyVersion := func(uint64) eventstore.ExpectedVersion { return eventstore.Any() }
	cases := []struct {
		name     string
		later    int // events appended after the batch
		expected func(head uint64) eventstore.ExpectedVersion
		mixed    bool
		want     string // "duplicate", "stored" again, or "conflict"
	}{
		{"inside the window, Exact matching the head", 2, exact, false, "duplicate"},
		{"the window cuts through the batch, Exact matching the head", 3, exact, false, "duplicate"},
		{"the window cuts through a mixed batch", 3, anyVersion, true, "conflict"},
		{"past the window, NoStream pointing just before the batch: the server recognises it", 4, noStream, false, "duplicate"},
		{"past the window, Any while the ids are in the server's cache: recognised", 4, anyVersion, false, "duplicate"},
		{"past the window, Exact matching the head: stored again", 4, exact, false, "stored"},
		{"past the window, a mixed batch with Any whose first id the server knows: refused", 4, anyVersion, true, "conflict"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := newFakeDB()
			s := openFake(t, startFake(t, db), Options{DedupWindow: 2})
			b := batch(2)
			r1 := mustAppend(t, s, "g", eventstore.NoStream(), b...)
			head := r1
			for i := 0; i < tc.later; i++ {
				head = mustAppend(t, s, "g", eventstore.Any(), batch(1)...)
			}
			evs := b
			if tc.mixed {
				evs = []eventstore.EventData{b[0], batch(1)[0]}
			}
			writes := db.writes
			res, err := s.Append(testCtx(t), "g", tc.expected(head.Version), evs...)
			switch tc.want {
			case "duplicate":
				if err != nil || !res.Duplicate || res.Version != r1.Version || res.Position != r1.Position {
					t.Fatalf("retry = %+v, %v; want Duplicate of %+v", res, err, r1)
				}
			case "stored":
				if err != nil || res.Duplicate || res.Version != head.Version+2 || db.writes != writes+1 {
					t.Fatalf("retry = %+v, %v; want the batch stored again at version %d", res, err, head.Version+2)
				}
				return
			case "conflict":
				if !errors.Is(err, eventstore.ErrIDConflict) {
					t.Fatalf("retry = %+v, %v; want ErrIDConflict", res, err)
				}
			}
			if db.writes != writes {
				t.Fatal("wrote events")
			}
		})
	}
}

func TestAppendWithoutDedupWindow(t *testing.T) {
	db := newFakeDB()
	s := openFake(t, startFake(t, db), Options{DedupWindow: -1})
	b := batch(2)
	r1 := mustAppend(t, s, "g", eventstore.NoStream(), b...)
	// The server still recognises an exact retry, which is then reported
	// as a fresh append of the same events.
	res, err := s.Append(testCtx(t), "g", eventstore.NoStream(), b...)
	if err != nil || res.Version != r1.Version || res.Position != r1.Position {
		t.Fatalf("retry = %+v, %v; want the first append's result", res, err)
	}
	_, err = s.Append(testCtx(t), "g", eventstore.Exact(0), batch(1)...)
	var wv *eventstore.WrongVersionError
	if !errors.As(err, &wv) || wv.Actual != 1 || !wv.Exists {
		t.Fatalf("err = %v, want a WrongVersionError at version 1", err)
	}
}

func TestAppendRefusesBeforeCallingTheServer(t *testing.T) {
	db := newFakeDB()
	s := openFake(t, startFake(t, db), Options{})
	ctx := testCtx(t)
	id := uuid.NewString()
	cases := []struct {
		name   string
		stream string
		events []eventstore.EventData
		is     error
	}{
		{"not a UUID", "g", []eventstore.EventData{{ID: "evt-1", Type: "t"}}, ErrInvalidID},
		{"an upper-case UUID", "g", []eventstore.EventData{{ID: "0B7E5B3E-8C1F-4A53-9D4E-3F1B2A6C7D80", Type: "t"}}, ErrInvalidID},
		{"an id twice", "g", []eventstore.EventData{{ID: id, Type: "t"}, {ID: id, Type: "t"}}, eventstore.ErrIDConflict},
		{"no events", "g", nil, nil},
		{"no stream", "", batch(1), nil},
	}
	before := len(db.events())
	for _, tc := range cases {
		_, err := s.Append(ctx, tc.stream, eventstore.Any(), tc.events...)
		if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.is)
		}
	}
	if n := len(db.events()); n != before {
		t.Fatalf("refused appends stored %d events", n-before)
	}
}

func TestReadAllAndLastPosition(t *testing.T) {
	db := newFakeDB()
	s := openFake(t, startFake(t, db), Options{ReadPageSize: 3})
	ctx := testCtx(t)
	if p, err := s.LastPosition(ctx); err != nil || p != 0 {
		t.Fatalf("LastPosition with only system events = %d, %v; want 0", p, err)
	}
	var ids []string
	for i := 0; i < 7; i++ {
		b := batch(1 + i%2)
		mustAppend(t, s, fmt.Sprintf("g%d", i%3), eventstore.Any(), b...)
		for _, e := range b {
			ids = append(ids, e.ID)
		}
		// Other applications and the server write in between.
		db.add("orders-1", "order.placed", `{}`)
		if i%3 == 0 {
			db.add("$stats-127.0.0.1:2113", "$statsCollected", `{}`)
		}
	}
	all, err := s.ReadAll(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []string
	for i, e := range all {
		gotIDs = append(gotIDs, e.ID)
		if i > 0 && e.Position <= all[i-1].Position {
			t.Fatalf("positions %d then %d", all[i-1].Position, e.Position)
		}
	}
	if !reflect.DeepEqual(gotIDs, ids) {
		t.Fatalf("ReadAll ids %v, want the service's %v", gotIDs, ids)
	}
	db.add("orders-2", "order.placed", `{}`)
	last, err := s.LastPosition(ctx)
	if err != nil || last != all[len(all)-1].Position {
		t.Fatalf("LastPosition = %d, %v; want %d, past the other streams' events", last, err, all[len(all)-1].Position)
	}
	n := len(all)
	cases := []struct {
		name      string
		after     uint64
		limit     int
		wantFirst int
		wantLen   int
	}{
		{"all", 0, 1000, 0, n},
		{"head", 0, 2, 0, 2},
		{"after an event", all[1].Position, 3, 2, 3},
		{"inside a record", all[1].Position + 1, 3, 2, 3},
		{"between records", all[4].Position - 1, 100, 4, n - 4},
		{"tail", all[n-3].Position, 10, n - 2, 2},
		{"at the end", all[n-1].Position, 10, 0, 0},
		{"past the end of the log", all[n-1].Position + 1<<20, 10, 0, 0},
		{"nothing asked", 0, 0, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ReadAll(ctx, tc.after, tc.limit)
			if err != nil {
				t.Fatalf("ReadAll(%d, %d): %v", tc.after, tc.limit, err)
			}
			want := all[tc.wantFirst : tc.wantFirst+tc.wantLen]
			if len(got) != len(want) {
				t.Fatalf("ReadAll(%d, %d): %d events, want %d", tc.after, tc.limit, len(got), len(want))
			}
			for i := range got {
				if got[i].ID != want[i].ID || got[i].Position != want[i].Position {
					t.Fatalf("ReadAll(%d, %d): event %d = %s@%d, want %s@%d", tc.after, tc.limit, i, got[i].ID, got[i].Position, want[i].ID, want[i].Position)
				}
			}
		})
	}
}

// collect receives from sub until it has n events.
func collect(t *testing.T, ctx context.Context, sub eventstore.Subscription, n int) []eventstore.RecordedEvent {
	t.Helper()
	var got []eventstore.RecordedEvent
	for len(got) < n {
		b, err := sub.Recv(ctx)
		if err != nil {
			t.Fatalf("Recv after %d events: %v", len(got), err)
		}
		got = append(got, b...)
	}
	return got
}

func TestSubscribeSurvivesDrops(t *testing.T) {
	db := newFakeDB()
	// The first subscription drops after 2 events, the next is refused,
	// the one after drops before sending anything, then one after 3.
	db.openErrs = []error{nil, status.Error(codes.Unavailable, "fake: not ready")}
	db.drops = []int{2, 0, 3, -1}
	s := openFake(t, startFake(t, db), Options{ResubscribeMin: time.Millisecond, ResubscribeMax: 5 * time.Millisecond, SubscriptionBuffer: 4})
	ctx := testCtx(t)
	var want []string
	for i := 0; i < 4; i++ {
		b := batch(1)
		mustAppend(t, s, "g", eventstore.Any(), b...)
		want = append(want, b[0].ID)
		db.add("orders-1", "order.placed", `{}`)
	}
	sub, err := s.Subscribe(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // live appends race with the drops
		defer wg.Done()
		for i := 0; i < 6; i++ {
			b := batch(1)
			if _, err := s.Append(ctx, "h", eventstore.Any(), b...); err != nil {
				t.Errorf("Append: %v", err)
				return
			}
		}
	}()
	wg.Wait()
	all, err := s.ReadAll(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, ctx, sub, len(all))
	if len(got) != len(all) {
		t.Fatalf("received %d events, want %d", len(got), len(all))
	}
	for i := range got {
		if got[i].ID != all[i].ID || got[i].Position != all[i].Position {
			t.Fatalf("event %d = %s@%d, want %s@%d (no gaps, no repeats)", i, got[i].ID, got[i].Position, all[i].ID, all[i].Position)
		}
	}
	db.mu.Lock()
	froms := append([]string(nil), db.froms...)
	db.mu.Unlock()
	if len(froms) < 4 || froms[0] != "start" || froms[1] != fmt.Sprint(all[1].Position) {
		t.Fatalf("subscriptions started at %v; want start, then after the second event (%d), ...", froms, all[1].Position)
	}
}

func TestSubscribeFromAnyPosition(t *testing.T) {
	db := newFakeDB()
	s := openFake(t, startFake(t, db), Options{})
	ctx := testCtx(t)
	for i := 0; i < 4; i++ {
		mustAppend(t, s, "g", eventstore.Any(), batch(1)...)
	}
	all, err := s.ReadAll(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		after uint64
		first int
	}{
		{"an event's position", all[1].Position, 2},
		{"inside a record", all[1].Position + 3, 2},
		{"just before an event", all[3].Position - 1, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sub, err := s.Subscribe(ctx, tc.after)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			got := collect(t, ctx, sub, len(all)-tc.first)
			for i, e := range got {
				if e.ID != all[tc.first+i].ID {
					t.Fatalf("event %d = %s, want %s", i, e.ID, all[tc.first+i].ID)
				}
			}
		})
	}
}

func TestSubscriptionEndsOnPermanentError(t *testing.T) {
	db := newFakeDB()
	s := openFake(t, startFake(t, db), Options{})
	db.openErrs = []error{status.Error(codes.PermissionDenied, "Access denied")}
	sub, err := s.Subscribe(testCtx(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	_, err = sub.Recv(testCtx(t))
	if err == nil || retryable(err) || errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Recv = %v, want the access error", err)
	}
}

func TestClientIsReplacedAfterAnOutage(t *testing.T) {
	db := newFakeDB()
	fs := startFake(t, db)
	s := openFake(t, fs, Options{})
	ctx := testCtx(t)
	mustAppend(t, s, "g", eventstore.NoStream(), batch(1)...)
	fs.stop()
	// The client gives up discovery (one attempt, per the test URL) and
	// closes itself for good; the store must not stay stuck with it.
	for i := 0; i < 4; i++ {
		_, err := s.LastPosition(ctx)
		if err == nil {
			t.Fatal("LastPosition succeeded with the server down")
		}
		t.Logf("server down, call %d: %v", i, err)
	}
	fs.restart()
	var err error
	for i := 0; i < 3; i++ {
		if _, err = s.Append(ctx, "g", eventstore.Exact(0), batch(1)...); err == nil {
			return
		}
		t.Logf("server back, call %d: %v", i, err)
	}
	t.Fatalf("Append after the server came back: %v", err)
}

func TestClose(t *testing.T) {
	db := newFakeDB()
	s := openFake(t, startFake(t, db), Options{})
	ctx := testCtx(t)
	mustAppend(t, s, "g", eventstore.NoStream(), batch(1)...)
	sub, err := s.Subscribe(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	collect(t, ctx, sub, 1)
	errc := make(chan error, 1)
	go func() {
		_, err := sub.Recv(ctx)
		errc <- err
	}()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-errc; !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Recv blocked across Close = %v, want ErrClosed", err)
	}
	calls := map[string]func() error{
		"Append":       func() error { _, err := s.Append(ctx, "g", eventstore.Any(), batch(1)...); return err },
		"ReadStream":   func() error { _, err := s.ReadStream(ctx, "g", 0, 1); return err },
		"ReadAll":      func() error { _, err := s.ReadAll(ctx, 0, 1); return err },
		"LastPosition": func() error { _, err := s.LastPosition(ctx); return err },
		"Subscribe":    func() error { _, err := s.Subscribe(ctx, 0); return err },
		"Recv":         func() error { _, err := sub.Recv(ctx); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestOpenFails(t *testing.T) {
	fs := startFake(t, newFakeDB())
	fs.stop()
	ctx := testCtx(t)
	if _, err := Open(ctx, fs.url(), Options{Logger: quietLogger()}); err == nil {
		t.Fatal("Open succeeded with no server")
	}
	if _, err := Open(ctx, "http://localhost:2113", Options{}); err == nil {
		t.Fatal("Open accepted an http URL")
	}
	if _, err := Open(ctx, fs.url(), Options{StreamPrefix: "$bad"}); err == nil {
		t.Fatal("Open accepted a $ prefix")
	}
}
