package feed

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/uuchat/groupchat/eventstore"
)

// Metadata keys of a batch message.
const (
	// MetaCount is the number of events in the batch, in decimal.
	MetaCount = "eventstore_count"
	// MetaFirstPosition and MetaLastPosition are the global positions of
	// the batch's first and last event, in decimal.
	MetaFirstPosition = "eventstore_first_position"
	MetaLastPosition  = "eventstore_last_position"
)

// batchFormat is the first byte of a payload. A payload in another format
// is refused, not guessed at.
const batchFormat = 1

// NewMessage returns a watermill message carrying events, which must be
// non-empty and in position order.
func NewMessage(events []eventstore.RecordedEvent) *message.Message {
	first, last := events[0].Position, events[len(events)-1].Position
	msg := message.NewMessage(strconv.FormatUint(first, 10)+"-"+strconv.FormatUint(last, 10), encode(events))
	msg.Metadata.Set(MetaCount, strconv.Itoa(len(events)))
	msg.Metadata.Set(MetaFirstPosition, strconv.FormatUint(first, 10))
	msg.Metadata.Set(MetaLastPosition, strconv.FormatUint(last, 10))
	return msg
}

// Events returns the events a message made by this package carries.
func Events(msg *message.Message) ([]eventstore.RecordedEvent, error) {
	events, err := decode(msg.Payload)
	if err != nil {
		return nil, fmt.Errorf("feed: message %s: %w", msg.UUID, err)
	}
	return events, nil
}

// The payload is the format byte, the number of events, then each event's
// fields: strings and byte slices length-prefixed (a slice's length plus
// one, so that nil stays nil), numbers as varints.
func encode(events []eventstore.RecordedEvent) []byte {
	size := 1 + binary.MaxVarintLen64
	for _, e := range events {
		size += len(e.ID) + len(e.Stream) + len(e.Type) + len(e.Data) + len(e.Metadata) + 8*binary.MaxVarintLen64
	}
	b := make([]byte, 0, size)
	b = append(b, batchFormat)
	b = binary.AppendUvarint(b, uint64(len(events)))
	for _, e := range events {
		b = appendString(b, e.ID)
		b = appendString(b, e.Stream)
		b = binary.AppendUvarint(b, e.Version)
		b = binary.AppendUvarint(b, e.Position)
		b = appendString(b, e.Type)
		b = appendBytes(b, e.Data)
		b = appendBytes(b, e.Metadata)
		b = binary.AppendVarint(b, e.Recorded.Unix())
		b = binary.AppendUvarint(b, uint64(e.Recorded.Nanosecond()))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, p []byte) []byte {
	if p == nil {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(p))+1)
	return append(b, p...)
}

var errTruncated = errors.New("truncated batch")

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errTruncated
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errTruncated
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) take(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errTruncated
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) string() string { return string(r.take(r.uvarint())) }

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n == 0 || r.err != nil {
		return nil
	}
	// Copy, so that a consumer keeping an event does not keep the payload.
	return append([]byte{}, r.take(n-1)...)
}

func decode(payload []byte) ([]eventstore.RecordedEvent, error) {
	if len(payload) == 0 || payload[0] != batchFormat {
		return nil, errors.New("not an event batch")
	}
	r := reader{b: payload[1:]}
	n := r.uvarint()
	if r.err != nil {
		return nil, r.err
	}
	// Each event takes at least 9 bytes; a count beyond that is a lie that
	// must not size an allocation.
	if n == 0 || n > uint64(len(r.b))/9 {
		return nil, fmt.Errorf("bad event count %d", n)
	}
	events := make([]eventstore.RecordedEvent, 0, n)
	for range n {
		var e eventstore.RecordedEvent
		e.ID = r.string()
		e.Stream = r.string()
		e.Version = r.uvarint()
		e.Position = r.uvarint()
		e.Type = r.string()
		e.Data = r.bytes()
		e.Metadata = r.bytes()
		sec, nsec := r.varint(), r.uvarint()
		if r.err != nil {
			return nil, r.err
		}
		if nsec >= 1e9 || sec < math.MinInt64/2 || sec > math.MaxInt64/2 {
			return nil, errors.New("bad recording time")
		}
		e.Recorded = time.Unix(sec, int64(nsec)).UTC()
		events = append(events, e)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%d bytes after the last event", len(r.b))
	}
	return events, nil
}
