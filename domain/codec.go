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

// DecodeEvent turns a stored type name and data back into an event. The
// envelope and the event are decoded in one pass: decoding dominates the
// cost of rebuilding projections from a long log.
func DecodeEvent(typ string, data []byte) (Event, error) {
	var e Event
	var err error
	switch typ {
	case TypeGroupCreated:
		e, err = decodeAs[GroupCreated](data)
	case TypeGroupUpdated:
		e, err = decodeAs[GroupUpdated](data)
	case TypeGroupDeleted:
		e, err = decodeAs[GroupDeleted](data)
	case TypeMemberAdded:
		e, err = decodeAs[MemberAdded](data)
	case TypeMemberRemoved:
		e, err = decodeAs[MemberRemoved](data)
	case TypeMessagePosted:
		e, err = decodeAs[MessagePosted](data)
	case TypeMessageRead:
		e, err = decodeAs[MessageRead](data)
	case TypePushEnabled:
		e, err = decodeAs[PushEnabled](data)
	case TypePushDisabled:
		e, err = decodeAs[PushDisabled](data)
	case TypeNotifyLevelSet:
		e, err = decodeAs[NotifyLevelSet](data)
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
	case PushEnabled:
		e.At = e.At.UTC()
		return e
	case PushDisabled:
		e.At = e.At.UTC()
		return e
	case NotifyLevelSet:
		e.At = e.At.UTC()
		return e
	}
	return e
}

func decodeAs[T Event](data []byte) (Event, error) {
	var env struct {
		V int `json:"v"`
		D *T  `json:"d"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, err
	}
	if env.V < 1 || env.V > encodingVersion {
		return nil, fmt.Errorf("unknown encoding version %d", env.V)
	}
	if env.D == nil {
		return nil, fmt.Errorf("no data")
	}
	return *env.D, nil
}
