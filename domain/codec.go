package domain

import (
	"encoding/json"
	"fmt"
)

// encodingVersion is stored with every event. Decoders accept every version
// up to it; a field added later reads as its zero value in older events.
const encodingVersion = 1

type envelope struct {
	V    int             `json:"v"`
	Data json.RawMessage `json:"d"`
}

// EncodeEvent serializes an event for storage: its type name and its data.
func EncodeEvent(e Event) (typ string, data []byte, err error) {
	inner, err := json.Marshal(e)
	if err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	data, err = json.Marshal(envelope{V: encodingVersion, Data: inner})
	if err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	return e.EventType(), data, nil
}

// DecodeEvent turns a stored type name and data back into an event.
func DecodeEvent(typ string, data []byte) (Event, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("decode %s: %w", typ, err)
	}
	if env.V < 1 || env.V > encodingVersion {
		return nil, fmt.Errorf("decode %s: unknown encoding version %d", typ, env.V)
	}
	var e Event
	var err error
	switch typ {
	case TypeGroupCreated:
		e, err = decodeAs[GroupCreated](env.Data)
	case TypeGroupUpdated:
		e, err = decodeAs[GroupUpdated](env.Data)
	case TypeGroupDeleted:
		e, err = decodeAs[GroupDeleted](env.Data)
	case TypeMemberAdded:
		e, err = decodeAs[MemberAdded](env.Data)
	case TypeMemberRemoved:
		e, err = decodeAs[MemberRemoved](env.Data)
	case TypeMessagePosted:
		e, err = decodeAs[MessagePosted](env.Data)
	case TypeMessageRead:
		e, err = decodeAs[MessageRead](env.Data)
	default:
		return nil, fmt.Errorf("decode: unknown event type %q", typ)
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", typ, err)
	}
	return canonical(e), nil
}

// canonical returns a decoded event in the one form Decide makes and
// EncodeEvent writes back: its time in UTC (a record may carry another
// offset for the same instant) and an empty mention list as none (the
// encoding omits it). Decoding what was encoded then gives an equal event.
func canonical(e Event) Event {
	switch e := e.(type) {
	case GroupCreated:
		e.At = e.At.UTC()
		return e
	case GroupUpdated:
		e.At = e.At.UTC()
		return e
	case GroupDeleted:
		e.At = e.At.UTC()
		return e
	case MemberAdded:
		e.At = e.At.UTC()
		return e
	case MemberRemoved:
		e.At = e.At.UTC()
		return e
	case MessagePosted:
		e.At = e.At.UTC()
		if len(e.Mentions) == 0 {
			e.Mentions = nil
		}
		return e
	case MessageRead:
		e.At = e.At.UTC()
		return e
	}
	return e
}

func decodeAs[T Event](data json.RawMessage) (Event, error) {
	var v T
	if len(data) == 0 || string(data) == "null" {
		return nil, fmt.Errorf("no data")
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return v, nil
}
