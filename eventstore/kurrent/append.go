package kurrent

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/uuchat/groupchat/eventstore"
)

// Append implements eventstore.Store. It returns after the server has
// acknowledged the write. If ctx ends first, the events may or may not be
// stored; retrying with the same ids is safe within the limits described in
// the package documentation.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	proposed, err := toProposed(stream, events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	ctx, done, err := s.enter(ctx)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	defer done()
	c, err := s.conn.get()
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	what := fmt.Sprintf("append to %q", stream)
	full := s.names.full(stream)

	var before tail
	if s.opts.DedupWindow >= 0 {
		if err := s.readTail(ctx, c, full, &before, s.opts.DedupWindow+len(events)); err != nil {
			return eventstore.AppendResult{}, s.fail(ctx, c, what, err)
		}
		res, settled, err := s.settle(ctx, c, stream, &before, events)
		if settled {
			if err != nil && !errors.Is(err, eventstore.ErrIDConflict) {
				err = s.fail(ctx, c, what, err)
			}
			return res, err
		}
	}

	wr, err := c.AppendToStream(ctx, full, esdb.AppendToStreamOptions{ExpectedRevision: expectedRevision(expected)}, proposed...)
	if err != nil {
		if cf, ok := asConflict(err); ok {
			return s.refused(ctx, c, stream, expected, events, cf)
		}
		return eventstore.AppendResult{}, s.fail(ctx, c, what, err)
	}

	res := eventstore.AppendResult{Version: wr.NextExpectedVersion, Position: wr.CommitPosition}
	// The server answers an append it recognises as a retry with success and
	// the original events' revision, which then lies at or below the head
	// read before writing.
	res.Duplicate = s.opts.DedupWindow >= 0 && before.exists && res.Version <= before.head
	if res.Duplicate || res.Position == 0 {
		if res.Position, err = s.positionOf(ctx, c, full, res.Version); err != nil {
			return eventstore.AppendResult{}, s.fail(ctx, c, what, err)
		}
	}
	return res, nil
}

// refused answers a WrongExpectedVersion. The batch may have been stored
// meanwhile by a racing retry, so the tail is looked at again first.
func (s *Store) refused(ctx context.Context, c *esdb.Client, stream string, expected eventstore.ExpectedVersion, events []eventstore.EventData, cf conflict) (eventstore.AppendResult, error) {
	full := s.names.full(stream)
	window := s.opts.DedupWindow + len(events)
	if s.opts.DedupWindow < 0 {
		window = 1 // only the head, and only if the client did not name it
	}
	what := fmt.Sprintf("append to %q", stream)
	var now tail
	if s.opts.DedupWindow >= 0 || !cf.known {
		if err := s.readTail(ctx, c, full, &now, window); err != nil {
			return eventstore.AppendResult{}, s.fail(ctx, c, what, err)
		}
	}
	if s.opts.DedupWindow >= 0 {
		res, settled, err := s.settle(ctx, c, stream, &now, events)
		if settled {
			if err != nil && !errors.Is(err, eventstore.ErrIDConflict) {
				err = s.fail(ctx, c, what, err)
			}
			return res, err
		}
	}
	wv := &eventstore.WrongVersionError{Stream: stream, Expected: expected, Actual: cf.actual, Exists: cf.exists}
	if !cf.known {
		wv.Actual, wv.Exists = now.head, now.exists
	}
	if expected.IsAny() || (expected.IsStreamExists() && wv.Exists) {
		// These expectations hold, so the server refused the batch because
		// its first ids are stored and the rest are not ("corrupted
		// idempotency"), beyond what the tail shows.
		return eventstore.AppendResult{}, fmt.Errorf("%w: the server holds some of the batch's ids in stream %q, further back than the %d events compared", eventstore.ErrIDConflict, stream, window)
	}
	return eventstore.AppendResult{}, wv
}

// tail is what the newest events of a stream say about a batch's ids.
type tail struct {
	exists bool
	head   uint64 // the stream's newest version, if it exists
	// oldest is the oldest version read; complete says the read reached
	// the stream's first event.
	oldest   uint64
	complete bool
	ids      map[string]located
}

type located struct{ version, position uint64 }

// match counts the batch's ids in the tail and finds the newest of them.
func (t *tail) match(events []eventstore.EventData) (found int, last located) {
	for _, e := range events {
		if l, ok := t.ids[e.ID]; ok {
			found++
			if found == 1 || l.version > last.version {
				last = l
			}
		}
	}
	return found, last
}

// settle decides a batch from the stream's tail: every id already stored
// means a duplicate, some of them a conflict; settled is false when none
// is. A stored batch is contiguous, so when the tail's oldest edge may cut
// through it, the k-1 events before the edge are read too.
func (s *Store) settle(ctx context.Context, c *esdb.Client, stream string, t *tail, events []eventstore.EventData) (res eventstore.AppendResult, settled bool, err error) {
	found, last := t.match(events)
	if found > 0 && found < len(events) && !t.complete {
		if err := s.readTail(ctx, c, s.names.full(stream), t, len(events)-1); err != nil {
			return res, true, err
		}
		found, last = t.match(events)
	}
	switch found {
	case 0:
		return res, false, nil
	case len(events):
		return eventstore.AppendResult{Version: last.version, Position: last.position, Duplicate: true}, true, nil
	default:
		return res, true, fmt.Errorf("%w: stream %q already holds %d of the batch's %d ids", eventstore.ErrIDConflict, stream, found, len(events))
	}
}

// readTail reads up to n more of a stream's events into t, going back from
// its end, or from before the oldest event t holds.
func (s *Store) readTail(ctx context.Context, c *esdb.Client, full string, t *tail, n int) error {
	if t.ids == nil {
		t.ids = make(map[string]located, n)
	}
	if t.complete || n <= 0 {
		return nil
	}
	var from esdb.StreamPosition = esdb.End{}
	if t.exists {
		from = esdb.Revision(t.oldest - 1)
	}
	rs, err := c.ReadStream(ctx, full, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: from}, uint64(n))
	if err != nil {
		return err
	}
	defer rs.Close()
	read := 0
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) || isNotFound(err) {
			t.complete = t.complete || read < n
			return nil
		}
		if err != nil {
			return err
		}
		e := ev.Event
		if e == nil {
			continue
		}
		read++
		if !t.exists {
			t.exists, t.head = true, e.EventNumber
		}
		t.oldest = e.EventNumber
		t.complete = e.EventNumber == 0
		t.ids[e.EventID.String()] = located{e.EventNumber, e.Position.Commit}
	}
}

// positionOf reads the global position of a stream's event.
func (s *Store) positionOf(ctx context.Context, c *esdb.Client, full string, version uint64) (uint64, error) {
	rs, err := c.ReadStream(ctx, full, esdb.ReadStreamOptions{From: esdb.Revision(version)}, 1)
	if err != nil {
		return 0, err
	}
	defer rs.Close()
	ev, err := rs.Recv()
	if err != nil {
		return 0, fmt.Errorf("reading back version %d: %w", version, err)
	}
	if ev.Event == nil || ev.Event.EventNumber != version {
		return 0, fmt.Errorf("reading back version %d: the server returned another event", version)
	}
	return ev.Event.Position.Commit, nil
}
