package domain

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// encodingVersion is the encoding EncodeEvent writes. Decoders accept every
// version up to it:
//
//   - Version 1 is JSON, {"v":1,"d":{...event fields...}}. Events stored
//     before version 2 stay in it; a field added later reads as its zero
//     value.
//   - Version 2 is a compact binary record (see encodeV2). Decoding JSON
//     was the largest cost of rebuilding projections from a long log; the
//     binary record decodes several times faster, with one allocation for
//     all of an event's strings.
//
// The two cannot be confused: a version 1 record starts with '{' (or JSON
// white space), a version 2 record with the byte 2.
const encodingVersion = 2

type envelope struct {
	V    int             `json:"v"`
	Data json.RawMessage `json:"d"`
}

// EncodeEvent serializes an event for storage: its type name and its data,
// in the current encoding (version 2).
func EncodeEvent(e Event) (typ string, data []byte, err error) {
	data, err = encodeV2(e)
	if err != nil {
		return "", nil, err
	}
	return e.EventType(), data, nil
}

// DecodeEvent turns a stored type name and data back into an event, in
// whichever encoding version it was stored.
func DecodeEvent(typ string, data []byte) (Event, error) {
	var e Event
	var err error
	if len(data) > 0 && data[0] == 2 {
		e, err = decodeV2(typ, data[1:])
	} else {
		e, err = decodeV1(typ, data)
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", typ, err)
	}
	return canonical(e), nil
}

// decodeV1 decodes a version 1 (JSON) record. The envelope and the event
// are decoded in one pass.
func decodeV1(typ string, data []byte) (Event, error) {
	switch typ {
	case TypeGroupCreated:
		return decodeAs[GroupCreated](data)
	case TypeGroupUpdated:
		return decodeAs[GroupUpdated](data)
	case TypeGroupDeleted:
		return decodeAs[GroupDeleted](data)
	case TypeMemberAdded:
		return decodeAs[MemberAdded](data)
	case TypeMemberRemoved:
		return decodeAs[MemberRemoved](data)
	case TypeMessagePosted:
		return decodeAs[MessagePosted](data)
	case TypeMessageRead:
		return decodeAs[MessageRead](data)
	case TypeMessageRetracted:
		return decodeAs[MessageRetracted](data)
	case TypeMemberRoleChanged:
		return decodeAs[MemberRoleChanged](data)
	case TypePushEnabled:
		return decodeAs[PushEnabled](data)
	case TypePushDisabled:
		return decodeAs[PushDisabled](data)
	case TypeNotifyLevelSet:
		return decodeAs[NotifyLevelSet](data)
	}
	return nil, errUnknownType
}

var errUnknownType = errors.New("unknown event type")

// canonical returns a decoded event in the one form Decide makes and
// EncodeEvent writes back: its time in UTC (a record may carry another
// offset for the same instant) and an empty mention or member list as none
// (the encoding omits it). Decoding what was encoded then gives an equal event.
func canonical(e Event) Event {
	switch e := e.(type) {
	case GroupCreated:
		e.At = e.At.UTC()
		if len(e.Members) == 0 {
			e.Members = nil
		}
		return e
	case GroupUpdated:
		e.At = e.At.UTC()
		return e
	case GroupDeleted:
		e.At = e.At.UTC()
		if len(e.Members) == 0 {
			e.Members = nil
		}
		return e
	case MemberAdded:
		e.At = e.At.UTC()
		if len(e.Members) == 0 {
			e.Members = nil
		}
		return e
	case MemberRemoved:
		e.At = e.At.UTC()
		if len(e.Members) == 0 {
			e.Members = nil
		}
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
	case MessageRetracted:
		e.At = e.At.UTC()
		return e
	case MemberRoleChanged:
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
	if env.V != 1 {
		return nil, fmt.Errorf("unknown encoding version %d", env.V)
	}
	if env.D == nil {
		return nil, fmt.Errorf("no data")
	}
	return *env.D, nil
}

// Version 2 is the byte 2 followed by the event's fields in the order of
// its struct, with no names and no padding:
//
//   - a string is its length (unsigned varint) and its bytes;
//   - a number (a version) is an unsigned varint;
//   - a time is its Unix seconds (signed varint) and nanoseconds (unsigned
//     varint, below 1e9), read back in UTC;
//   - a list is its length and its elements; a member is JID, MID, Nick,
//     Role;
//   - an optional message reference is the byte 0 (none) or 1 and the
//     reference (ID, Version, Sender);
//   - a flag (a bool) is the byte 0 or 1;
//   - optional last fields (a message's kind; a deletion's reason and
//     venue, together) are left out when they have their zero values.
//
// A record must end exactly where its last field does. Fields may only
// ever be added at the end, read as their zero value when absent.
func encodeV2(e Event) ([]byte, error) {
	var w v2writer
	w.b = make([]byte, 1, 128)
	w.b[0] = 2
	switch e := e.(type) {
	case GroupCreated:
		w.str(e.GroupID)
		w.str(e.Name)
		w.str(string(e.Type))
		w.members(e.Members)
		w.str(e.By)
		w.time(e.At)
	case *GroupCreated:
		return encodeV2(*e)
	case GroupUpdated:
		w.str(e.Name)
		w.str(e.NewOwner)
		w.str(e.By)
		w.time(e.At)
	case *GroupUpdated:
		return encodeV2(*e)
	case GroupDeleted:
		w.members(e.Members)
		w.str(e.By)
		w.time(e.At)
		// Added after version 2 was first written: a deletion without
		// them, which every record before it is, leaves them out.
		if e.Reason != "" || e.Venue != "" {
			w.str(e.Reason)
			w.str(e.Venue)
		}
	case *GroupDeleted:
		return encodeV2(*e)
	case MemberAdded:
		w.members(e.Members)
		w.str(e.By)
		w.time(e.At)
	case *MemberAdded:
		return encodeV2(*e)
	case MemberRemoved:
		w.members(e.Members)
		w.str(e.By)
		w.time(e.At)
	case *MemberRemoved:
		return encodeV2(*e)
	case MessagePosted:
		w.str(e.ID)
		w.str(e.OriginID)
		w.str(e.Sender)
		w.str(e.MID)
		w.str(e.Body)
		w.str(e.Payload)
		w.uint(uint64(len(e.Mentions)))
		for _, m := range e.Mentions {
			w.str(m)
		}
		w.time(e.At)
		// Added after version 2 was first written: a plain message, which
		// every record before it is, leaves it out.
		if e.Kind != PlainMessage {
			w.str(string(e.Kind))
		}
	case *MessagePosted:
		return encodeV2(*e)
	case MessageRead:
		w.str(e.Reader)
		w.str(e.MID)
		if e.Message == nil {
			w.b = append(w.b, 0)
		} else {
			w.b = append(w.b, 1)
			w.str(e.Message.ID)
			w.uint(e.Message.Version)
			w.str(e.Message.Sender)
		}
		w.uint(e.Upto)
		w.time(e.At)
	case *MessageRead:
		return encodeV2(*e)
	case MessageRetracted:
		w.str(e.Message.ID)
		w.uint(e.Message.Version)
		w.str(e.Message.Sender)
		w.str(e.ID)
		w.str(e.Target)
		w.str(e.By)
		w.str(e.MID)
		w.bool(e.Moderated)
		w.str(e.Reason)
		w.str(e.Body)
		w.time(e.At)
	case *MessageRetracted:
		return encodeV2(*e)
	case MemberRoleChanged:
		w.member(e.Member)
		w.str(e.By)
		w.time(e.At)
	case *MemberRoleChanged:
		return encodeV2(*e)
	case PushEnabled:
		w.str(e.User)
		w.str(e.JID)
		w.str(e.Node)
		w.str(e.PublishOptions)
		w.bool(e.IncludeBody)
		w.time(e.At)
	case *PushEnabled:
		return encodeV2(*e)
	case PushDisabled:
		w.str(e.User)
		w.str(e.JID)
		w.str(e.Node)
		w.str(e.Reason)
		w.time(e.At)
	case *PushDisabled:
		return encodeV2(*e)
	case NotifyLevelSet:
		w.str(e.User)
		w.str(e.Group)
		w.str(string(e.Level))
		w.time(e.At)
	case *NotifyLevelSet:
		return encodeV2(*e)
	default:
		return nil, fmt.Errorf("encode: %T is not an event", e)
	}
	return w.b, nil
}

type v2writer struct{ b []byte }

func (w *v2writer) uint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }

func (w *v2writer) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

func (w *v2writer) str(s string) {
	w.uint(uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *v2writer) time(t time.Time) {
	w.b = binary.AppendVarint(w.b, t.Unix())
	w.uint(uint64(t.Nanosecond()))
}

func (w *v2writer) members(ms []Member) {
	w.uint(uint64(len(ms)))
	for _, m := range ms {
		w.member(m)
	}
}

func (w *v2writer) member(m Member) {
	w.str(m.JID)
	w.str(m.MID)
	w.str(m.Nick)
	w.str(string(m.Role))
}

// v2reader reads a version 2 record. Every string it returns is a part of
// s, one copy of the record made up front: an event costs one allocation
// for all its strings instead of one each. The first error sticks; later
// reads return zero values.
type v2reader struct {
	s   string
	i   int
	err error
}

var (
	errTruncated = errors.New("truncated record")
	errTrailing  = errors.New("bytes after the last field")
)

func (r *v2reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *v2reader) uint() uint64 {
	if r.err != nil {
		return 0
	}
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if r.i >= len(r.s) {
			r.fail(errTruncated)
			return 0
		}
		c := r.s[r.i]
		r.i++
		if shift == 63 && c > 1 {
			r.fail(errors.New("varint overflows 64 bits"))
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			if c == 0 && shift > 0 {
				// A longer form than needed would not encode back to the
				// same bytes.
				r.fail(errors.New("varint not in its shortest form"))
				return 0
			}
			return v
		}
	}
}

// bool reads a flag written as the byte 0 or 1; any other value would not
// encode back to the same bytes.
func (r *v2reader) bool() bool {
	switch r.uint() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail(errors.New("bad flag"))
	return false
}

func (r *v2reader) str() string {
	n := r.uint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.s)-r.i) {
		r.fail(errTruncated)
		return ""
	}
	s := r.s[r.i : r.i+int(n)]
	r.i += int(n)
	return s
}

// count reads a list length. Every element takes at least one byte, so a
// length beyond the bytes left is refused before anything is allocated.
func (r *v2reader) count() int {
	n := r.uint()
	if r.err == nil && n > uint64(len(r.s)-r.i) {
		r.fail(errTruncated)
		return 0
	}
	return int(n)
}

func (r *v2reader) time() time.Time {
	u := r.uint()
	ns := r.uint()
	if r.err != nil {
		return time.Time{}
	}
	if ns >= 1e9 {
		r.fail(errors.New("nanoseconds out of range"))
		return time.Time{}
	}
	// Signed varint: zig-zag, as binary.AppendVarint writes it.
	sec := int64(u >> 1)
	if u&1 != 0 {
		sec = ^sec
	}
	return time.Unix(sec, int64(ns)).UTC()
}

// role and groupType return the constants for the known values, so that
// the common case allocates nothing more.
func role(s string) Role {
	switch Role(s) {
	case RoleOwner:
		return RoleOwner
	case RoleAdmin:
		return RoleAdmin
	case RoleMember:
		return RoleMember
	}
	return Role(s)
}

func groupType(s string) GroupType {
	switch GroupType(s) {
	case TypeCustomized:
		return TypeCustomized
	case TypeSystem:
		return TypeSystem
	}
	return GroupType(s)
}

// messageKind returns the constant for a known kind, as role does.
func messageKind(s string) MessageKind {
	switch MessageKind(s) {
	case Correction:
		return Correction
	case Reaction:
		return Reaction
	case StoredSignal:
		return StoredSignal
	}
	return MessageKind(s)
}

func (r *v2reader) members() []Member {
	n := r.count()
	if n == 0 {
		return nil
	}
	// A member takes at least four bytes.
	if n > (len(r.s)-r.i)/4 {
		r.fail(errTruncated)
		return nil
	}
	ms := make([]Member, n)
	for i := range ms {
		ms[i] = r.member()
	}
	return ms
}

func (r *v2reader) member() Member {
	return Member{JID: r.str(), MID: r.str(), Nick: r.str(), Role: role(r.str())}
}

// decodeV2 decodes a version 2 record, data without its version byte.
func decodeV2(typ string, data []byte) (Event, error) {
	r := v2reader{s: string(data)}
	var e Event
	switch typ {
	case TypeGroupCreated:
		e = GroupCreated{GroupID: r.str(), Name: r.str(), Type: groupType(r.str()), Members: r.members(), By: r.str(), At: r.time()}
	case TypeGroupUpdated:
		e = GroupUpdated{Name: r.str(), NewOwner: r.str(), By: r.str(), At: r.time()}
	case TypeGroupDeleted:
		d := GroupDeleted{Members: r.members(), By: r.str(), At: r.time()}
		if r.err == nil && r.i < len(r.s) {
			if d.Reason, d.Venue = r.str(), r.str(); d.Reason == "" && d.Venue == "" {
				// Written only when one is given: empty ones would not
				// encode back to the same bytes.
				r.fail(errors.New("an empty reason and venue"))
			}
		}
		e = d
	case TypeMemberAdded:
		e = MemberAdded{Members: r.members(), By: r.str(), At: r.time()}
	case TypeMemberRemoved:
		e = MemberRemoved{Members: r.members(), By: r.str(), At: r.time()}
	case TypeMessagePosted:
		m := MessagePosted{ID: r.str(), OriginID: r.str(), Sender: r.str(), MID: r.str(), Body: r.str(), Payload: r.str()}
		if n := r.count(); n > 0 {
			m.Mentions = make([]string, n)
			for i := range m.Mentions {
				m.Mentions[i] = r.str()
			}
		}
		m.At = r.time()
		if r.err == nil && r.i < len(r.s) {
			if m.Kind = messageKind(r.str()); m.Kind == PlainMessage {
				// Written only when not plain: an empty kind would not
				// encode back to the same bytes.
				r.fail(errors.New("an empty message kind"))
			}
		}
		e = m
	case TypeMessageRead:
		m := MessageRead{Reader: r.str(), MID: r.str()}
		// The reference's flag, read as a count of references: one
		// needs bytes after it, which count checks.
		switch r.count() {
		case 0:
		case 1:
			m.Message = &MessageRef{ID: r.str(), Version: r.uint(), Sender: r.str()}
		default:
			r.fail(errors.New("bad message reference flag"))
		}
		m.Upto = r.uint()
		m.At = r.time()
		e = m
	case TypeMessageRetracted:
		e = MessageRetracted{Message: MessageRef{ID: r.str(), Version: r.uint(), Sender: r.str()}, ID: r.str(), Target: r.str(),
			By: r.str(), MID: r.str(), Moderated: r.bool(), Reason: r.str(), Body: r.str(), At: r.time()}
	case TypeMemberRoleChanged:
		e = MemberRoleChanged{Member: r.member(), By: r.str(), At: r.time()}
	case TypePushEnabled:
		e = PushEnabled{User: r.str(), JID: r.str(), Node: r.str(), PublishOptions: r.str(), IncludeBody: r.bool(), At: r.time()}
	case TypePushDisabled:
		e = PushDisabled{User: r.str(), JID: r.str(), Node: r.str(), Reason: r.str(), At: r.time()}
	case TypeNotifyLevelSet:
		e = NotifyLevelSet{User: r.str(), Group: r.str(), Level: NotifyLevel(r.str()), At: r.time()}
	default:
		return nil, errUnknownType
	}
	if r.err == nil && r.i != len(r.s) {
		r.err = errTrailing
	}
	if r.err != nil {
		return nil, r.err
	}
	return e, nil
}
