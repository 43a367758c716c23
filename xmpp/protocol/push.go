package protocol

import (
	"unicode/utf8"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/address"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// Namespaces of push notifications (XEP-0357) and of the service's
// notification level per group.
const (
	NSPush         = "urn:xmpp:push:0"
	NSPushSummary  = "urn:xmpp:push:summary"
	NSPubSub       = "http://jabber.org/protocol/pubsub"
	NSPublishOpts  = "http://jabber.org/protocol/pubsub#publish-options"
	NSGroupPush    = NSGroupchat + "#push"
	pushIDPrefix   = "push-"
	formTypeField  = "FORM_TYPE"
	includeBodyTag = "include-body"
)

// PushEnable is an XEP-0357 enable sent to the service JID: notify the app
// server JID at Node while the user has no online resource.
type PushEnable struct {
	JID, Node string
	// PublishOptions is the client's publish-options form as XML (empty if
	// none), sent back with every publish.
	PublishOptions string
	// IncludeBody is the client's opt-in (an <include-body/> child in the
	// groupchat#push namespace) to carry message bodies.
	IncludeBody bool
}

// PushDisable is an XEP-0357 disable: the target at JID and Node, or every
// node of JID when Node is empty.
type PushDisable struct{ JID, Node string }

// NotifyLevel sets (Set) or asks for the requester's notification level in
// a group: which of its messages push to the requester's devices.
type NotifyLevel struct {
	Group string
	Set   bool
	Level domain.NotifyLevel
}

func (PushEnable) request()  {}
func (PushDisable) request() {}
func (NotifyLevel) request() {}

// parsePushIQ recognises the push requests; ok is false for any other IQ.
func parsePushIQ(s Stanza, q *xmlnode.Node) (r Request, err error, ok bool) {
	switch {
	case q.Name.Space == NSPush && (q.Name.Local == "enable" || q.Name.Local == "disable"):
		if s.Type != "set" {
			return nil, ErrBadRequest.With("push " + q.Name.Local + " is an iq of type set"), true
		}
		if s.Group() != "" {
			return nil, ErrBadRequest.With("send push " + q.Name.Local + " to the service JID, not a group"), true
		}
		a := q.Attr("jid")
		if a == "" {
			return nil, ErrBadRequest.With("the push service jid is missing"), true
		}
		j, err := address.Parse(a)
		if err != nil {
			return nil, ErrJIDMalformed.With("the push service jid is not a valid JID"), true
		}
		node := q.Attr("node")
		if q.Name.Local == "disable" {
			return PushDisable{JID: j.String(), Node: node}, nil, true
		}
		if node == "" {
			return nil, ErrBadRequest.With("the push node is missing"), true
		}
		e := PushEnable{JID: j.String(), Node: node, IncludeBody: q.Child(NSGroupPush, includeBodyTag) != nil}
		if x := q.Child(NSDataForms, "x"); x != nil {
			if x.Attr("type") != "submit" {
				return nil, ErrBadRequest.With("the publish-options form must be of type submit"), true
			}
			if formType(x) != NSPublishOpts {
				return nil, ErrBadRequest.With("the publish-options form's FORM_TYPE must be " + NSPublishOpts), true
			}
			e.PublishOptions = x.String()
		}
		return e, nil, true
	case q.Name.Space == NSGroupPush && q.Name.Local == "notify":
		if s.Group() == "" {
			return nil, ErrBadRequest.With("send the notification level to the group's JID"), true
		}
		r := NotifyLevel{Group: s.Group(), Set: s.Type == "set"}
		if r.Set {
			r.Level = domain.NotifyLevel(q.Attr("level"))
			if !r.Level.Valid() {
				return nil, ErrBadRequest.With("the level must be all, mentions or none"), true
			}
		}
		return r, nil, true
	}
	return nil, nil, false
}

// formType is the value of a data form's FORM_TYPE field.
func formType(x *xmlnode.Node) string {
	for _, f := range x.ChildrenNamed(NSDataForms, "field") {
		if f.Attr("var") == formTypeField {
			if v := f.Child(NSDataForms, "value"); v != nil {
				return v.Text
			}
		}
	}
	return ""
}

// NotifyLevelResult is the payload answering a notification level request:
// <notify xmlns="…#push" level="…"/>.
func NotifyLevelResult(level domain.NotifyLevel) []byte {
	return AppendStart(nil, "notify", true, Attr{"xmlns", NSGroupPush}, Attr{"level", string(level)})
}

// PushID makes the id of a publish the service sends: the prefix tells its
// answer apart from anything else the service receives.
func PushID(seq string) string { return pushIDPrefix + seq }

// IsPushReply reports whether s answers a publish of the service: an IQ
// result or error to the service JID with an id PushID made.
func IsPushReply(s Stanza) bool {
	return s.Kind == "iq" && (s.Type == "result" || s.Type == "error") && s.To.Localpart() == "" &&
		len(s.ID) > len(pushIDPrefix) && s.ID[:len(pushIDPrefix)] == pushIDPrefix
}

// Summary is what an XEP-0357 notification tells the app server.
type Summary struct {
	// MessageCount is the number of messages since the last notification.
	MessageCount int
	// LastSender is the occupant JID of the last message's sender.
	LastSender string
	// LastBody is the last message's body; empty leaves the field out.
	LastBody string
}

// PushPublish renders an XEP-0357 notification: a PubSub publish from the
// service to the app server (To) at node, carrying the urn:xmpp:push:summary
// form and, if the client gave one, its publish-options form.
func PushPublish(from, id, node string, sum Summary, publishOptions string) Outbound {
	tail := append(make([]byte, 0, 512+len(sum.LastBody)+len(publishOptions)), `">`...)
	tail = AppendStart(tail, "pubsub", false, Attr{"xmlns", NSPubSub})
	tail = AppendStart(tail, "publish", false, Attr{"node", node})
	tail = append(tail, "<item>"...)
	tail = AppendStart(tail, "notification", false, Attr{"xmlns", NSPush})
	tail = AppendStart(tail, "x", false, Attr{"xmlns", NSDataForms}, Attr{"type", "submit"})
	tail = appendField(tail, formTypeField, NSPushSummary, true)
	tail = appendField(tail, "message-count", itoa(sum.MessageCount), false)
	tail = appendField(tail, "last-message-sender", sum.LastSender, false)
	if sum.LastBody != "" {
		tail = appendField(tail, "last-message-body", truncate(sum.LastBody, MaxPushBodyBytes), false)
	}
	tail = AppendEnd(tail, "x")
	tail = AppendEnd(tail, "notification")
	tail = append(tail, "</item>"...)
	tail = AppendEnd(tail, "publish")
	if publishOptions != "" {
		tail = append(tail, "<publish-options>"...)
		tail = append(tail, publishOptions...)
		tail = append(tail, "</publish-options>"...)
	}
	tail = AppendEnd(tail, "pubsub")
	tail = AppendEnd(tail, "iq")
	return outbound("iq", from, id, "set", "", tail)
}

func appendField(buf []byte, name, value string, hidden bool) []byte {
	typ := ""
	if hidden {
		typ = "hidden"
	}
	buf = AppendStart(buf, "field", false, Attr{"var", name}, Attr{"type", typ})
	buf = AppendElementText(buf, "value", value)
	return AppendEnd(buf, "field")
}

// MaxPushBodyBytes bounds the body preview a push notification carries:
// enough for a lock screen, and it keeps a publish far under the server's
// stanza limit whatever the message's size.
const MaxPushBodyBytes = 4096

// truncate cuts s to at most n bytes, at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func itoa(n int) string { return ArchiveID(uint64(max(n, 0))) }
