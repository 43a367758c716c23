package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uuchat/groupchat/eventstore"
)

// Opener opens a fresh, empty store for one test and registers its cleanup
// with t. reopen closes the store (the one first returned, or the one reopen
// last returned; closing one the test already closed must be harmless) and
// opens the same underlying data again, so the suite can check what
// survives a close.
type Opener func(t *testing.T) (s eventstore.Store, reopen func() eventstore.Store)

// Features says which guarantees beyond the common contract a backend
// gives. The suite checks every guarantee a backend claims, and says in the
// test log which checks it left out for one that it does not claim.
type Features struct {
	// IDsUniqueAcrossStreams: an event id stored in one stream is refused
	// with ErrIDConflict in every other stream too. Without it ids are
	// unique within a stream, which is what retries need (a retried append
	// goes to the same stream); reusing an id in another stream is then the
	// caller's mistake, not detected.
	IDsUniqueAcrossStreams bool
}

// Run runs the whole suite as parallel subtests of t, each on its own store.
func Run(t *testing.T, open Opener, f Features) {
	for _, tc := range suite(f) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open)
		})
	}
}

func suite(f Features) []struct {
	name string
	run  func(*testing.T, Opener)
} {
	return []struct {
		name string
		run  func(*testing.T, Opener)
	}{
		{"AppendAndReadStream", testAppendAndReadStream},
		{"ExpectedVersion", testExpectedVersion},
		{"Idempotency", func(t *testing.T, open Opener) { testIdempotency(t, open, f) }},
		{"ConcurrentAppends", testConcurrentAppends},
		{"ReadStreamRange", testReadStreamRange},
		{"ReadAllRange", testReadAllRange},
		{"SubscribeCatchUpAndLive", testSubscribeCatchUpAndLive},
		{"SubscriptionStops", testSubscriptionStops},
		{"LastPosition", testLastPosition},
		{"Reopen", testReopen},
		{"Closed", testClosed},
	}
}

// guard only keeps a broken backend from hanging the test binary; no test
// depends on how fast anything is.
const guard = 60 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	t.Cleanup(cancel)
	return ctx
}

// newID returns a random RFC 4122 version 4 UUID, the kind of ID callers use.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newStream returns a stream name no other test uses.
func newStream(kind string) string { return "storetest-" + kind + "-" + newID() }

func newEvents(n int) []eventstore.EventData {
	evs := make([]eventstore.EventData, n)
	for i := range evs {
		id := newID()
		evs[i] = eventstore.EventData{
			ID:       id,
			Type:     fmt.Sprintf("storetest.event%d", i%3),
			Data:     []byte(fmt.Sprintf(`{"n":%d,"id":%q}`, i, id)),
			Metadata: []byte(`{"source":"storetest"}`),
		}
	}
	return evs
}

func mustAppend(t *testing.T, ctx context.Context, s eventstore.Store, stream string, exp eventstore.ExpectedVersion, evs ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(ctx, stream, exp, evs...)
	if err != nil {
		t.Fatalf("Append(%s, %s, %d events): %v", stream, exp, len(evs), err)
	}
	if res.Duplicate {
		t.Fatalf("Append(%s) of new ids reported Duplicate", stream)
	}
	return res
}

// readAll pages through the global log after the given position.
func readAll(t *testing.T, ctx context.Context, s eventstore.Store, after uint64) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	for {
		page, err := s.ReadAll(ctx, after, 97)
		if err != nil {
			t.Fatalf("ReadAll(%d): %v", after, err)
		}
		if len(page) == 0 {
			return out
		}
		if len(page) > 97 {
			t.Fatalf("ReadAll(%d, 97) returned %d events", after, len(page))
		}
		for _, e := range page {
			if e.Position <= after {
				t.Fatalf("ReadAll: position %d does not follow %d", e.Position, after)
			}
			after = e.Position
		}
		out = append(out, page...)
	}
}

// readStream pages through one stream from version 0.
func readStream(t *testing.T, ctx context.Context, s eventstore.Store, stream string) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	for {
		page, err := s.ReadStream(ctx, stream, uint64(len(out)), 89)
		if err != nil {
			t.Fatalf("ReadStream(%s, %d): %v", stream, len(out), err)
		}
		if len(page) == 0 {
			return out
		}
		if len(page) > 89 {
			t.Fatalf("ReadStream(%s, 89) returned %d events", stream, len(page))
		}
		out = append(out, page...)
	}
}

func lastPosition(t *testing.T, ctx context.Context, s eventstore.Store) uint64 {
	t.Helper()
	p, err := s.LastPosition(ctx)
	if err != nil {
		t.Fatalf("LastPosition: %v", err)
	}
	return p
}

// checkEvent compares a stored event with what was appended.
func checkEvent(t *testing.T, got eventstore.RecordedEvent, stream string, version uint64, want eventstore.EventData) {
	t.Helper()
	if got.ID != want.ID || got.Stream != stream || got.Version != version || got.Type != want.Type ||
		!bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Metadata, want.Metadata) {
		t.Fatalf("event = {ID %s, Stream %s, Version %d, Type %s, Data %q, Metadata %q}, want {ID %s, Stream %s, Version %d, Type %s, Data %q, Metadata %q}",
			got.ID, got.Stream, got.Version, got.Type, got.Data, got.Metadata,
			want.ID, stream, version, want.Type, want.Data, want.Metadata)
	}
	if got.Position == 0 {
		t.Fatalf("event %s has position 0", got.ID)
	}
	if got.Recorded.IsZero() {
		t.Fatalf("event %s has no Recorded time", got.ID)
	}
}

func sameEvent(a, b eventstore.RecordedEvent) bool {
	return a.ID == b.ID && a.Stream == b.Stream && a.Version == b.Version && a.Position == b.Position &&
		a.Type == b.Type && bytes.Equal(a.Data, b.Data) && bytes.Equal(a.Metadata, b.Metadata) &&
		a.Recorded.Equal(b.Recorded)
}

// sameEvents fails unless got and want are the same events in the same order.
func sameEvents(t *testing.T, what string, got, want []eventstore.RecordedEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !sameEvent(got[i], want[i]) {
			t.Fatalf("%s: event %d = %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

func wantWrongVersion(t *testing.T, err error, stream string, exp eventstore.ExpectedVersion, actual uint64, exists bool) {
	t.Helper()
	if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("err = %v, want ErrWrongExpectedVersion", err)
	}
	var wv *eventstore.WrongVersionError
	if !errors.As(err, &wv) {
		t.Fatalf("err = %T %v, want *WrongVersionError", err, err)
	}
	if wv.Stream != stream || wv.Expected != exp || wv.Exists != exists || (exists && wv.Actual != actual) {
		t.Fatalf("WrongVersionError = {Stream %s, Expected %s, Actual %d, Exists %v}, want {Stream %s, Expected %s, Actual %d, Exists %v}",
			wv.Stream, wv.Expected, wv.Actual, wv.Exists, stream, exp, actual, exists)
	}
}

func testAppendAndReadStream(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := testContext(t)
	stream := newStream("append")

	first := newEvents(3)
	r1 := mustAppend(t, ctx, s, stream, eventstore.NoStream(), first...)
	if r1.Version != 2 || r1.Position == 0 {
		t.Fatalf("first append = %+v, want Version 2 and a position", r1)
	}
	second := newEvents(2)
	r2 := mustAppend(t, ctx, s, stream, eventstore.Exact(2), second...)
	if r2.Version != 4 || r2.Position <= r1.Position {
		t.Fatalf("second append = %+v after %+v, want Version 4 and a later position", r2, r1)
	}

	got := readStream(t, ctx, s, stream)
	want := append(append([]eventstore.EventData{}, first...), second...)
	if len(got) != len(want) {
		t.Fatalf("ReadStream: %d events, want %d", len(got), len(want))
	}
	for i, e := range got {
		checkEvent(t, e, stream, uint64(i), want[i])
		if i > 0 && e.Position <= got[i-1].Position {
			t.Fatalf("positions %d then %d do not increase", got[i-1].Position, e.Position)
		}
	}
	if got[2].Position != r1.Position || got[4].Position != r2.Position {
		t.Fatalf("append results %+v %+v do not name the batches' last events (positions %d, %d)",
			r1, r2, got[2].Position, got[4].Position)
	}

	// One stream does not see another's events, and a missing stream reads
	// as empty rather than as an error.
	other := newStream("append-other")
	mustAppend(t, ctx, s, other, eventstore.Any(), newEvents(1)...)
	if n := len(readStream(t, ctx, s, stream)); n != 5 {
		t.Fatalf("stream has %d events after another stream's append, want 5", n)
	}
	if got, err := s.ReadStream(ctx, newStream("missing"), 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("ReadStream(missing) = %d events, %v; want none, nil", len(got), err)
	}
}

func testExpectedVersion(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := testContext(t)
	cases := []struct {
		name     string
		existing int
		expected eventstore.ExpectedVersion
		ok       bool
	}{
		{"Any/empty", 0, eventstore.Any(), true},
		{"Any/existing", 2, eventstore.Any(), true},
		{"NoStream/empty", 0, eventstore.NoStream(), true},
		{"NoStream/existing", 2, eventstore.NoStream(), false},
		{"StreamExists/empty", 0, eventstore.StreamExists(), false},
		{"StreamExists/existing", 2, eventstore.StreamExists(), true},
		{"Exact/current", 2, eventstore.Exact(1), true},
		{"Exact/first", 1, eventstore.Exact(0), true},
		{"Exact/behind", 3, eventstore.Exact(1), false},
		{"Exact/ahead", 2, eventstore.Exact(5), false},
		{"Exact/empty", 0, eventstore.Exact(0), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stream := newStream("expected")
			for i := 0; i < tc.existing; i++ {
				mustAppend(t, ctx, s, stream, eventstore.Any(), newEvents(1)...)
			}
			before := lastPosition(t, ctx, s)
			evs := newEvents(2)
			res, err := s.Append(ctx, stream, tc.expected, evs...)
			if tc.ok {
				if err != nil {
					t.Fatalf("Append: %v", err)
				}
				if want := uint64(tc.existing + 1); res.Version != want || res.Duplicate {
					t.Fatalf("Append = %+v, want Version %d", res, want)
				}
				if n := len(readStream(t, ctx, s, stream)); n != tc.existing+2 {
					t.Fatalf("stream has %d events, want %d", n, tc.existing+2)
				}
				return
			}
			wantWrongVersion(t, err, stream, tc.expected, uint64(tc.existing-1), tc.existing > 0)
			if n := len(readStream(t, ctx, s, stream)); n != tc.existing {
				t.Fatalf("refused append changed the stream: %d events, want %d", n, tc.existing)
			}
			if after := lastPosition(t, ctx, s); after != before {
				t.Fatalf("refused append moved LastPosition from %d to %d", before, after)
			}
			// The refused IDs were not stored: the same batch goes through
			// with the right expectation.
			exp := eventstore.NoStream()
			if tc.existing > 0 {
				exp = eventstore.Exact(uint64(tc.existing - 1))
			}
			mustAppend(t, ctx, s, stream, exp, evs...)
		})
	}
}

func testIdempotency(t *testing.T, open Opener, f Features) {
	s, _ := open(t)
	ctx := testContext(t)
	stream := newStream("idem")

	batch := newEvents(2)
	r1 := mustAppend(t, ctx, s, stream, eventstore.NoStream(), batch...)
	last := lastPosition(t, ctx, s)

	retry := func(name string, exp eventstore.ExpectedVersion, want eventstore.AppendResult, evs ...eventstore.EventData) {
		t.Helper()
		res, err := s.Append(ctx, stream, exp, evs...)
		if err != nil {
			t.Fatalf("%s: retry: %v", name, err)
		}
		if !res.Duplicate || res.Version != want.Version || res.Position != want.Position {
			t.Fatalf("%s: retry = %+v, want Duplicate with Version %d Position %d", name, res, want.Version, want.Position)
		}
	}
	// The expectation no longer holds, yet a retry is still a duplicate.
	retry("stale NoStream", eventstore.NoStream(), r1, batch...)
	retry("matching Exact", eventstore.Exact(1), r1, batch...)
	retry("Any", eventstore.Any(), r1, batch...)
	retry("wrong Exact", eventstore.Exact(7), r1, batch...)

	single := newEvents(1)
	r2 := mustAppend(t, ctx, s, stream, eventstore.Exact(1), single...)
	last2 := lastPosition(t, ctx, s)
	if last2 <= last {
		t.Fatalf("LastPosition %d did not grow past %d", last2, last)
	}
	retry("older batch after the stream moved", eventstore.Exact(1), r1, batch...)
	retry("single event", eventstore.StreamExists(), r2, single...)
	retry("single event, stale Exact", eventstore.Exact(0), r2, single...)
	if got := lastPosition(t, ctx, s); got != last2 {
		t.Fatalf("duplicates moved LastPosition from %d to %d", last2, got)
	}
	if n := len(readStream(t, ctx, s, stream)); n != 3 {
		t.Fatalf("stream has %d events after retries, want 3", n)
	}

	// A batch mixing stored and new IDs is refused whole, in either order,
	// and so is an ID that lives in another stream (where the backend
	// claims it).
	fresh := newEvents(2)
	conflicts := []struct {
		name   string
		stream string
		exp    eventstore.ExpectedVersion
		evs    []eventstore.EventData
	}{
		{"stored then new", stream, eventstore.Any(), []eventstore.EventData{batch[0], fresh[0]}},
		{"new then stored", stream, eventstore.Any(), []eventstore.EventData{fresh[0], batch[1]}},
		{"new, stored, new", stream, eventstore.Exact(2), []eventstore.EventData{fresh[0], single[0], fresh[1]}},
		{"other stream", newStream("idem-other"), eventstore.Any(), batch[:1]},
		{"other stream, whole batch", newStream("idem-other"), eventstore.NoStream(), batch},
	}
	if !f.IDsUniqueAcrossStreams {
		t.Log("left out: ids reused in another stream (the backend keeps ids unique per stream only)")
		conflicts = conflicts[:3]
	}
	for _, c := range conflicts {
		_, err := s.Append(ctx, c.stream, c.exp, c.evs...)
		if !errors.Is(err, eventstore.ErrIDConflict) {
			t.Fatalf("%s: err = %v, want ErrIDConflict", c.name, err)
		}
		if c.stream != stream {
			if n := len(readStream(t, ctx, s, c.stream)); n != 0 {
				t.Fatalf("%s: refused append wrote %d events", c.name, n)
			}
		}
	}
	if got := lastPosition(t, ctx, s); got != last2 {
		t.Fatalf("refused appends moved LastPosition from %d to %d", last2, got)
	}
	if n := len(readStream(t, ctx, s, stream)); n != 3 {
		t.Fatalf("stream has %d events after conflicts, want 3", n)
	}
	// Nothing of the refused batches was kept: the new IDs go in cleanly.
	r3 := mustAppend(t, ctx, s, stream, eventstore.Exact(2), fresh...)
	if r3.Version != 4 {
		t.Fatalf("append after conflicts = %+v, want Version 4", r3)
	}
}

func testConcurrentAppends(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := testContext(t)
	const (
		streams          = 16
		writersPerStream = 3
		appendsPerWriter = 12
		maxAttempts      = 10000
	)
	type appended struct {
		stream string
		ids    []string
		res    eventstore.AppendResult
	}
	var (
		mu      sync.Mutex
		results []appended
		wg      sync.WaitGroup
	)
	names := make(map[string]bool)
	for si := 0; si < streams; si++ {
		stream := newStream(fmt.Sprintf("concurrent%02d", si))
		names[stream] = true
		for wi := 0; wi < writersPerStream; wi++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Writer 0 appends blindly; the others use optimistic
				// concurrency and retry with the version a conflict reports.
				exp := eventstore.NoStream()
				for k := 0; k < appendsPerWriter; k++ {
					evs := newEvents(1 + (k+wi)%3)
					var (
						res eventstore.AppendResult
						err error
					)
					for attempt := 0; ; attempt++ {
						if attempt == maxAttempts {
							t.Errorf("%s: no progress after %d conflicts", stream, attempt)
							return
						}
						if wi == 0 {
							res, err = s.Append(ctx, stream, eventstore.Any(), evs...)
						} else {
							res, err = s.Append(ctx, stream, exp, evs...)
						}
						var wv *eventstore.WrongVersionError
						if errors.As(err, &wv) && wi != 0 {
							exp = eventstore.NoStream()
							if wv.Exists {
								exp = eventstore.Exact(wv.Actual)
							}
							continue
						}
						break
					}
					if err != nil {
						t.Errorf("Append(%s): %v", stream, err)
						return
					}
					if res.Duplicate {
						t.Errorf("Append(%s) of new ids reported Duplicate", stream)
						return
					}
					exp = eventstore.Exact(res.Version)
					ids := make([]string, len(evs))
					for i, e := range evs {
						ids[i] = e.ID
					}
					mu.Lock()
					results = append(results, appended{stream, ids, res})
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	all := readAll(t, ctx, s, 0)
	byPos := make(map[uint64]eventstore.RecordedEvent, len(all))
	seen := make(map[string]bool, len(all))
	next := make(map[string]uint64)
	for i, e := range all {
		if i > 0 && e.Position <= all[i-1].Position {
			t.Fatalf("positions %d then %d do not increase", all[i-1].Position, e.Position)
		}
		if seen[e.ID] {
			t.Fatalf("id %s stored twice", e.ID)
		}
		seen[e.ID] = true
		byPos[e.Position] = e
		if !names[e.Stream] {
			continue
		}
		// In position order each stream's versions must be 0, 1, 2, ...
		if e.Version != next[e.Stream] {
			t.Fatalf("%s: version %d at position %d, want %d", e.Stream, e.Version, e.Position, next[e.Stream])
		}
		next[e.Stream]++
	}
	type slot struct {
		stream  string
		version uint64
	}
	bySlot := make(map[slot]string, len(all))
	for _, e := range all {
		bySlot[slot{e.Stream, e.Version}] = e.ID
	}
	total := 0
	for _, r := range results {
		total += len(r.ids)
		// The result names the batch's last event, and the batch sits in
		// consecutive versions of its stream.
		e, ok := byPos[r.res.Position]
		if !ok || e.ID != r.ids[len(r.ids)-1] || e.Version != r.res.Version || e.Stream != r.stream {
			t.Fatalf("result %+v does not name event %s of %s", r.res, r.ids[len(r.ids)-1], r.stream)
		}
		for i, id := range r.ids {
			v := r.res.Version - uint64(len(r.ids)-1-i)
			if got := bySlot[slot{r.stream, v}]; got != id {
				t.Fatalf("%s version %d holds %q, want %s", r.stream, v, got, id)
			}
		}
	}
	var stored uint64
	for _, n := range next {
		stored += n
	}
	if stored != uint64(total) {
		t.Fatalf("%d events stored, %d appended", stored, total)
	}
	if last := lastPosition(t, ctx, s); last != all[len(all)-1].Position {
		t.Fatalf("LastPosition = %d, want %d", last, all[len(all)-1].Position)
	}
}

func testReadStreamRange(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := testContext(t)
	stream, other := newStream("range"), newStream("range-other")
	var evs []eventstore.EventData
	for _, n := range []int{3, 1, 4, 2} {
		batch := newEvents(n)
		evs = append(evs, batch...)
		mustAppend(t, ctx, s, stream, eventstore.Any(), batch...)
		mustAppend(t, ctx, s, other, eventstore.Any(), newEvents(2)...)
	}
	cases := []struct {
		name      string
		from      uint64
		max       int
		wantFirst int
		wantLen   int
	}{
		{"all", 0, 100, 0, 10},
		{"exactly all", 0, 10, 0, 10},
		{"head", 0, 3, 0, 3},
		{"middle", 4, 3, 4, 3},
		{"tail cut by end", 8, 5, 8, 2},
		{"last", 9, 1, 9, 1},
		{"one", 5, 1, 5, 1},
		{"at end", 10, 5, 0, 0},
		{"past end", 1000, 5, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ReadStream(ctx, stream, tc.from, tc.max)
			if err != nil {
				t.Fatalf("ReadStream(%d, %d): %v", tc.from, tc.max, err)
			}
			if len(got) != tc.wantLen {
				t.Fatalf("ReadStream(%d, %d): %d events, want %d", tc.from, tc.max, len(got), tc.wantLen)
			}
			for i, e := range got {
				v := tc.wantFirst + i
				checkEvent(t, e, stream, uint64(v), evs[v])
			}
		})
	}
}

func testReadAllRange(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := testContext(t)
	base := lastPosition(t, ctx, s)
	a, b := newStream("all-a"), newStream("all-b")
	type placed struct {
		stream  string
		version uint64
		data    eventstore.EventData
	}
	var order []placed
	for i := 0; i < 4; i++ {
		for _, st := range []string{a, b} {
			batch := newEvents(1 + i%2)
			res := mustAppend(t, ctx, s, st, eventstore.Any(), batch...)
			for j, e := range batch {
				order = append(order, placed{st, res.Version - uint64(len(batch)-1-j), e})
			}
		}
	}
	log := readAll(t, ctx, s, base)
	if len(log) != len(order) {
		t.Fatalf("ReadAll: %d events, want %d", len(log), len(order))
	}
	for i, e := range log {
		checkEvent(t, e, order[i].stream, order[i].version, order[i].data)
	}
	n := len(log)
	cases := []struct {
		name      string
		after     uint64
		max       int
		wantFirst int
		wantLen   int
	}{
		{"all", base, 1000, 0, n},
		{"head", base, 2, 0, 2},
		{"middle", log[1].Position, 3, 2, 3},
		{"tail cut by end", log[n-3].Position, 10, n - 2, 2},
		{"last", log[n-2].Position, 1, n - 1, 1},
		{"at end", log[n-1].Position, 10, 0, 0},
		{"past end", log[n-1].Position + 1000, 10, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ReadAll(ctx, tc.after, tc.max)
			if err != nil {
				t.Fatalf("ReadAll(%d, %d): %v", tc.after, tc.max, err)
			}
			sameEvents(t, fmt.Sprintf("ReadAll(%d, %d)", tc.after, tc.max), got, log[tc.wantFirst:tc.wantFirst+tc.wantLen])
		})
	}
}

// collect receives until the event with stopID arrives.
func collect(ctx context.Context, sub eventstore.Subscription, stopID string) ([]eventstore.RecordedEvent, error) {
	var got []eventstore.RecordedEvent
	for {
		batch, err := sub.Recv(ctx)
		if err != nil {
			return got, fmt.Errorf("after %d events: %w", len(got), err)
		}
		if len(batch) == 0 {
			return got, errors.New("Recv returned no events and no error")
		}
		got = append(got, batch...)
		for _, e := range batch {
			if e.ID == stopID {
				return got, nil
			}
		}
	}
}

func testSubscribeCatchUpAndLive(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := testContext(t)

	// History, so subscriptions start in catch-up.
	hist := []string{newStream("sub-h0"), newStream("sub-h1"), newStream("sub-h2")}
	for i := 0; i < 30; i++ {
		mustAppend(t, ctx, s, hist[i%3], eventstore.Any(), newEvents(1+i%2)...)
	}
	history := readAll(t, ctx, s, 0)
	mid := history[len(history)/2].Position
	sentinel := newEvents(1)

	type result struct {
		after uint64
		got   []eventstore.RecordedEvent
		err   error
	}
	results := make(chan result, 3)
	subscribe := func(after uint64) {
		sub, err := s.Subscribe(ctx, after)
		if err != nil {
			t.Fatalf("Subscribe(%d): %v", after, err)
		}
		t.Cleanup(func() { sub.Close() })
		go func() {
			got, err := collect(ctx, sub, sentinel[0].ID)
			results <- result{after, got, err}
		}()
	}
	subscribe(0)
	subscribe(mid)

	// Live appends race with the subscribers' catch-up, and the third
	// subscription starts while they are under way.
	const writers, appends = 4, 20
	var wg sync.WaitGroup
	started := make(chan struct{}, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := newStream(fmt.Sprintf("sub-live%d", w))
			for k := 0; k < appends; k++ {
				if _, err := s.Append(ctx, stream, eventstore.Any(), newEvents(1+(k+w)%3)...); err != nil {
					t.Errorf("Append(%s): %v", stream, err)
					return
				}
				if k == 2 {
					started <- struct{}{}
				}
			}
		}()
	}
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatalf("no live append got through")
	}
	subscribe(lastPosition(t, ctx, s))
	wg.Wait()
	if t.Failed() {
		return
	}
	mustAppend(t, ctx, s, newStream("sub-sentinel"), eventstore.NoStream(), sentinel...)

	for i := 0; i < 3; i++ {
		r := <-results
		if r.err != nil {
			t.Fatalf("subscription after %d: %v", r.after, r.err)
		}
		want := readAll(t, ctx, s, r.after)
		sameEvents(t, fmt.Sprintf("subscription after %d", r.after), r.got, want)
	}
}

// recvErr runs Recv in a goroutine, lets act run, and returns Recv's error.
func recvErr(t *testing.T, ctx, recvCtx context.Context, sub eventstore.Subscription, act func()) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		batch, err := sub.Recv(recvCtx)
		if err == nil {
			err = fmt.Errorf("Recv returned %d events and no error", len(batch))
		}
		errc <- err
	}()
	act()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		t.Fatalf("Recv did not return")
		return nil
	}
}

func testSubscriptionStops(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := testContext(t)
	stream := newStream("stop")
	mustAppend(t, ctx, s, stream, eventstore.NoStream(), newEvents(1)...)

	sub, err := s.Subscribe(ctx, lastPosition(t, ctx, s))
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	// Cancelling one Recv's context ends that Recv only.
	rctx, cancel := context.WithCancel(ctx)
	if err := recvErr(t, ctx, rctx, sub, cancel); !errors.Is(err, context.Canceled) {
		t.Fatalf("Recv after cancel: %v, want context.Canceled", err)
	}
	evs := newEvents(1)
	mustAppend(t, ctx, s, stream, eventstore.Exact(0), evs...)
	batch, err := sub.Recv(ctx)
	if err != nil || len(batch) != 1 || batch[0].ID != evs[0].ID {
		t.Fatalf("Recv after a cancelled Recv = %v, %v; want the new event", batch, err)
	}
	// Close wakes a blocked Recv, and later calls keep failing.
	if err := recvErr(t, ctx, ctx, sub, func() { sub.Close() }); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Recv after Close: %v, want ErrClosed", err)
	}
	if _, err := sub.Recv(ctx); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("second Recv after Close: %v, want ErrClosed", err)
	}
	sub.Close()

	// Cancelling the context given to Subscribe ends the subscription.
	sctx, scancel := context.WithCancel(ctx)
	sub2, err := s.Subscribe(sctx, lastPosition(t, ctx, s))
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	defer sub2.Close()
	if err := recvErr(t, ctx, ctx, sub2, scancel); !errors.Is(err, context.Canceled) && !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Recv after the subscription's context ended: %v, want context.Canceled or ErrClosed", err)
	}

	// Closing the store ends its subscriptions.
	sub3, err := s.Subscribe(ctx, lastPosition(t, ctx, s))
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	defer sub3.Close()
	if err := recvErr(t, ctx, ctx, sub3, func() { s.Close() }); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Recv after store Close: %v, want ErrClosed", err)
	}
}

func testLastPosition(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := testContext(t)
	if p := lastPosition(t, ctx, s); p != 0 {
		t.Fatalf("LastPosition of a new store = %d, want 0", p)
	}
	a, b := newStream("last-a"), newStream("last-b")
	var prev uint64
	for i := 0; i < 5; i++ {
		st := a
		if i%2 == 1 {
			st = b
		}
		res := mustAppend(t, ctx, s, st, eventstore.Any(), newEvents(1+i%3)...)
		p := lastPosition(t, ctx, s)
		if p != res.Position || p <= prev {
			t.Fatalf("LastPosition = %d after append at %d (previous %d)", p, res.Position, prev)
		}
		prev = p
	}
	if _, err := s.Append(ctx, a, eventstore.NoStream(), newEvents(1)...); !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("Append(NoStream) to an existing stream: %v", err)
	}
	if p := lastPosition(t, ctx, s); p != prev {
		t.Fatalf("refused append moved LastPosition from %d to %d", prev, p)
	}
}

func testReopen(t *testing.T, open Opener) {
	s, reopen := open(t)
	ctx := testContext(t)
	streams := []string{newStream("reopen-a"), newStream("reopen-b"), newStream("reopen-c")}
	var lastBatch []eventstore.EventData
	var lastRes eventstore.AppendResult
	for i := 0; i < 9; i++ {
		lastBatch = newEvents(1 + i%3)
		lastRes = mustAppend(t, ctx, s, streams[i%3], eventstore.Any(), lastBatch...)
	}
	before := readAll(t, ctx, s, 0)
	lastBefore := lastPosition(t, ctx, s)

	s = reopen()
	sameEvents(t, "log after reopen", readAll(t, ctx, s, 0), before)
	if p := lastPosition(t, ctx, s); p != lastBefore {
		t.Fatalf("LastPosition after reopen = %d, want %d", p, lastBefore)
	}
	// Stream heads, idempotency and positions carry over.
	a := readStream(t, ctx, s, streams[0])
	_, err := s.Append(ctx, streams[0], eventstore.NoStream(), newEvents(1)...)
	wantWrongVersion(t, err, streams[0], eventstore.NoStream(), a[len(a)-1].Version, true)
	res, err := s.Append(ctx, streams[2], eventstore.Exact(0), lastBatch...)
	if err != nil || !res.Duplicate || res.Position != lastRes.Position || res.Version != lastRes.Version {
		t.Fatalf("retry after reopen = %+v, %v; want Duplicate of %+v", res, err, lastRes)
	}
	next := newEvents(2)
	r := mustAppend(t, ctx, s, streams[0], eventstore.Exact(a[len(a)-1].Version), next...)
	if r.Version != a[len(a)-1].Version+2 || r.Position <= lastBefore {
		t.Fatalf("append after reopen = %+v, want Version %d and position > %d", r, a[len(a)-1].Version+2, lastBefore)
	}
	after := readAll(t, ctx, s, 0)

	s = reopen()
	sameEvents(t, "log after second reopen", readAll(t, ctx, s, 0), after)
	sub, err := s.Subscribe(ctx, 0)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	defer sub.Close()
	got, err := collect(ctx, sub, next[1].ID)
	if err != nil {
		t.Fatalf("subscription after reopen: %v", err)
	}
	sameEvents(t, "subscription after reopen", got, after)
}

func testClosed(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := testContext(t)
	stream := newStream("closed")
	mustAppend(t, ctx, s, stream, eventstore.NoStream(), newEvents(1)...)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"Append", func() error {
			_, err := s.Append(ctx, stream, eventstore.Any(), newEvents(1)...)
			return err
		}},
		{"ReadStream", func() error { _, err := s.ReadStream(ctx, stream, 0, 10); return err }},
		{"ReadAll", func() error { _, err := s.ReadAll(ctx, 0, 10); return err }},
		{"Subscribe", func() error { _, err := s.Subscribe(ctx, 0); return err }},
		{"LastPosition", func() error { _, err := s.LastPosition(ctx); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("%s on a closed store: %v, want ErrClosed", c.name, err)
		}
	}
	if err := s.Close(); err != nil && !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}
