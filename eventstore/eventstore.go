package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// EventData is an event as a caller hands it to Append. ID is chosen by the
// caller (a UUID string); appending an ID that the stream already holds does
// not store it again.
type EventData struct {
	ID       string
	Type     string
	Data     []byte
	Metadata []byte
}

// RecordedEvent is an event as the store returns it.
type RecordedEvent struct {
	ID     string
	Stream string
	// Version is the event's 0-based index in its stream; versions are dense.
	Version uint64
	// Position is the event's place in the global log; positions start at 1
	// and strictly increase in commit order. 0 means "before everything".
	Position uint64
	Type     string
	Data     []byte
	Metadata []byte
	Recorded time.Time
}

// AppendResult tells where the last event of an append landed.
type AppendResult struct {
	// Version is the stream version of the last event of the batch.
	Version uint64
	// Position is the global position of the last event of the batch.
	Position uint64
	// Duplicate is true when every event ID of the batch was already stored in
	// the stream: nothing was written and Version/Position name the earlier
	// append's last event.
	Duplicate bool
}

// Store is the contract every event-store backend implements. All methods are
// safe for concurrent use.
type Store interface {
	// Append writes events to the end of stream atomically, provided the
	// stream's state matches expected; it returns only after the events are
	// durable. A batch whose IDs are all already in the stream is not stored
	// again (AppendResult.Duplicate); a batch mixing stored and new IDs is
	// refused with ErrIDConflict.
	Append(ctx context.Context, stream string, expected ExpectedVersion, events ...EventData) (AppendResult, error)
	// ReadStream returns up to max events of stream with Version >= from, in
	// version order. A stream that does not exist reads as empty.
	ReadStream(ctx context.Context, stream string, from uint64, max int) ([]RecordedEvent, error)
	// ReadAll returns up to max events of every stream with Position > after,
	// in position order.
	ReadAll(ctx context.Context, after uint64, max int) ([]RecordedEvent, error)
	// Subscribe delivers every event with Position > after, first those
	// already stored, then new ones as they commit, in position order.
	Subscribe(ctx context.Context, after uint64) (Subscription, error)
	// LastPosition is the position of the newest committed event (0 if none).
	LastPosition(ctx context.Context) (uint64, error)
	Close() error
}

// Subscription is a catch-up subscription: it delivers stored events, then
// live ones, with at-least-once delivery across restarts of the subscriber.
type Subscription interface {
	// Recv blocks until at least one event is available and returns a batch
	// in position order. It returns the context's error when ctx ends and
	// ErrClosed after Close or when the store closes.
	Recv(ctx context.Context) ([]RecordedEvent, error)
	Close() error
}

var (
	// ErrWrongExpectedVersion is matched (errors.Is) by *WrongVersionError.
	ErrWrongExpectedVersion = errors.New("eventstore: wrong expected version")
	// ErrIDConflict means a batch mixed already-stored and new event IDs, or
	// (on backends that index ids across streams, storetest.Features) reused
	// an ID stored in another stream.
	ErrIDConflict = errors.New("eventstore: event id conflict")
	// ErrClosed is returned by a closed store or subscription.
	ErrClosed = errors.New("eventstore: closed")
)

// WrongVersionError reports an optimistic-concurrency conflict.
type WrongVersionError struct {
	Stream   string
	Expected ExpectedVersion
	// Actual is the stream's current version; Exists is false when the stream
	// has no events.
	Actual uint64
	Exists bool
}

func (e *WrongVersionError) Error() string {
	actual := "no stream"
	if e.Exists {
		actual = fmt.Sprintf("version %d", e.Actual)
	}
	return fmt.Sprintf("eventstore: stream %q: expected %s, found %s", e.Stream, e.Expected, actual)
}

// Is makes errors.Is(err, ErrWrongExpectedVersion) true.
func (e *WrongVersionError) Is(target error) bool { return target == ErrWrongExpectedVersion }

type expectedKind uint8

const (
	kindAny expectedKind = iota
	kindNoStream
	kindStreamExists
	kindExact
)

// ExpectedVersion is the state a stream must be in for an append to go
// through. It is closed: build it with Any, NoStream, StreamExists or Exact.
type ExpectedVersion struct {
	kind    expectedKind
	version uint64
}

// Any accepts the stream in any state.
func Any() ExpectedVersion { return ExpectedVersion{kind: kindAny} }

// NoStream requires the stream to have no events.
func NoStream() ExpectedVersion { return ExpectedVersion{kind: kindNoStream} }

// StreamExists requires the stream to have at least one event.
func StreamExists() ExpectedVersion { return ExpectedVersion{kind: kindStreamExists} }

// Exact requires the stream's last event to have version v.
func Exact(v uint64) ExpectedVersion { return ExpectedVersion{kind: kindExact, version: v} }

// Matches reports whether a stream whose last version is current (exists
// false for an empty stream) satisfies e.
func (e ExpectedVersion) Matches(current uint64, exists bool) bool {
	switch e.kind {
	case kindNoStream:
		return !exists
	case kindStreamExists:
		return exists
	case kindExact:
		return exists && current == e.version
	default:
		return true
	}
}

// Version returns the exact version and true for Exact, otherwise false.
func (e ExpectedVersion) Version() (uint64, bool) { return e.version, e.kind == kindExact }

// IsAny, IsNoStream and IsStreamExists tell the other kinds apart.
func (e ExpectedVersion) IsAny() bool          { return e.kind == kindAny }
func (e ExpectedVersion) IsNoStream() bool     { return e.kind == kindNoStream }
func (e ExpectedVersion) IsStreamExists() bool { return e.kind == kindStreamExists }

func (e ExpectedVersion) String() string {
	switch e.kind {
	case kindNoStream:
		return "no stream"
	case kindStreamExists:
		return "stream exists"
	case kindExact:
		return fmt.Sprintf("version %d", e.version)
	default:
		return "any"
	}
}
