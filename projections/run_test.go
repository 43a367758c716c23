package projections_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/eventstore/sqlite"
	"github.com/uuchat/groupchat/projections"
)

func openStore(t testing.TB) eventstore.Store {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// recorder collects what Run hands to onApplied.
type recorder struct {
	mu     sync.Mutex
	calls  int
	events []eventstore.RecordedEvent
	// inCall detects two calls at once.
	inCall bool
	t      *testing.T
}

func (r *recorder) onApplied(ctx context.Context, events []eventstore.RecordedEvent) {
	r.mu.Lock()
	if r.inCall {
		r.t.Error("onApplied called while another call was running")
	}
	r.inCall = true
	r.calls++
	r.events = append(r.events, events...)
	r.inCall = false
	r.mu.Unlock()
}

func (r *recorder) positions() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []uint64
	for _, e := range r.events {
		out = append(out, e.Position)
	}
	return out
}

// startRun runs db.Run until the returned stop is called; stop returns
// Run's error.
func startRun(t *testing.T, db *projections.DB, store eventstore.Store, onApplied func(context.Context, []eventstore.RecordedEvent)) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- db.Run(ctx, store, projections.RunOptions{OnApplied: onApplied}) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return within 10s of its context ending")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func waitFor(t *testing.T, db *projections.DB, pos uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.WaitFor(ctx, pos); err != nil {
		cp, _ := db.Checkpoint(context.Background())
		t.Fatalf("waiting for position %d (checkpoint %d): %v", pos, cp, err)
	}
}

func TestRunFollowsTheStore(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	path := filepath.Join(t.TempDir(), "p.db")
	db, err := projections.Open(path)
	if err != nil {
		t.Fatal(err)
	}

	// Events stored before Run starts are caught up on.
	l := newGroup(t)
	post(l, t, alice, "1", bob)
	if err := l.AppendTo(ctx, store); err != nil {
		t.Fatal(err)
	}
	baseline := runtime.NumGoroutine()
	rec := &recorder{t: t}
	stop := startRun(t, db, store, rec.onApplied)
	waitFor(t, db, 2)

	// Live events appear as they are appended, one append at a time.
	var appended []uint64
	for i := range 30 {
		evs := l.Must(t, "g", domain.PostMessage{Sender: carol, ID: "live" + string(rune('a'+i)), Body: "live"})
		res, err := store.Append(ctx, "g", eventstore.Exact(evs[0].Version-1), eventstore.EventData{ID: evs[0].ID, Type: evs[0].Type, Data: evs[0].Data})
		if err != nil {
			t.Fatal(err)
		}
		appended = append(appended, res.Position)
		if i%10 == 0 {
			// Read-your-writes: WaitFor the append's position, then query.
			waitFor(t, db, res.Position)
			if c, _, _ := db.Counters(ctx, "g", bob); c.Unread != 2+i {
				t.Fatalf("after live message %d, bob's unread = %d, want %d", i, c.Unread, 2+i)
			}
		}
	}
	waitFor(t, db, appended[len(appended)-1])
	// OnApplied follows each batch's commit, which WaitFor already sees.
	for i := 0; len(rec.positions()) < 2+len(appended) && i < 1000; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatalf("Run returned %v after its context ended", err)
	}
	// Run's goroutines, and the router's, are gone once it returns (the
	// runtime may take a moment to retire them).
	for i := 0; runtime.NumGoroutine() > baseline && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		t.Errorf("%d goroutines after Run returned, %d before it started", n, baseline)
	}
	want := []uint64{1, 2}
	want = append(want, appended...)
	if got := rec.positions(); !reflect.DeepEqual(got, want) {
		t.Fatalf("onApplied saw positions %v, want %v in order", got, want)
	}

	// A restart resumes after the checkpoint: nothing is applied twice.
	l.Must(t, "g", domain.MarkRead{Reader: bob})
	more := l.Events[len(l.Events)-1]
	res, err := store.Append(ctx, "g", eventstore.Exact(more.Version-1), eventstore.EventData{ID: more.ID, Type: more.Type, Data: more.Data})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = projections.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec2 := &recorder{t: t}
	stop = startRun(t, db, store, rec2.onApplied)
	waitFor(t, db, res.Position)
	// OnApplied follows the batch's commit, which WaitFor already sees.
	for i := 0; len(rec2.positions()) == 0 && i < 1000; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := rec2.positions(); !reflect.DeepEqual(got, []uint64{res.Position}) {
		t.Errorf("after a restart onApplied saw %v, want only %d", got, res.Position)
	}
	if c, _, _ := db.Counters(ctx, "g", bob); c != (projections.Counters{ReadUpto: more.Version - 1}) {
		t.Errorf("bob's counters after reading everything: %+v", c)
	}
	all, _ := store.ReadAll(ctx, 0, 1000)
	if got, want := dump(t, db), built(t, all); !reflect.DeepEqual(got, want) {
		compareDumps(t, "run", got, "built", want)
	}
}

func TestRunStopsOnAnInvalidEvent(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	db := openDB(t)
	l := newGroup(t)
	if err := l.AppendTo(ctx, store); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, "g", eventstore.Exact(0), eventstore.EventData{ID: "bad", Type: domain.TypeMessagePosted, Data: []byte("not json")}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- db.Run(ctx, store, projections.RunOptions{}) }()
	select {
	case err := <-done:
		if !errors.Is(err, projections.ErrInvalidEvent) {
			t.Errorf("Run = %v, want ErrInvalidEvent", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run kept going past an event it cannot apply")
	}
	if cp, _ := db.Checkpoint(ctx); cp >= 2 {
		t.Errorf("checkpoint %d: the invalid event at 2 was committed", cp)
	}
}

func TestRunEndsWhenTheStoreCloses(t *testing.T) {
	store := openStore(t)
	db := openDB(t)
	done := make(chan error, 1)
	go func() { done <- db.Run(context.Background(), store, projections.RunOptions{}) }()
	time.Sleep(50 * time.Millisecond)
	store.Close()
	select {
	case err := <-done:
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("Run = %v, want the store's ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run kept going after the store closed")
	}
}

// logRecorder is a slog.Handler that keeps every record with the attributes
// its logger was given, so a test can see what went to that logger.
type logRecorder struct {
	attrs []slog.Attr
	mu    *sync.Mutex
	recs  *[]recorded
}

type recorded struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func newLogRecorder() logRecorder { return logRecorder{mu: new(sync.Mutex), recs: new([]recorded)} }

func (logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (r logRecorder) Handle(_ context.Context, rec slog.Record) error {
	attrs := map[string]string{}
	for _, a := range r.attrs {
		attrs[a.Key] = a.Value.String()
	}
	rec.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.recs = append(*r.recs, recorded{rec.Level, rec.Message, attrs})
	return nil
}

func (r logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	r.attrs = append(slices.Clip(r.attrs), as...)
	return r
}

// WithGroup is not used by the projector's loggers; the group's attributes
// are kept unqualified.
func (r logRecorder) WithGroup(string) slog.Handler { return r }

func (r logRecorder) records() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(*r.recs)
}

// TestRunLogsToTheGivenLogger: the projector's lines (the router's
// lifecycle at debug, the failing batch as an error) go to
// RunOptions.Logger, tagged with the component, and none at info: the
// router's chatter is demoted to debug.
func TestRunLogsToTheGivenLogger(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	db := openDB(t)
	l := newGroup(t)
	if err := l.AppendTo(ctx, store); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, "g", eventstore.Exact(0), eventstore.EventData{ID: "bad", Type: domain.TypeMessagePosted, Data: []byte("not json")}); err != nil {
		t.Fatal(err)
	}
	rec := newLogRecorder()
	if err := db.Run(ctx, store, projections.RunOptions{Logger: slog.New(rec)}); !errors.Is(err, projections.ErrInvalidEvent) {
		t.Fatalf("Run = %v, want ErrInvalidEvent", err)
	}
	levels := map[slog.Level]int{}
	failed := false
	for _, r := range rec.records() {
		levels[r.level]++
		if r.attrs["component"] != "projections" {
			t.Errorf("%s %q lacks component=projections: %v", r.level, r.msg, r.attrs)
		}
		if r.level == slog.LevelError && strings.Contains(r.attrs["error"], "invalid event") {
			failed = true
		}
	}
	if !failed {
		t.Errorf("no error record for the invalid event in %+v", rec.records())
	}
	if levels[slog.LevelDebug] == 0 {
		t.Errorf("no debug records (the router's lifecycle) in %+v", rec.records())
	}
	if levels[slog.LevelInfo] != 0 {
		t.Errorf("%d info records: the router's chatter must be at debug: %+v", levels[slog.LevelInfo], rec.records())
	}
}
