package aggregate_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/uuchat/groupchat/aggregate"
	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/eventstore/sqlite"
)

const (
	owner = "owner@example.test"
	alice = "alice@example.test"
	bob   = "bob@example.test"
)

var at = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// opener opens a fresh store for one test and closes it when the test ends.
type opener func(t *testing.T) eventstore.Store

// sqliteStore opens a SQLite store in a temp dir with the given options.
func sqliteStore(opts sqlite.Options) opener {
	return func(t *testing.T) eventstore.Store {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), opts)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// TestRepository runs the suite on SQLite, and again with the options
// that change its code paths (tiny batches, a head cache that keeps
// evicting).
func TestRepository(t *testing.T) {
	stores := []struct {
		name string
		open opener
	}{
		{"sqlite", sqliteStore(sqlite.Options{})},
		{"sqlite small limits", sqliteStore(sqlite.Options{MaxBatchEvents: 2, ReadConns: 1, StreamCacheSize: 3})},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			for _, tc := range suite {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, st.open(t))
				})
			}
		})
	}
}

var suite = []struct {
	name string
	run  func(t *testing.T, s eventstore.Store)
}{
	{"GetMissingStream", testGetMissingStream},
	{"UpdateAppendsAndApplies", testUpdateAppendsAndApplies},
	{"UpdateRefused", testUpdateRefused},
	{"AnotherWriter", testAnotherWriter},
	{"BatchAcrossGroups", testBatchAcrossGroups},
	{"BatchAnotherWriter", testBatchAnotherWriter},
	{"GetReadsInPages", testGetReadsInPages},
	{"StreamNames", testStreamNames},
	{"LockGuardsChanges", testLockGuardsChanges},
}

// groups is a repository of groups as the shards keep them.
func groups(s aggregate.Store) *aggregate.Repository[*domain.Group] {
	return groupsWith(s, nil)
}

func groupsWith(s aggregate.Store, lock sync.Locker) *aggregate.Repository[*domain.Group] {
	return aggregate.New(s, aggregate.Config[*domain.Group]{
		New:  func(string) *domain.Group { return domain.NewGroup(domain.DefaultLimits()) },
		Keep: (*domain.Group).Created,
		Lock: lock,
	})
}

// decide is the decide function of a group command.
func decide(cmd domain.Command) func(*domain.Group) ([]domain.Event, error) {
	return func(g *domain.Group) ([]domain.Event, error) {
		d, err := domain.Decide(g, cmd, at, domain.DefaultLimits())
		return d.Events, err
	}
}

func create(id string, members ...string) domain.CreateGroup {
	c := domain.CreateGroup{GroupID: id, Name: id, Creator: domain.Member{JID: owner}}
	for _, m := range members {
		c.Members = append(c.Members, domain.Member{JID: m})
	}
	return c
}

func post(sender, id string) domain.PostMessage {
	return domain.PostMessage{Sender: sender, ID: id, Body: "hi"}
}

var meta = eventstore.Meta{From: owner + "/phone", ID: "s1"}

// stored returns the types of the events of stream.
func stored(t *testing.T, s eventstore.Store, stream string) []eventstore.RecordedEvent {
	t.Helper()
	evs, err := s.ReadStream(context.Background(), stream, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func types(evs []eventstore.RecordedEvent) string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return fmt.Sprint(out)
}

// writeElsewhere appends cmd's events to a group as another instance
// sharing the store would, behind the repository's back.
func writeElsewhere(t *testing.T, s eventstore.Store, group string, cmd domain.Command) {
	t.Helper()
	other := groups(s)
	if _, err := other.Update(context.Background(), group, eventstore.Meta{}, decide(cmd)); err != nil {
		t.Fatalf("the other writer: %v", err)
	}
}

func testGetMissingStream(t *testing.T, s eventstore.Store) {
	r := groups(s)
	g, err := r.Get(context.Background(), "nobody")
	if err != nil || g == nil || g.Version() != 0 || g.Created() {
		t.Fatalf("Get of a missing stream = %v (version %d), %v; want a group that was never created", g, g.Version(), err)
	}
	if _, ok := r.Cached("nobody"); ok {
		t.Error("a missing stream was kept in memory")
	}
}

func testUpdateAppendsAndApplies(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	r := groups(s)
	steps := []struct {
		cmd         domain.Command
		wantVersion uint64 // of the stream's last event
	}{
		{create("team", alice), 0},
		{post(alice, "m1"), 1},
		{post(owner, "m2"), 2},
	}
	for _, st := range steps {
		res, err := r.Update(ctx, "team", meta, decide(st.cmd))
		if err != nil {
			t.Fatalf("%T: %v", st.cmd, err)
		}
		if res.Version != st.wantVersion || res.Position == 0 {
			t.Errorf("%T stored at version %d position %d, want version %d", st.cmd, res.Version, res.Position, st.wantVersion)
		}
		g, ok := r.Cached("team")
		if !ok || g.Version() != st.wantVersion+1 {
			t.Fatalf("after %T the state in memory is at version %d (kept %v), want %d", st.cmd, g.Version(), ok, st.wantVersion+1)
		}
	}
	g, _ := r.Cached("team")
	if last, ok := g.LastMessage(); !ok || last.ID != "m2" || last.Version != 2 {
		t.Errorf("the last message is %+v, %v; want m2 at version 2", last, ok)
	}
	evs := stored(t, s, "team")
	if got, want := types(evs), fmt.Sprint([]string{domain.TypeGroupCreated, domain.TypeMessagePosted, domain.TypeMessagePosted}); got != want {
		t.Fatalf("stored %s, want %s", got, want)
	}
	for i, e := range evs {
		if m, err := eventstore.DecodeMeta(e.Metadata); err != nil || m != meta {
			t.Errorf("event %d carries metadata %+v, %v; want %+v", i, m, err, meta)
		}
		if id, err := uuid.Parse(e.ID); err != nil || id.Version() != 7 {
			t.Errorf("event %d has id %q, want a version 7 UUID", i, e.ID)
		}
		if i > 0 && e.ID <= evs[i-1].ID {
			t.Errorf("event ids are not in time order: %s after %s", e.ID, evs[i-1].ID)
		}
	}
}

func testUpdateRefused(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	r := groups(s)
	if _, err := r.Update(ctx, "team", meta, decide(create("team"))); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cmd  domain.Command
		kind domain.Kind
	}{
		{"a non-member posts", post(bob, "m1"), domain.KindNotMember},
		{"the group is created again", create("team"), domain.KindConflict},
	}
	for _, tc := range cases {
		_, err := r.Update(ctx, "team", meta, decide(tc.cmd))
		var de *domain.Error
		if !errors.As(err, &de) || de.Kind != tc.kind {
			t.Errorf("%s: %v, want a refusal of kind %v", tc.name, err, tc.kind)
		}
	}
	if g, ok := r.Cached("team"); !ok || g.Version() != 1 {
		t.Errorf("after refusals the state is at version %d (kept %v), want 1", g.Version(), ok)
	}
	if n := len(stored(t, s, "team")); n != 1 {
		t.Errorf("the stream holds %d events after refusals, want 1", n)
	}
	res, err := r.Update(ctx, "team", meta, func(*domain.Group) ([]domain.Event, error) { return nil, nil })
	if err != nil || res != (eventstore.AppendResult{}) || len(stored(t, s, "team")) != 1 {
		t.Errorf("deciding nothing: %+v, %v; want nothing appended", res, err)
	}
}

func testAnotherWriter(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	r := groups(s)
	if _, err := r.Update(ctx, "team", meta, decide(create("team", alice, bob))); err != nil {
		t.Fatal(err)
	}
	writeElsewhere(t, s, "team", domain.RemoveMembers{By: owner, Members: []domain.MemberSelector{{JID: bob}}})
	_, err := r.Update(ctx, "team", meta, decide(post(bob, "m1")))
	if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("Update after another writer: %v, want ErrWrongExpectedVersion", err)
	}
	if _, ok := r.Cached("team"); ok {
		t.Fatal("the state stayed in memory after a failed append")
	}
	g, err := r.Get(ctx, "team")
	if err != nil || g.Version() != 2 {
		t.Fatalf("Get after the conflict: version %d, %v; want 2 (the other writer's event)", g.Version(), err)
	}
	if _, ok := g.Member(bob); ok {
		t.Error("bob, removed by the other writer, is still a member")
	}
	var de *domain.Error
	if _, err := r.Update(ctx, "team", meta, decide(post(bob, "m1"))); !errors.As(err, &de) || de.Kind != domain.KindNotMember {
		t.Errorf("bob's post decided again: %v, want a refusal as a non-member", err)
	}
}

func testBatchAcrossGroups(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	r := groups(s)
	if _, err := r.Update(ctx, "old", meta, decide(create("old", alice))); err != nil {
		t.Fatal(err)
	}
	b := r.NewBatch()
	changes := []struct {
		group string
		cmd   domain.Command
	}{
		{"a", create("a")},
		{"old", post(alice, "m1")},
		{"a", domain.AddMembers{By: owner, Members: []domain.Member{{JID: bob}}}},
		// bob joined earlier in the same batch.
		{"a", post(bob, "m2")},
		{"b", create("b", alice)},
	}
	for _, c := range changes {
		if err := b.Change(ctx, c.group, meta, decide(c.cmd)); err != nil {
			t.Fatalf("%s %T: %v", c.group, c.cmd, err)
		}
	}
	if b.Len() != 3 {
		t.Errorf("the batch changes %d groups, want 3", b.Len())
	}
	if err := b.Change(ctx, "b", meta, decide(post(bob, "x"))); err == nil {
		t.Error("a non-member's post was accepted in the batch")
	}
	if g, _ := r.Cached("a"); g.Version() != 3 {
		t.Errorf("before Commit group a is at version %d in memory, want 3", g.Version())
	}
	results := b.Commit(ctx)
	want := []struct {
		id      string
		events  int
		version uint64
	}{{"a", 3, 2}, {"old", 1, 1}, {"b", 1, 0}}
	if len(results) != len(want) {
		t.Fatalf("Commit returned %d results, want %d: %+v", len(results), len(want), results)
	}
	for i, w := range want {
		res := results[i]
		if res.ID != w.id || res.Err != nil || res.Events != w.events || res.Version != w.version {
			t.Errorf("result %d = %+v, want %s: %d events, last at version %d", i, res, w.id, w.events, w.version)
		}
		if n := uint64(len(stored(t, s, w.id))); n != w.version+1 {
			t.Errorf("stream %s holds %d events, want %d", w.id, n, w.version+1)
		}
	}
	if b.Len() != 0 || b.Commit(ctx) != nil {
		t.Error("the batch is not empty after Commit")
	}
	// The batch can be used again, from the committed versions.
	if err := b.Change(ctx, "b", meta, decide(post(alice, "m3"))); err != nil {
		t.Fatal(err)
	}
	if res := b.Commit(ctx); len(res) != 1 || res[0].Err != nil || res[0].Version != 1 {
		t.Errorf("a second commit: %+v", res)
	}
}

func testBatchAnotherWriter(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	r := groups(s)
	for _, id := range []string{"calm", "busy"} {
		if _, err := r.Update(ctx, id, meta, decide(create(id, alice))); err != nil {
			t.Fatal(err)
		}
	}
	writeElsewhere(t, s, "busy", post(owner, "elsewhere"))
	b := r.NewBatch()
	for i, id := range []string{"calm", "busy", "calm"} {
		if err := b.Change(ctx, id, meta, decide(post(alice, fmt.Sprint("m", i)))); err != nil {
			t.Fatal(err)
		}
	}
	results := b.Commit(ctx)
	if len(results) != 2 || results[0].ID != "calm" || results[0].Err != nil || results[0].Version != 2 {
		t.Fatalf("the calm group's result: %+v", results)
	}
	if results[1].ID != "busy" || !errors.Is(results[1].Err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("the busy group's result: %+v, want ErrWrongExpectedVersion", results[1])
	}
	if _, ok := r.Cached("busy"); ok {
		t.Fatal("the busy group stayed in memory after its append failed")
	}
	if _, ok := r.Cached("calm"); !ok {
		t.Fatal("the calm group was dropped from memory")
	}
	g, err := r.Get(ctx, "busy")
	if err != nil || g.Version() != 2 {
		t.Fatalf("busy after the conflict: version %d, %v; want 2", g.Version(), err)
	}
	if last, _ := g.LastMessage(); last.ID != "elsewhere" {
		t.Errorf("busy's last message is %q, want the other writer's", last.ID)
	}
	// Deciding again succeeds on the group as stored.
	if err := b.Change(ctx, "busy", meta, decide(post(alice, "m1"))); err != nil {
		t.Fatal(err)
	}
	if res := b.Commit(ctx); len(res) != 1 || res[0].Err != nil || res[0].Version != 2 {
		t.Errorf("deciding again: %+v", res)
	}
}

func testGetReadsInPages(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	const posts = 5000 // more than one page
	g := domain.NewGroup(domain.DefaultLimits())
	var data []eventstore.EventData
	add := func(cmd domain.Command) {
		d, err := domain.Decide(g, cmd, at, domain.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range d.Events {
			typ, b, err := domain.EncodeEvent(e)
			if err != nil {
				t.Fatal(err)
			}
			g.Apply(e)
			data = append(data, eventstore.EventData{ID: uuid.NewString(), Type: typ, Data: b})
		}
	}
	add(create("big", alice))
	for i := range posts {
		add(post(alice, fmt.Sprint("m", i)))
	}
	if _, err := s.Append(ctx, "big", eventstore.NoStream(), data...); err != nil {
		t.Fatal(err)
	}
	r := groups(s)
	got, err := r.Get(ctx, "big")
	if err != nil || got.Version() != posts+1 {
		t.Fatalf("Get of %d events: version %d, %v", posts+1, got.Version(), err)
	}
	if last, _ := got.LastMessage(); last.ID != fmt.Sprint("m", posts-1) || last.Version != posts {
		t.Errorf("the last message is %+v", last)
	}
	if _, ok := r.Cached("big"); !ok {
		t.Error("a created group read from its stream was not kept")
	}
}

// testStreamNames: push settings live in streams named after their user,
// and a stream with events is kept by default.
func testStreamNames(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	newRepo := func() *aggregate.Repository[*domain.PushSettings] {
		return aggregate.New(s, aggregate.Config[*domain.PushSettings]{New: domain.NewPushSettings, Stream: domain.PushStream})
	}
	enable := func(p *domain.PushSettings) ([]domain.Event, error) {
		return domain.DecidePush(p, domain.EnablePush{User: alice, JID: "push.example.test", Node: "n"}, at, domain.DefaultPushLimits())
	}
	r := newRepo()
	if _, err := r.Update(ctx, alice, eventstore.Meta{}, enable); err != nil {
		t.Fatal(err)
	}
	evs := stored(t, s, domain.PushStream(alice))
	if len(evs) != 1 || evs[0].Metadata != nil {
		t.Fatalf("stream %s holds %d events (metadata %q), want one without metadata", domain.PushStream(alice), len(evs), evs[0].Metadata)
	}
	other := newRepo()
	p, err := other.Get(ctx, alice)
	if err != nil || len(p.Registrations()) != 1 {
		t.Fatalf("read from the stream: %v, %v", p.Registrations(), err)
	}
	if _, ok := other.Cached(alice); !ok {
		t.Error("settings with events were not kept")
	}
}

// countingLock counts how often the repository took it.
type countingLock struct {
	sync.Mutex
	n int
}

func (l *countingLock) Lock() { l.Mutex.Lock(); l.n++ }

func testLockGuardsChanges(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	var l countingLock
	r := groupsWith(s, &l)
	steps := []struct {
		name string
		do   func() error
	}{
		{"Update", func() error { _, err := r.Update(ctx, "team", meta, decide(create("team", alice))); return err }},
		{"Get from the stream", func() error { r.Evict("team"); _, err := r.Get(ctx, "team"); return err }},
		{"Change", func() error { return r.NewBatch().Change(ctx, "team", meta, decide(post(alice, "m"))) }},
		{"GetAt from the stream", func() error { r.Evict("team"); _, err := r.GetAt(ctx, "team", 1); return err }},
	}
	for _, st := range steps {
		before := l.n
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if l.n == before {
			t.Errorf("%s changed the memory without the lock", st.name)
		}
	}
	// Readers on other goroutines hold the lock while writes go on.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				l.Lock()
				if g, ok := r.Cached("team"); ok {
					_ = g.MemberCount()
				}
				l.Unlock()
			}
		})
	}
	for i := range 20 {
		if _, err := r.Update(ctx, "other2", meta, decide(create("other2"))); err != nil && i == 0 {
			t.Error(err)
		}
		r.Evict("team")
		if _, err := r.Get(ctx, "team"); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
}
