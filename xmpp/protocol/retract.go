package protocol

import (
	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// The namespaces of message retraction (XEP-0424), moderation (XEP-0425)
// and the fallback marker a retraction carries (XEP-0428).
const (
	NSRetract          = "urn:xmpp:message-retract:1"
	NSRetractTombstone = "urn:xmpp:message-retract:1#tombstone"
	NSModerate         = "urn:xmpp:message-moderate:1"
	NSFallback         = "urn:xmpp:fallback:0"
)

// Retract is a sender's XEP-0424 retraction: a groupchat message carrying
// <retract id=…/>, naming the message by the group's stanza-id (or by the
// sender's own id). Body is its fallback text.
type Retract struct {
	Group, Target, Body string
}

// Moderate is an XEP-0425 request of the owner or an admin to withdraw any
// member's message, named by its stanza-id.
type Moderate struct {
	Group, Target, Reason string
}

func (Retract) request()  {}
func (Moderate) request() {}

// parseRetract recognises a retraction in a groupchat message; ok is false
// for any other message.
func parseRetract(s Stanza) (r Retract, err error, ok bool) {
	c := s.Node.Child(NSRetract, "retract")
	if c == nil {
		return Retract{}, nil, false
	}
	if c.Attr("id") == "" {
		return Retract{}, ErrBadRequest.With("name the message to retract with the id of <retract/>"), true
	}
	r = Retract{Group: s.Group(), Target: c.Attr("id")}
	if b := s.Node.Child("", "body"); b != nil {
		r.Body = b.Text
	}
	return r, nil, true
}

// parseModerate reads an XEP-0425 moderation request; ok is false for
// other IQs.
func parseModerate(s Stanza, q *xmlnode.Node) (r Request, err error, ok bool) {
	if q.Name.Space != NSModerate || q.Name.Local != "moderate" {
		return nil, nil, false
	}
	switch {
	case s.Type != "set":
		return nil, ErrBadRequest.With("moderation is an iq of type set"), true
	case s.Group() == "":
		return nil, ErrBadRequest.With("send moderation to the group's JID"), true
	case q.Attr("id") == "":
		return nil, ErrBadRequest.With("name the message to moderate with the id of <moderate/>"), true
	case q.Child(NSRetract, "retract") == nil:
		// Moderation could one day edit; this service only withdraws.
		return nil, ErrNotImplemented.With("the only moderation is retraction"), true
	}
	m := Moderate{Group: s.Group(), Target: q.Attr("id")}
	if reason := q.Child(NSModerate, "reason"); reason != nil {
		m.Reason = reason.Text
	}
	return m, nil, true
}

// ModerationDone renders the empty IQ result that tells a moderator its
// request was carried out (XEP-0425 §4.1), once the retraction is stored.
func ModerationDone(groupJID, id, to string) Outbound {
	return outbound("iq", groupJID, id, "result", to, []byte(`"/>`))
}

// Retraction renders what members receive for a withdrawn message, and
// what the archive keeps of it. A sender's retraction comes from its
// occupant JID with its own id, its fallback text and a store hint
// (XEP-0424 §4); a moderation comes from the group, naming the moderator
// and the reason (XEP-0425 §4.1).
func Retraction(occupant, groupJID string, r domain.MessageRetracted, moderator, archiveID string) Outbound {
	tail := append(make([]byte, 0, 256+len(r.Body)+len(r.Reason)), `">`...)
	from := occupant
	if r.Moderated {
		from = groupJID
		tail = AppendStart(tail, "retract", false, A("id", r.Target), A("xmlns", NSRetract))
		tail = AppendStart(tail, "moderated", true, A("by", moderator), A("xmlns", NSModerate))
		if r.Reason != "" {
			tail = AppendElementText(tail, "reason", r.Reason)
		}
		tail = AppendEnd(tail, "retract")
	} else {
		tail = AppendStart(tail, "retract", true, A("id", r.Target), A("xmlns", NSRetract))
		tail = AppendStart(tail, "fallback", true, A("xmlns", NSFallback), A("for", NSRetract))
		if r.Body != "" {
			tail = AppendElementText(tail, "body", r.Body)
		}
		tail = AppendStart(tail, "store", true, A("xmlns", NSHints))
	}
	tail = AppendStart(tail, "stanza-id", true, A("xmlns", NSSID), A("by", groupJID), A("id", archiveID))
	tail = AppendEnd(tail, "message")
	return outbound("message", from, r.ID, "groupchat", "", tail)
}

// Tombstone renders a withdrawn message as history shows it in its place
// (XEP-0424 §5, XEP-0425 §5): the message's envelope and archive id, its
// content replaced by <retracted/> naming the retraction and when it was.
func Tombstone(occupant, groupJID string, m domain.MessagePosted, archiveID string, r domain.MessageRetracted, moderator string) Outbound {
	tail := append(make([]byte, 0, 256), `">`...)
	stamp := r.At.UTC().Format("2006-01-02T15:04:05.000Z")
	if r.Moderated {
		tail = AppendStart(tail, "retracted", false, A("stamp", stamp), A("xmlns", NSRetract))
		tail = AppendStart(tail, "moderated", true, A("by", moderator), A("xmlns", NSModerate))
		if r.Reason != "" {
			tail = AppendElementText(tail, "reason", r.Reason)
		}
		tail = AppendEnd(tail, "retracted")
	} else {
		tail = AppendStart(tail, "retracted", true, A("stamp", stamp), A("xmlns", NSRetract), A("id", r.ID))
	}
	tail = AppendStart(tail, "stanza-id", true, A("xmlns", NSSID), A("by", groupJID), A("id", archiveID))
	tail = AppendEnd(tail, "message")
	return outbound("message", occupant, m.ID, "groupchat", "", tail)
}
