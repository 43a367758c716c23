package kurrent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/uuchat/groupchat/eventstore"
)

// ReadStream implements eventstore.Store. A limit of zero or less reads
// nothing.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	ctx, done, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	if limit <= 0 || stream == "" || from > math.MaxInt64 {
		return nil, nil
	}
	c, err := s.conn.get()
	if err != nil {
		return nil, err
	}
	rs, err := c.ReadStream(ctx, s.names.full(stream), esdb.ReadStreamOptions{From: esdb.Revision(from)}, uint64(limit))
	if err != nil {
		return nil, s.fail(ctx, c, fmt.Sprintf("read %q", stream), err)
	}
	defer rs.Close()
	var out []eventstore.RecordedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) || isNotFound(err) {
			return out, nil
		}
		if err != nil {
			return nil, s.fail(ctx, c, fmt.Sprintf("read %q", stream), err)
		}
		if e, ok := s.names.fromRecorded(ev.Event); ok {
			out = append(out, e)
		}
	}
}

// ReadAll implements eventstore.Store. It pages through $all from after and
// keeps the service's events (see the package documentation for the cost).
// A limit of zero or less reads nothing.
func (s *Store) ReadAll(ctx context.Context, after uint64, limit int) ([]eventstore.RecordedEvent, error) {
	ctx, done, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	if limit <= 0 {
		return nil, nil
	}
	c, err := s.conn.get()
	if err != nil {
		return nil, err
	}
	var out []eventstore.RecordedEvent
	cur := cursor{from: startPosition(after), after: after}
	anchored := after == 0
	for {
		page, err := s.readAllPage(ctx, c, cur.from, esdb.Forwards)
		if err != nil && !anchored && isInvalidPosition(err) {
			// after is not where a record starts: begin at the event
			// before it instead.
			anchored = true
			if cur.from, err = s.lastAtOrBefore(ctx, c, after); err == nil {
				continue
			}
		}
		if err != nil {
			return nil, s.fail(ctx, c, "read $all", err)
		}
		anchored = true
		for _, re := range page {
			if !cur.advance(re) {
				continue
			}
			if e, ok := s.names.fromRecorded(re); ok {
				out = append(out, e)
				if len(out) == limit {
					return out, nil
				}
			}
		}
		if len(page) < s.opts.ReadPageSize {
			return out, nil
		}
	}
}

// cursor walks $all forwards without repeating an event: forward reads
// include the event they start at, and a resumed subscription may repeat
// what it sent before it dropped.
type cursor struct {
	// from is where the next read or subscription starts: the position of
	// the last event seen, as the server gave it.
	from esdb.AllPosition
	// after is the commit position of the last event seen (or the caller's
	// starting point); nothing at or before it is taken again.
	after uint64
}

// advance reports whether e is new, and moves past it if so.
func (c *cursor) advance(e *esdb.RecordedEvent) bool {
	if e == nil || e.Position.Commit <= c.after {
		return false
	}
	c.after = e.Position.Commit
	c.from = e.Position
	return true
}

// readAllPage reads one page of $all in the given direction.
func (s *Store) readAllPage(ctx context.Context, c *esdb.Client, from esdb.AllPosition, dir esdb.Direction) ([]*esdb.RecordedEvent, error) {
	rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: dir, From: from}, uint64(s.opts.ReadPageSize))
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	page := make([]*esdb.RecordedEvent, 0, s.opts.ReadPageSize)
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return page, nil
		}
		if err != nil {
			return nil, err
		}
		if ev.Event != nil {
			page = append(page, ev.Event)
		}
	}
}

// lastAtOrBefore finds, scanning $all backwards from its end, the newest
// event at or before pos, as a position $all can be read from; the start of
// $all if there is none.
func (s *Store) lastAtOrBefore(ctx context.Context, c *esdb.Client, pos uint64) (esdb.AllPosition, error) {
	var from esdb.AllPosition = esdb.End{}
	for {
		page, err := s.readAllPage(ctx, c, from, esdb.Backwards)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			if e.Position.Commit <= pos {
				return e.Position, nil
			}
			from = e.Position
		}
		if len(page) < s.opts.ReadPageSize {
			return esdb.Start{}, nil
		}
	}
}

// anchor returns where a subscription delivering the events after pos can
// start: pos itself when $all can be read from there.
func (s *Store) anchor(ctx context.Context, c *esdb.Client, pos uint64) (esdb.AllPosition, error) {
	from := startPosition(pos)
	if pos == 0 {
		return from, nil
	}
	rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: from}, 1)
	if err == nil {
		_, err = rs.Recv()
		rs.Close()
	}
	switch {
	case err == nil || errors.Is(err, io.EOF):
		return from, nil
	case isInvalidPosition(err):
		return s.lastAtOrBefore(ctx, c, pos)
	default:
		return nil, err
	}
}

// LastPosition implements eventstore.Store: the position of the newest of
// the service's events, found by reading $all backwards.
func (s *Store) LastPosition(ctx context.Context) (uint64, error) {
	ctx, done, err := s.enter(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	c, err := s.conn.get()
	if err != nil {
		return 0, err
	}
	var from esdb.AllPosition = esdb.End{}
	for {
		page, err := s.readAllPage(ctx, c, from, esdb.Backwards)
		if err != nil {
			return 0, s.fail(ctx, c, "read $all backwards", err)
		}
		for _, e := range page {
			if _, ok := s.names.fromRecorded(e); ok {
				return e.Position.Commit, nil
			}
			from = e.Position
		}
		if len(page) < s.opts.ReadPageSize {
			return 0, nil
		}
	}
}
