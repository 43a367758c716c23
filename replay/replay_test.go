package replay_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/eventstore/sqlite"
	"github.com/uuchat/groupchat/projections"
	"github.com/uuchat/groupchat/projections/projectionstest"
	"github.com/uuchat/groupchat/replay"
)

func openStore(t testing.TB, path string) eventstore.Store {
	t.Helper()
	s, err := sqlite.Open(path, sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func readAll(t testing.TB, s eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	for {
		page, err := s.ReadAll(context.Background(), uint64(len(out)), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
	}
}

func dumpFile(t testing.TB, path string) map[string][]string {
	t.Helper()
	db, err := projections.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d, err := db.Dump(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// storedLog writes a random history over several groups and users,
// decided by the domain, to a fresh store.
func storedLog(t testing.TB, seed uint64, events int) (eventstore.Store, *projectionstest.Log) {
	t.Helper()
	l := projectionstest.NewLog()
	l.Random(rand.New(rand.NewPCG(seed, 7)), events, 5, 10, projectionstest.Churn)
	store := openStore(t, filepath.Join(t.TempDir(), "events.db"))
	if err := l.AppendTo(context.Background(), store); err != nil {
		t.Fatal(err)
	}
	return store, l
}

// TestRebuildEqualsIncremental is the property replay rests on: for random
// histories, applying the log incrementally in random batches and
// rebuilding it give the same rows in every table; Verify agrees, and it
// notices when the live database is tampered with.
func TestRebuildEqualsIncremental(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			ctx := context.Background()
			store, _ := storedLog(t, seed, 1200)
			events := readAll(t, store)
			r := rand.New(rand.NewPCG(seed, 8))

			dir := t.TempDir()
			livePath := filepath.Join(dir, "live.db")
			live, err := projections.Open(livePath)
			if err != nil {
				t.Fatal(err)
			}
			defer live.Close()
			for i := 0; i < len(events); {
				n := 1 + r.IntN(80)
				if err := live.Apply(ctx, events[i:min(i+n, len(events))]); err != nil {
					t.Fatal(err)
				}
				i += n
			}

			var calls int
			var lastDone, lastTotal uint64
			rebuiltPath := filepath.Join(dir, "rebuilt.db")
			st, err := replay.Rebuild(ctx, store, rebuiltPath, func(done, total uint64) {
				calls++
				if done < lastDone {
					t.Errorf("progress went back from %d to %d", lastDone, done)
				}
				lastDone, lastTotal = done, total
			})
			if err != nil {
				t.Fatal(err)
			}
			last := events[len(events)-1].Position
			if calls == 0 || lastDone != last || lastTotal != last {
				t.Errorf("progress: %d calls, last (%d, %d), want the end at (%d, %d)", calls, lastDone, lastTotal, last, last)
			}
			if st.Events != uint64(len(events)) || st.Position != last {
				t.Errorf("stats %+v, want %d events up to %d", st, len(events), last)
			}

			liveDump, err := live.Dump(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if diffs := replay.Compare(liveDump, dumpFile(t, rebuiltPath)); len(diffs) > 0 {
				t.Fatalf("rebuilt and incremental differ:\n%s", join(diffs))
			}
			diffs, err := replay.Verify(ctx, store, livePath)
			if err != nil {
				t.Fatal(err)
			}
			if len(diffs) > 0 {
				t.Fatalf("Verify found differences:\n%s", join(diffs))
			}

			// Tamper with the live file behind the projection's back.
			raw, err := sql.Open("sqlite3", livePath)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			var group, jid string
			if err := raw.QueryRow(`SELECT group_id, jid FROM counters LIMIT 1`).Scan(&group, &jid); err != nil {
				t.Fatal(err)
			}
			mustExec(t, raw, `UPDATE counters SET unread = unread + 7 WHERE group_id = ? AND jid = ?`, group, jid)
			mustExec(t, raw, `DELETE FROM messages WHERE (group_id, version) IN (SELECT group_id, version FROM messages LIMIT 1)`)
			diffs, err = replay.Verify(ctx, store, livePath)
			if err != nil {
				t.Fatal(err)
			}
			tables := map[string]int{}
			for _, d := range diffs {
				tables[d.Table]++
			}
			if len(diffs) != 2 || tables["counters"] != 1 || tables["messages"] != 1 {
				t.Errorf("after changing a counter and deleting a message, Verify found:\n%s", join(diffs))
			}
			for _, d := range diffs {
				if d.Table == "messages" && (d.Live != "" || d.Rebuilt == "") {
					t.Errorf("the deleted message should be missing from the live side: %v", d)
				}
				if d.Table == "counters" && !strings.Contains(d.String(), jid) {
					t.Errorf("the counter difference does not name %s: %v", jid, d)
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 4 { // live.db, -wal, -shm, rebuilt.db
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("Verify left files behind: %v", names)
			}
		})
	}
}

// TestRunEqualsRebuild runs the projector over a stored log, as the
// service does, and compares its tables with a rebuild.
func TestRunEqualsRebuild(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store, _ := storedLog(t, 42, 2000)
	last, _ := store.LastPosition(ctx)
	dir := t.TempDir()
	live, err := projections.Open(filepath.Join(dir, "live.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	done := make(chan error, 1)
	go func() { done <- live.Run(ctx, store, projections.RunOptions{}) }()
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := live.WaitFor(wctx, last); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := replay.Rebuild(context.Background(), store, filepath.Join(dir, "rebuilt.db"), nil); err != nil {
		t.Fatal(err)
	}
	liveDump, _ := live.Dump(context.Background())
	if diffs := replay.Compare(liveDump, dumpFile(t, filepath.Join(dir, "rebuilt.db"))); len(diffs) > 0 {
		t.Fatalf("the projector and a rebuild differ:\n%s", join(diffs))
	}
}

func TestRebuildRefusesAnExistingFile(t *testing.T) {
	store, _ := storedLog(t, 1, 50)
	path := filepath.Join(t.TempDir(), "p.db")
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := replay.Rebuild(context.Background(), store, path, nil); err == nil {
		t.Fatal("Rebuild overwrote an existing file")
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Fatal("Rebuild changed an existing file")
	}
}

func TestRebuildEmptyLog(t *testing.T) {
	store := openStore(t, filepath.Join(t.TempDir(), "events.db"))
	dir := t.TempDir()
	if _, err := replay.Rebuild(context.Background(), store, filepath.Join(dir, "rebuilt.db"), nil); err != nil {
		t.Fatal(err)
	}
	fresh, err := projections.Open(filepath.Join(dir, "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	freshDump, _ := fresh.Dump(context.Background())
	fresh.Close()
	if diffs := replay.Compare(freshDump, dumpFile(t, filepath.Join(dir, "rebuilt.db"))); len(diffs) > 0 {
		t.Errorf("an empty log rebuilds to something else than a fresh database:\n%s", join(diffs))
	}
}

func TestRebuildStopsOnABadEvent(t *testing.T) {
	ctx := context.Background()
	store, l := storedLog(t, 3, 100)
	g := l.Events[len(l.Events)-1]
	if _, err := store.Append(ctx, g.Stream, eventstore.Exact(l.Group(g.Stream).Version()-1), eventstore.EventData{ID: "bad", Type: "MessagePosted", Data: []byte("{")}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "p.db")
	if _, err := replay.Rebuild(ctx, store, path, nil); err == nil {
		t.Fatal("Rebuild accepted an event that does not decode")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 0 {
		t.Errorf("a failed rebuild left %d files", len(entries))
	}
}

func TestSwap(t *testing.T) {
	ctx := context.Background()
	store, _ := storedLog(t, 9, 300)
	dir := t.TempDir()
	livePath := filepath.Join(dir, "live.db")

	// An old live file, with a stale write-ahead log beside it, as a
	// crash leaves one: it must not be replayed into the new file.
	live, err := projections.Open(livePath)
	if err != nil {
		t.Fatal(err)
	}
	events := readAll(t, store)
	if err := live.Apply(ctx, events[:10]); err != nil {
		t.Fatal(err)
	}
	wal, err := os.ReadFile(livePath + "-wal")
	if err != nil || len(wal) == 0 {
		t.Fatalf("no write-ahead log to leave behind: %v", err)
	}
	live.Close()
	if err := os.WriteFile(livePath+"-wal", wal, 0o600); err != nil {
		t.Fatal(err)
	}

	rebuiltPath := filepath.Join(dir, "rebuilt.db")
	if _, err := replay.Rebuild(ctx, store, rebuiltPath, nil); err != nil {
		t.Fatal(err)
	}
	want := dumpFile(t, rebuiltPath)
	if err := replay.Swap(livePath, rebuiltPath); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(rebuiltPath); !os.IsNotExist(err) {
		t.Errorf("the rebuilt file is still there: %v", err)
	}
	got := dumpFile(t, livePath)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after Swap the live file differs from the rebuilt one:\n%s", join(replay.Compare(got, want)))
	}
	if err := replay.Swap(livePath, filepath.Join(dir, "missing.db")); err == nil {
		t.Error("Swap with no rebuilt file succeeded")
	}
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	res, err := db.Exec(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%s changed %d rows, want 1", q, n)
	}
}

func join(diffs []replay.Difference) string {
	var b strings.Builder
	for _, d := range diffs {
		b.WriteString("  " + d.String() + "\n")
	}
	return b.String()
}

// sparseStore shows the log of a store with positions far apart, as
// KurrentDB's byte offsets are: stored position p reads as p*1000+13. It
// does not claim compact positions, and it counts the pages read.
type sparseStore struct {
	eventstore.Store
	reads int
}

func sparse(p uint64) uint64 { return p*1000 + 13 }

func (s *sparseStore) ReadAll(ctx context.Context, after uint64, max int) ([]eventstore.RecordedEvent, error) {
	s.reads++
	var inner uint64
	if after >= 13 {
		inner = (after - 13) / 1000
	}
	evs, err := s.Store.ReadAll(ctx, inner, max)
	for i := range evs {
		evs[i].Position = sparse(evs[i].Position)
	}
	return evs, err
}

func (s *sparseStore) LastPosition(ctx context.Context) (uint64, error) {
	p, err := s.Store.LastPosition(ctx)
	if p > 0 {
		p = sparse(p)
	}
	return p, err
}

// TestRebuildPagesSparsePositionsByCount: a store whose positions are far
// apart is rebuilt page after page, each read from the last position seen,
// not by position ranges (which would be almost all empty): the rebuild
// equals the incremental projections and reads about one page per pageSize
// events.
func TestRebuildPagesSparsePositionsByCount(t *testing.T) {
	ctx := context.Background()
	inner, _ := storedLog(t, 11, 9000)
	store := &sparseStore{Store: inner}
	var events []eventstore.RecordedEvent
	for after := uint64(0); ; {
		page, err := store.ReadAll(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		events = append(events, page...)
		after = page[len(page)-1].Position
	}
	dir := t.TempDir()
	livePath := filepath.Join(dir, "live.db")
	live, err := projections.Open(livePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := live.Apply(ctx, events); err != nil {
		t.Fatal(err)
	}
	live.Close()

	store.reads = 0
	rebuiltPath := filepath.Join(dir, "rebuilt.db")
	st, err := replay.Rebuild(ctx, store, rebuiltPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != uint64(len(events)) || st.Position != events[len(events)-1].Position {
		t.Fatalf("rebuilt %d events up to %d, want %d up to %d", st.Events, st.Position, len(events), events[len(events)-1].Position)
	}
	if !reflect.DeepEqual(dumpFile(t, rebuiltPath), dumpFile(t, livePath)) {
		t.Fatal("the rebuild of the sparse log differs from its incremental projections")
	}
	// 9,000-odd events in pages of 4,096, plus the read that finds the end;
	// by position ranges it would have been some 9,000,000/4,096 reads.
	if want := len(events)/4096 + 2; store.reads > want {
		t.Fatalf("the rebuild read %d pages for %d events, want at most %d", store.reads, len(events), want)
	}
}
