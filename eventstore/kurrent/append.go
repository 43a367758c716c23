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
		if before, err = s.readTail(ctx, c, full, s.opts.DedupWindow+len(events)); err != nil {
			return eventstore.AppendResult{}, s.fail(ctx, c, what, err)
		}
		if res, settled, err := before.settle(stream, events); settled {
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
	var now tail
	if s.opts.DedupWindow >= 0 || !cf.known {
		var err error
		if now, err = s.readTail(ctx, c, full, window); err != nil {
			return eventstore.AppendResult{}, s.fail(ctx, c, fmt.Sprintf("append to %q", stream), err)
		}
	}
	if s.opts.DedupWindow >= 0 {
		if res, settled, err := now.settle(stream, events); settled {
			return res, err
		}
	}
	wv := &eventstore.WrongVersionError{Stream: stream, Expected: expected, Actual: cf.actual, Exists: cf.exists}
	if !cf.known {
		wv.Actual, wv.Exists = now.head, now.exists
	}
	return eventstore.AppendResult{}, wv
}

// tail is what the newest events of a stream say about a batch's ids.
type tail struct {
	exists bool
	head   uint64 // the stream's newest version, if it exists
	ids    map[string]located
}

type located struct{ version, position uint64 }

// settle decides a batch from the tail alone: every id already stored
// means a duplicate, some of them a conflict; settled is false when none is.
func (t tail) settle(stream string, events []eventstore.EventData) (res eventstore.AppendResult, settled bool, err error) {
	found := 0
	var last located
	for _, e := range events {
		if l, ok := t.ids[e.ID]; ok {
			found++
			if found == 1 || l.version > last.version {
				last = l
			}
		}
	}
	switch found {
	case 0:
		return eventstore.AppendResult{}, false, nil
	case len(events):
		return eventstore.AppendResult{Version: last.version, Position: last.position, Duplicate: true}, true, nil
	default:
		return eventstore.AppendResult{}, true, fmt.Errorf("%w: stream %q already holds %d of the batch's %d ids", eventstore.ErrIDConflict, stream, found, len(events))
	}
}

// readTail reads up to n of a stream's newest events.
func (s *Store) readTail(ctx context.Context, c *esdb.Client, full string, n int) (tail, error) {
	t := tail{ids: make(map[string]located, n)}
	rs, err := c.ReadStream(ctx, full, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, uint64(n))
	if err != nil {
		return t, err
	}
	defer rs.Close()
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) || isNotFound(err) {
			return t, nil
		}
		if err != nil {
			return t, err
		}
		e := ev.Event
		if e == nil {
			continue
		}
		if !t.exists {
			t.exists, t.head = true, e.EventNumber
		}
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
