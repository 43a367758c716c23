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
