package kurrent

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/uuchat/groupchat/eventstore"
)

// ErrInvalidID is matched (errors.Is) by the error Append returns for an
// event id that is not a UUID in canonical lowercase form: KurrentDB event
// ids are UUIDs, and an id must read back exactly as it was written.
var ErrInvalidID = errors.New("eventstore/kurrent: event id is not a canonical UUID")

// names maps the service's stream names to KurrentDB stream names and back.
type names struct{ prefix string }

func (n names) full(stream string) string { return n.prefix + stream }

// local returns the service's name for a KurrentDB stream, and false for a
// stream that is not one of the service's.
func (n names) local(full string) (string, bool) {
	if len(full) <= len(n.prefix) || !strings.HasPrefix(full, n.prefix) {
		return "", false
	}
	return full[len(n.prefix):], true
}

// filter is the server-side filter that keeps the service's streams.
func (n names) filter() *esdb.SubscriptionFilter {
	return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{n.prefix}}
}

// checkPrefix refuses prefixes that would mix the service's streams with
// KurrentDB's system streams or match every stream.
func checkPrefix(p string) error {
	switch {
	case p == "":
		return errors.New("eventstore/kurrent: StreamPrefix must not be empty: it is what tells the service's streams apart in $all")
	case strings.HasPrefix(p, "$"):
		return fmt.Errorf("eventstore/kurrent: StreamPrefix %q starts with $, which KurrentDB reserves for system streams", p)
	case strings.ContainsAny(p, " \t\r\n"):
		return fmt.Errorf("eventstore/kurrent: StreamPrefix %q contains white space", p)
	}
	return nil
}

// parseID accepts exactly the form uuid.UUID.String produces, so that the
// id a caller stored is the id it reads back.
func parseID(id string) (uuid.UUID, error) {
	u, err := uuid.Parse(id)
	if err != nil || u == uuid.Nil || u.String() != id {
		// uuid.Nil is refused too: the client silently replaces it with a
		// random id.
		return uuid.Nil, fmt.Errorf("%w: %q; want 8-4-4-4-12 lowercase hex digits, not the nil UUID", ErrInvalidID, id)
	}
	return u, nil
}

// toProposed checks a batch and converts it to the client's type.
func toProposed(stream string, events []eventstore.EventData) ([]esdb.EventData, error) {
	if stream == "" {
		return nil, errors.New("eventstore/kurrent: empty stream name")
	}
	if len(events) == 0 {
		return nil, errors.New("eventstore/kurrent: append needs at least one event")
	}
	out := make([]esdb.EventData, len(events))
	seen := make(map[uuid.UUID]struct{}, len(events))
	for i, e := range events {
		id, err := parseID(e.ID)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		if _, dup := seen[id]; dup {
			return nil, fmt.Errorf("%w: id %q appears twice in one batch", eventstore.ErrIDConflict, e.ID)
		}
		seen[id] = struct{}{}
		if strings.HasPrefix(e.Type, "$") {
			return nil, fmt.Errorf("eventstore/kurrent: event %d: type %q starts with $, which KurrentDB reserves for system events", i, e.Type)
		}
		out[i] = toEventData(id, e)
	}
	return out, nil
}

func toEventData(id uuid.UUID, e eventstore.EventData) esdb.EventData {
	// The content type only matters to KurrentDB's projections and web UI;
	// the service reads bytes back either way.
	ct := esdb.ContentTypeBinary
	if len(e.Data) > 0 && json.Valid(e.Data) {
		ct = esdb.ContentTypeJson
	}
	return esdb.EventData{EventID: id, EventType: e.Type, ContentType: ct, Data: e.Data, Metadata: e.Metadata}
}

// fromRecorded converts an event read from KurrentDB, and reports false for
// events that are not the service's: other streams, and system events
// ($-types: links, metadata, tombstones) inside its streams.
func (n names) fromRecorded(e *esdb.RecordedEvent) (eventstore.RecordedEvent, bool) {
	if e == nil || strings.HasPrefix(e.EventType, "$") {
		return eventstore.RecordedEvent{}, false
	}
	stream, ok := n.local(e.StreamID)
	if !ok {
		return eventstore.RecordedEvent{}, false
	}
	return eventstore.RecordedEvent{
		ID:       e.EventID.String(),
		Stream:   stream,
		Version:  e.EventNumber,
		Position: e.Position.Commit,
		Type:     e.EventType,
		Data:     e.Data,
		Metadata: e.UserMetadata,
		Recorded: e.CreatedDate,
	}, true
}

// expectedRevision maps the store's expectation onto the client's closed
// set of expected revisions.
func expectedRevision(e eventstore.ExpectedVersion) esdb.ExpectedRevision {
	switch {
	case e.IsNoStream():
		return esdb.NoStream{}
	case e.IsStreamExists():
		return esdb.StreamExists{}
	}
	if v, ok := e.Version(); ok {
		return esdb.Revision(v)
	}
	return esdb.Any{}
}

// startPosition is where a read or subscription of $all begins for the
// store's "after": the start of $all for 0, otherwise the event at after
// (a read includes it, a subscription starts after it).
func startPosition(after uint64) esdb.AllPosition {
	if after == 0 {
		return esdb.Start{}
	}
	return esdb.Position{Commit: after, Prepare: after}
}

// conflict is a WrongExpectedVersion answer as the client reports it.
type conflict struct {
	actual uint64
	exists bool
	// known is false when the report did not name the stream's state.
	known bool
}

// The client puts the server's answer into the message of its error:
// "wrong expected version: expecting '<expected>' but got '<current>'",
// where current is "no_stream" or a revision.
var currentRevision = regexp.MustCompile(`but got '([^']*)'`)

// asConflict recognises the client's WrongExpectedVersion error.
func asConflict(err error) (conflict, bool) {
	var ee *esdb.Error
	if !errors.As(err, &ee) || ee.Code() != esdb.ErrorCodeWrongExpectedVersion {
		return conflict{}, false
	}
	if ee.Err() == nil {
		return conflict{}, true
	}
	m := currentRevision.FindStringSubmatch(ee.Err().Error())
	if m == nil {
		return conflict{}, true
	}
	if m[1] == "no_stream" {
		return conflict{known: true}, true
	}
	v, perr := strconv.ParseUint(m[1], 10, 64)
	if perr != nil {
		return conflict{}, true
	}
	return conflict{actual: v, exists: true, known: true}, true
}

// isNotFound recognises the client's answer for a stream with no events.
func isNotFound(err error) bool {
	var ee *esdb.Error
	return errors.As(err, &ee) && ee.Code() == esdb.ErrorCodeResourceNotFound
}

// isClientClosed recognises a client that has shut itself down, which the
// v4 client does for good once node discovery has failed.
func isClientClosed(err error) bool {
	var ee *esdb.Error
	return errors.As(err, &ee) && ee.Code() == esdb.ErrorCodeConnectionClosed
}

// needsNewClient tells whether the next call should start from a new
// client: after the client closed itself, and after the node was
// unreachable. Some calls (reads) hand the gRPC error back without telling
// the client to rediscover, and its connection then waits out gRPC's own
// reconnect backoff, up to two minutes, after the node is back.
func needsNewClient(err error) bool {
	return isClientClosed(err) || status.Code(err) == codes.Unavailable
}

// isInvalidPosition recognises KurrentDB's refusal to read $all from a
// position that is not the start of a record (InvalidArgument, "Trying to
// read from an invalid position"). The client passes it on as an *esdb.Error
// of unknown code wrapping the gRPC status.
func isInvalidPosition(err error) bool {
	return status.Code(err) == codes.InvalidArgument
}

// retryable tells whether resubscribing can cure the error that ended a
// subscription or an attempt to open one. Drops carry the gRPC error as is;
// failed opens carry an *esdb.Error.
func retryable(err error) bool {
	if errors.Is(err, eventstore.ErrClosed) {
		return false
	}
	var ee *esdb.Error
	if errors.As(err, &ee) {
		switch ee.Code() {
		case esdb.ErrorCodeAccessDenied, esdb.ErrorCodeUnauthenticated, esdb.ErrorCodeUnsupportedFeature,
			esdb.ErrorCodeParsing, esdb.ErrorCodeInternalClient, esdb.ErrorCodeStreamDeleted:
			return false
		}
	}
	switch status.Code(err) {
	case codes.PermissionDenied, codes.Unauthenticated, codes.Unimplemented, codes.InvalidArgument:
		return false
	}
	return true
}
