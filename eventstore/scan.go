package eventstore

import (
	"context"
	"strings"
)

// scanPage is how many events ForEach and ForEachInStream read at a time.
const scanPage = 4096

// ForEach calls f with every event of the log after position after, in
// position order, reading it in pages; it stops at f's first error.
func ForEach(ctx context.Context, s Store, after uint64, f func(RecordedEvent) error) error {
	for {
		evs, err := s.ReadAll(ctx, after, scanPage)
		if err != nil {
			return err
		}
		for _, re := range evs {
			if err := f(re); err != nil {
				return err
			}
			after = re.Position
		}
		if len(evs) < scanPage {
			return nil
		}
	}
}

// ForEachInStream calls f with every event of stream, in version order,
// reading it in pages; it stops at f's first error. A stream that does not
// exist has no events.
func ForEachInStream(ctx context.Context, s Store, stream string, f func(RecordedEvent) error) error {
	var from uint64
	for {
		evs, err := s.ReadStream(ctx, stream, from, scanPage)
		if err != nil {
			return err
		}
		for _, re := range evs {
			if err := f(re); err != nil {
				return err
			}
			from = re.Version + 1
		}
		if len(evs) < scanPage {
			return nil
		}
	}
}

// StreamReader reads a stream's events, as Store.ReadStream does.
type StreamReader interface {
	ReadStream(ctx context.Context, stream string, from uint64, max int) ([]RecordedEvent, error)
}

// EventAt reads the event at version of stream; ok is false if the stream
// has none there.
func EventAt(ctx context.Context, s StreamReader, stream string, version uint64) (re RecordedEvent, ok bool, err error) {
	evs, err := s.ReadStream(ctx, stream, version, 1)
	if err != nil || len(evs) != 1 || evs[0].Version != version {
		return RecordedEvent{}, false, err
	}
	return evs[0], true, nil
}

// StreamLister is a store that can list its streams by the start of
// their names without reading the log.
type StreamLister interface {
	// Streams returns up to max names of streams starting with prefix,
	// after the name after, in name order.
	Streams(ctx context.Context, prefix, after string, max int) ([]string, error)
}

// ForEachStream calls f with the name of every stream starting with
// prefix; it stops at f's first error. A store that is a StreamLister
// lists them; any other store's log is read whole, which is what its
// users must then expect at every call.
func ForEachStream(ctx context.Context, s Store, prefix string, f func(stream string) error) error {
	if l, ok := s.(StreamLister); ok {
		var after string
		for {
			names, err := l.Streams(ctx, prefix, after, scanPage)
			if err != nil {
				return err
			}
			for _, n := range names {
				if err := f(n); err != nil {
					return err
				}
				after = n
			}
			if len(names) < scanPage {
				return nil
			}
		}
	}
	seen := map[string]bool{}
	return ForEach(ctx, s, 0, func(re RecordedEvent) error {
		if !strings.HasPrefix(re.Stream, prefix) || seen[re.Stream] {
			return nil
		}
		seen[re.Stream] = true
		return f(re.Stream)
	})
}
