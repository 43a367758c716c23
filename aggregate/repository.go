package aggregate

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
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
}

// Repository holds the states of the aggregates it loaded, keyed by id.
// It is not safe for concurrent use: one goroutine (or one caller at a
// time) gets and changes states; other goroutines may only call Cached,
// under Config.Lock.
type Repository[A Aggregate] struct {
	store  Store
	cfg    Config[A]
	states map[string]A
}

// New returns an empty repository on store.
func New[A Aggregate](store Store, cfg Config[A]) *Repository[A] {
	return &Repository[A]{store: store, cfg: cfg, states: map[string]A{}}
}

// Cached returns id's state if it is in memory; it does no I/O. A caller
// on another goroutine than the writer holds Config.Lock (for reading)
// and must not change the state.
func (r *Repository[A]) Cached(id string) (A, bool) {
	a, ok := r.states[id]
	return a, ok
}

// Load folds one stored event into id's state, while the owner starts and
// before anything else uses the repository.
func (r *Repository[A]) Load(id string, e domain.Event) {
	r.lock()
	defer r.unlock()
	a, ok := r.states[id]
	if !ok {
		a = r.cfg.New(id)
		r.states[id] = a
	}
	a.Apply(e)
}

// Get returns id's state: from memory, or else folded from its stream.
// The state is the repository's; change it only through the repository.
func (r *Repository[A]) Get(ctx context.Context, id string) (A, error) {
	if a, ok := r.states[id]; ok {
		return a, nil
	}
	a := r.cfg.New(id)
	stream := r.stream(id)
	for from := uint64(0); ; {
		evs, err := r.store.ReadStream(ctx, stream, from, readPage)
		if err != nil {
			var zero A
			return zero, err
		}
		for _, re := range evs {
			e, err := domain.DecodeEvent(re.Type, re.Data)
			if err != nil {
				var zero A
				return zero, fmt.Errorf("aggregate: %s version %d: %w", stream, re.Version, err)
			}
			a.Apply(e)
			from = re.Version + 1
		}
		if len(evs) < readPage {
			break
		}
	}
	if r.keep(a) {
		r.lock()
		r.states[id] = a
		r.unlock()
	}
	return a, nil
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
	defer r.unlock()
	for _, e := range evs {
		a.Apply(e)
	}
	r.states[id] = a
	return res, nil
}

// Evict drops id's state from memory; the next Get reads its stream.
func (r *Repository[A]) Evict(id string) {
	r.lock()
	delete(r.states, id)
	r.unlock()
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
