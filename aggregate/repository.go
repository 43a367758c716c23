package aggregate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/google/uuid"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/snapshot"
)

// readPage is how many events Get reads from a stream at a time.
const readPage = 4096

// Aggregate is a state folded from the events of one stream.
type Aggregate interface {
	// Apply folds one event into the state; it never fails.
	Apply(domain.Event)
	// Version is the number of events applied.
	Version() uint64
}

// Store is the part of the event store a repository uses.
type Store interface {
	Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error)
	ReadStream(ctx context.Context, stream string, from uint64, max int) ([]eventstore.RecordedEvent, error)
}

// ReadOnly is a store for a repository that only reads its states (one
// that follows the log behind its writers): appending is refused.
func ReadOnly(r eventstore.StreamReader) Store { return readOnly{r} }

type readOnly struct{ eventstore.StreamReader }

// ErrReadOnly is what a ReadOnly store's Append returns.
var ErrReadOnly = errors.New("aggregate: the repository only reads")

func (readOnly) Append(context.Context, string, eventstore.ExpectedVersion, ...eventstore.EventData) (eventstore.AppendResult, error) {
	return eventstore.AppendResult{}, ErrReadOnly
}

// Config says how a repository builds, names and keeps its states.
type Config[A Aggregate] struct {
	// New returns the state of id before any event.
	New func(id string) A
	// Stream names id's stream; nil uses the id itself.
	Stream func(id string) string
	// Keep reports whether a state Get read from its stream is kept in
	// memory; nil keeps one with at least one event. A state that changes
	// through the repository is kept either way.
	Keep func(A) bool
	// Lock, if set, is held while the repository changes the states in its
	// memory (never during I/O), so that other goroutines may read them
	// through Cached while they hold it.
	Lock sync.Locker
	// MaxBytes bounds the memory of the states kept, as Size estimates it:
	// beyond it the least recently used states are dropped (and read from
	// their streams again when next needed). A state a batch is changing
	// is never dropped, nor the one just returned. 0 keeps every state.
	MaxBytes int
	// Size estimates a state's memory in bytes; nil counts 1 KiB each. It
	// is measured again whenever the repository hands the state out, so
	// that a state that grew is counted as it is now.
	Size func(A) int
	// Evicted, if set, is called with the id of every state dropped from
	// memory, by the bound or by Evict.
	Evicted func(id string)
	// Snapshots, if set (with Encode and Decode), keeps the states of long
	// streams: a state is read from the newest snapshot that matches the
	// log and the events after it, and one is stored whenever
	// SnapshotEvery events (default 1000) were folded or appended since.
	// A snapshot that cannot be read or stored costs a longer fold, never
	// an error.
	Snapshots     Snapshots
	Encode        func(A) ([]byte, error)
	Decode        func(id string, data []byte) (A, error)
	SnapshotEvery uint64
}

// Snapshots is where a repository keeps snapshots (package snapshot).
type Snapshots interface {
	// Latest is the newest snapshot of stream at a version of at most max.
	Latest(ctx context.Context, stream string, max uint64) (snapshot.Snapshot, bool, error)
	Put(ctx context.Context, snap snapshot.Snapshot) error
}

// defaultSnapshotEvery is Config.SnapshotEvery's default.
const defaultSnapshotEvery = 1000

// Repository holds the states of the aggregates it loaded, keyed by id,
// least recently used first out when Config.MaxBytes is reached. It is
// not safe for concurrent use: one goroutine (or one caller at a time)
// gets and changes states; other goroutines may only call Cached, under
// Config.Lock.
type Repository[A Aggregate] struct {
	store  Store
	cfg    Config[A]
	states map[string]*entry[A]
	// newest and oldest end the list of states by last use; bytes is the
	// sum of their sizes.
	newest, oldest *entry[A]
	bytes          int
}

// entry is one state kept in memory.
type entry[A Aggregate] struct {
	id   string
	a    A
	size int
	// pins counts the batches changing the state: it is not dropped then.
	pins int
	// snapped is the version of the state's newest snapshot (0: none).
	snapped    uint64
	prev, next *entry[A]
}

// New returns an empty repository on store.
func New[A Aggregate](store Store, cfg Config[A]) *Repository[A] {
	return &Repository[A]{store: store, cfg: cfg, states: map[string]*entry[A]{}}
}

// Cached returns id's state if it is in memory; it does no I/O. A caller
// on another goroutine than the writer holds Config.Lock (for reading)
// and must not change the state.
func (r *Repository[A]) Cached(id string) (A, bool) {
	if e, ok := r.states[id]; ok {
		return e.a, true
	}
	var zero A
	return zero, false
}

// Len is how many states are in memory, and Bytes their estimated size.
func (r *Repository[A]) Len() int   { return len(r.states) }
func (r *Repository[A]) Bytes() int { return r.bytes }

// Get returns id's state: from memory, or else folded from its stream.
// The state is the repository's; change it only through the repository.
func (r *Repository[A]) Get(ctx context.Context, id string) (A, error) {
	if e, ok := r.states[id]; ok {
		r.touch(e)
		return e.a, nil
	}
	a, snapped, err := r.load(ctx, id, math.MaxUint64)
	if err != nil {
		var zero A
		return zero, err
	}
	if r.keep(a) {
		r.put(id, a).snapped = snapped
	}
	return a, nil
}

// GetAt returns id's state as of its first version events: the state in
// memory if it is there, folded further from the stream if it is older,
// or folded from the stream's start. It is for a reader that follows the
// log behind its writers (a broadcaster applying each event to the state
// GetAt returned for it); the state is kept as Get keeps it.
func (r *Repository[A]) GetAt(ctx context.Context, id string, version uint64) (A, error) {
	e, ok := r.states[id]
	if ok && e.a.Version() == version {
		r.touch(e)
		return e.a, nil
	}
	var a A
	var snapped uint64
	var err error
	if ok && e.a.Version() < version {
		a, snapped = e.a, e.snapped
		var last string
		if last, err = r.fold(ctx, id, a, version); err == nil {
			snapped = r.snapshot(ctx, id, a, snapped, last)
		}
	} else {
		a, snapped, err = r.load(ctx, id, version)
	}
	if err != nil {
		r.Evict(id)
		var zero A
		return zero, err
	}
	if r.keep(a) {
		r.put(id, a).snapped = snapped
	}
	return a, nil
}

// load folds id's state from its stream up to (not including) version
// upto, starting from the newest snapshot that matches the log, and
// stores a snapshot if it folded many events; snapped is the version of
// the state's newest snapshot.
func (r *Repository[A]) load(ctx context.Context, id string, upto uint64) (a A, snapped uint64, err error) {
	a = r.cfg.New(id)
	var last string
	if r.cfg.Snapshots != nil && upto >= r.every() {
		a, snapped, last = r.fromSnapshot(ctx, id, a, upto)
	}
	folded, err := r.fold(ctx, id, a, upto)
	if err != nil {
		return a, 0, err
	}
	if folded != "" {
		last = folded
	}
	return a, r.snapshot(ctx, id, a, snapped, last), nil
}

// fromSnapshot returns the state of id's newest snapshot at a version
// below upto, if the stream holds the event the snapshot was taken after;
// else a as it is.
func (r *Repository[A]) fromSnapshot(ctx context.Context, id string, a A, upto uint64) (A, uint64, string) {
	stream := r.stream(id)
	snap, ok, err := r.cfg.Snapshots.Latest(ctx, stream, upto)
	if err != nil || !ok || snap.Version == 0 {
		return a, 0, ""
	}
	evs, err := r.store.ReadStream(ctx, stream, snap.Version-1, 1)
	if err != nil || len(evs) != 1 || evs[0].Version != snap.Version-1 || evs[0].ID != snap.EventID {
		return a, 0, "" // not this log's: fold from the start
	}
	b, err := r.cfg.Decode(id, snap.Data)
	if err != nil || b.Version() != snap.Version {
		return a, 0, ""
	}
	return b, snap.Version, snap.EventID
}

// snapshot stores a's state, whose last event has the id last, if
// SnapshotEvery events came since the snapshot at version snapped; it
// returns the version of the newest snapshot.
func (r *Repository[A]) snapshot(ctx context.Context, id string, a A, snapped uint64, last string) uint64 {
	if r.cfg.Snapshots == nil || last == "" || a.Version() < snapped+r.every() {
		return snapped
	}
	data, err := r.cfg.Encode(a)
	if err != nil {
		return snapped
	}
	if r.cfg.Snapshots.Put(ctx, snapshot.Snapshot{Stream: r.stream(id), Version: a.Version(), EventID: last, Data: data}) != nil {
		return snapped
	}
	return a.Version()
}

func (r *Repository[A]) every() uint64 {
	if r.cfg.SnapshotEvery > 0 {
		return r.cfg.SnapshotEvery
	}
	return defaultSnapshotEvery
}

// fold applies the events of id's stream from a's version on, up to (not
// including) version upto, and returns the last one's id ("" for none).
func (r *Repository[A]) fold(ctx context.Context, id string, a A, upto uint64) (last string, err error) {
	stream := r.stream(id)
	for from := a.Version(); from < upto; {
		n := uint64(readPage)
		if upto-from < n {
			n = upto - from
		}
		evs, err := r.store.ReadStream(ctx, stream, from, int(n))
		if err != nil {
			return last, err
		}
		for _, re := range evs {
			e, err := domain.DecodeEvent(re.Type, re.Data)
			if err != nil {
				return last, fmt.Errorf("aggregate: %s version %d: %w", stream, re.Version, err)
			}
			a.Apply(e)
			from, last = re.Version+1, re.ID
		}
		if uint64(len(evs)) < n {
			return last, nil
		}
	}
	return last, nil
}

// Update decides a change of id's state, appends the events decided
// (expecting the stream at the state's version) and applies them once
// they are stored. decide must not change the state; its error is
// returned as it is. Deciding no events appends nothing. When the append
// fails the state is dropped from memory, so that the next Get reads what
// the stream holds (another writer's events, or this append if it was
// stored after all).
func (r *Repository[A]) Update(ctx context.Context, id string, meta eventstore.Meta, decide func(A) ([]domain.Event, error)) (eventstore.AppendResult, error) {
	a, err := r.Get(ctx, id)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	evs, err := decide(a)
	if err != nil || len(evs) == 0 {
		return eventstore.AppendResult{}, err
	}
	data, err := encode(nil, evs, encodeMeta(meta))
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	res, err := r.store.Append(ctx, r.stream(id), expected(a.Version()), data...)
	if err != nil {
		r.Evict(id)
		return res, err
	}
	r.lock()
	for _, e := range evs {
		a.Apply(e)
	}
	r.unlock()
	en := r.put(id, a)
	en.snapped = r.snapshot(ctx, id, a, en.snapped, data[len(data)-1].ID)
	return res, nil
}

// Evict drops id's state from memory; the next Get reads its stream.
func (r *Repository[A]) Evict(id string) {
	if e, ok := r.states[id]; ok {
		r.drop(e)
	}
}

// put keeps a as id's state, the most recently used, and drops the least
// recently used states beyond the bound.
func (r *Repository[A]) put(id string, a A) *entry[A] {
	r.lock()
	e, ok := r.states[id]
	if !ok {
		e = &entry[A]{id: id}
		r.states[id] = e
	}
	e.a = a
	r.unlock()
	r.touch(e)
	return e
}

// touch measures e again and makes it the most recently used, then drops
// the least recently used states beyond the bound, never e itself.
func (r *Repository[A]) touch(e *entry[A]) {
	size := 1024
	if r.cfg.Size != nil {
		size = r.cfg.Size(e.a)
	}
	r.bytes += size - e.size
	e.size = size
	if r.newest != e {
		r.unlink(e)
		e.prev, e.next = r.newest, nil
		if r.newest != nil {
			r.newest.next = e
		}
		r.newest = e
		if r.oldest == nil {
			r.oldest = e
		}
	}
	if r.cfg.MaxBytes <= 0 {
		return
	}
	for old := r.oldest; old != nil && r.bytes > r.cfg.MaxBytes; {
		next := old.next
		if old != e && old.pins == 0 {
			r.drop(old)
		}
		old = next
	}
}

// drop forgets a state.
func (r *Repository[A]) drop(e *entry[A]) {
	r.lock()
	delete(r.states, e.id)
	r.unlock()
	r.unlink(e)
	r.bytes -= e.size
	if r.cfg.Evicted != nil {
		r.cfg.Evicted(e.id)
	}
}

func (r *Repository[A]) unlink(e *entry[A]) {
	if e.prev != nil {
		e.prev.next = e.next
	} else if r.oldest == e {
		r.oldest = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else if r.newest == e {
		r.newest = e.prev
	}
	e.prev, e.next = nil, nil
}

func (r *Repository[A]) stream(id string) string {
	if r.cfg.Stream == nil {
		return id
	}
	return r.cfg.Stream(id)
}

func (r *Repository[A]) keep(a A) bool {
	if r.cfg.Keep == nil {
		return a.Version() > 0
	}
	return r.cfg.Keep(a)
}

func (r *Repository[A]) lock() {
	if r.cfg.Lock != nil {
		r.cfg.Lock.Lock()
	}
}

func (r *Repository[A]) unlock() {
	if r.cfg.Lock != nil {
		r.cfg.Lock.Unlock()
	}
}

// expected is what a stream must hold for an append decided on a state
// of the given version.
func expected(version uint64) eventstore.ExpectedVersion {
	if version == 0 {
		return eventstore.NoStream()
	}
	return eventstore.Exact(version - 1)
}

// encodeMeta is the stored metadata of meta; the zero Meta stores none.
func encodeMeta(meta eventstore.Meta) []byte {
	if meta == (eventstore.Meta{}) {
		return nil
	}
	return eventstore.EncodeMeta(meta)
}

// encode appends the stored form of evs to data, each with a new id and
// the metadata.
func encode(data []eventstore.EventData, evs []domain.Event, meta []byte) ([]eventstore.EventData, error) {
	for _, e := range evs {
		typ, b, err := domain.EncodeEvent(e)
		if err != nil {
			return nil, fmt.Errorf("aggregate: encoding %s: %w", e.EventType(), err)
		}
		data = append(data, eventstore.EventData{ID: newEventID(), Type: typ, Data: b, Metadata: meta})
	}
	return data, nil
}

// newEventID returns a time-ordered (version 7) UUID: consecutive events
// land on the same pages of the store's id index, which roughly halves the
// index pages a group commit writes compared with random ids.
func newEventID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
