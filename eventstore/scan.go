package eventstore

import "context"

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
