package aggregate

import (
	"context"
	"sync"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
)

// Batch collects changes decided on several states, to append them
// together. Each change is applied to its state at once, so that later
// changes in the batch are decided on the earlier ones; Commit appends
// them. Like its repository, a batch is not safe for concurrent use, and
// the repository's other methods must not change the batch's states
// between the first change and Commit.
type Batch[A Aggregate] struct {
	r       *Repository[A]
	pending map[string]*pending
	order   []string
}

// pending is what a batch holds for one state.
type pending struct {
	// start is the state's version before the batch.
	start  uint64
	events []eventstore.EventData
}

// Result is what Commit did for one state of the batch.
type Result struct {
	ID string
	// Events is how many events were appended, or were to be.
	Events int
	eventstore.AppendResult
	// Err is the append's error; the state was then dropped from memory.
	Err error
}

// NewBatch returns an empty batch on r.
func (r *Repository[A]) NewBatch() *Batch[A] {
	return &Batch[A]{r: r, pending: map[string]*pending{}}
}

// Len is how many states have changes to commit.
func (b *Batch[A]) Len() int { return len(b.order) }

// Change decides a change of id's state, as Update does, and applies the
// events to the state at once; Commit appends them. decide's error is
// returned as it is, and nothing changes then.
func (b *Batch[A]) Change(ctx context.Context, id string, meta eventstore.Meta, decide func(A) ([]domain.Event, error)) error {
	r := b.r
	a, err := r.Get(ctx, id)
	if err != nil {
		return err
	}
	evs, err := decide(a)
	if err != nil || len(evs) == 0 {
		return err
	}
	p := b.pending[id]
	if p == nil {
		p = &pending{start: a.Version()}
	}
	n := len(p.events)
	if p.events, err = encode(p.events, evs, encodeMeta(meta)); err != nil {
		p.events = p.events[:n]
		return err
	}
	if n == 0 {
		b.pending[id] = p
		b.order = append(b.order, id)
	}
	r.lock()
	for _, e := range evs {
		a.Apply(e)
	}
	r.unlock()
	r.put(id, a)
	if n == 0 {
		// Kept in memory until Commit: the state holds the batch's changes.
		r.states[id].pins++
	}
	return nil
}

// Commit appends every changed state's events, concurrently so that the
// store may commit them together, each expecting its stream at the
// state's version before the batch. It returns a result per changed state,
// in the order of their first change; a state whose append failed is
// dropped from memory, so that its changes can be decided again (as on
// eventstore.ErrWrongExpectedVersion) on what its stream holds. The batch
// is empty afterwards.
func (b *Batch[A]) Commit(ctx context.Context) []Result {
	if len(b.order) == 0 {
		return nil
	}
	r := b.r
	results := make([]Result, len(b.order))
	appendOne := func(i int, id string) {
		p := b.pending[id]
		res, err := r.store.Append(ctx, r.stream(id), expected(p.start), p.events...)
		results[i] = Result{ID: id, Events: len(p.events), AppendResult: res, Err: err}
	}
	if len(b.order) == 1 {
		appendOne(0, b.order[0])
	} else {
		var wg sync.WaitGroup
		for i, id := range b.order {
			wg.Go(func() { appendOne(i, id) })
		}
		wg.Wait()
	}
	for _, res := range results {
		e, ok := r.states[res.ID]
		if ok {
			e.pins--
		}
		if res.Err != nil {
			r.Evict(res.ID)
			continue
		}
		if ok {
			events := b.pending[res.ID].events
			e.snapped = r.snapshot(ctx, res.ID, e.a, e.snapped, events[len(events)-1].ID)
		}
	}
	clear(b.pending)
	b.order = b.order[:0]
	return results
}
