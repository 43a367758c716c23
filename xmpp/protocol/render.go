package protocol

import (
	"strconv"
	"sync/atomic"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// Outbound is a stanza ready to send: Head ends inside the opening tag's to
// attribute, Tail continues after it. A broadcast shares Head, Tail and Env
// between recipients; only To differs.
type Outbound struct {
	Head []byte
	To   string
	Tail []byte
	// Env is what Head says, kept for the checks at the edge (CheckOutbound)
	// and for turning a result too large to send into an error.
	Env *Envelope
	// Bcc, when set, makes the stanza one to a multicast service (To)
	// carrying XEP-0033 <addresses/> with a bcc address per JID, written
	// before the stanza's end tag; see Multicast.
	Bcc []string
}

// Envelope is the routing of an outbound stanza as its head renders it.
type Envelope struct {
	Kind, Type, ID, From string
	// fromChecked is set once From passed CheckOutbound: a broadcast
	// shares its envelope between all its copies, so From is checked once.
	fromChecked atomic.Bool
}

// Size is the length of the stanza once written.
func (o Outbound) Size() int {
	return len(o.Head) + xmlnode.AttrValueLen(o.To) + o.tailLen()
}

// AppendTo appends the whole stanza to buf.
func (o Outbound) AppendTo(buf []byte) []byte {
	buf = append(buf, o.Head...)
	buf = xmlnode.AppendAttrValue(buf, o.To)
	return o.appendTail(buf)
}

// String is the whole stanza as text.
func (o Outbound) String() string { return string(o.AppendTo(nil)) }

// WithID returns o with another stanza id (a MUC self-presence reflects
// the id of the presence that entered, XEP-0045 §7.2.3).
func (o Outbound) WithID(id string) Outbound {
	o.Head, o.Env = envelope(o.Env.Kind, o.Env.From, id, o.Env.Type)
	return o
}

// For returns a copy of o addressed to another recipient.
func (o Outbound) For(to string) Outbound { o.To = to; o.Bcc = nil; return o }

// Attr is one attribute to render; empty values are left out.
type Attr struct{ Name, Value string }

// AppendStart appends an opening tag <name a="v" ...> (or a self-closed one
// when selfClose).
func AppendStart(buf []byte, name string, selfClose bool, attrs ...Attr) []byte {
	buf = append(buf, '<')
	buf = append(buf, name...)
	for _, a := range attrs {
		if a.Value == "" {
			continue
		}
		buf = append(buf, ' ')
		buf = append(buf, a.Name...)
		buf = append(buf, `="`...)
		buf = xmlnode.AppendAttrValue(buf, a.Value)
		buf = append(buf, '"')
	}
	if selfClose {
		return append(buf, "/>"...)
	}
	return append(buf, '>')
}

// AppendEnd appends </name>.
func AppendEnd(buf []byte, name string) []byte {
	buf = append(buf, "</"...)
	buf = append(buf, name...)
	return append(buf, '>')
}

// AppendElementText appends <name>text</name>.
func AppendElementText(buf []byte, name, text string, attrs ...Attr) []byte {
	buf = AppendStart(buf, name, false, attrs...)
	buf = xmlnode.AppendText(buf, text)
	return AppendEnd(buf, name)
}

// envelope renders the head of a stanza up to its to attribute.
func envelope(kind, from, id, typ string) ([]byte, *Envelope) {
	head := make([]byte, 0, 128)
	head = append(head, '<')
	head = append(head, kind...)
	head = append(head, ` from="`...)
	head = xmlnode.AppendAttrValue(head, from)
	head = append(head, '"')
	if id != "" {
		head = append(head, ` id="`...)
		head = xmlnode.AppendAttrValue(head, id)
		head = append(head, '"')
	}
	if typ != "" {
		head = append(head, ` type="`...)
		head = xmlnode.AppendAttrValue(head, typ)
		head = append(head, '"')
	}
	return append(head, ` to="`...), &Envelope{Kind: kind, Type: typ, ID: id, From: from}
}

// outbound assembles a stanza from its envelope and the rest of it.
func outbound(kind, from, id, typ, to string, tail []byte) Outbound {
	head, env := envelope(kind, from, id, typ)
	return Outbound{Head: head, To: to, Tail: tail, Env: env}
}

// Property is one <property name="...">value</property> of a group presence.
type Property struct{ Name, Value string }

// Change places a group change in its group's chain of changes: its
// archive id and the archive id of the group's change before it ("" for a
// creation, the first). A client that finds Previous is not the last change
// it holds missed one. The zero Change renders neither.
type Change struct{ ID, Previous string }

// IsGroupChange reports whether an event is a group change, broadcast as a
// group presence that names the group's previous change.
func IsGroupChange(e domain.Event) bool {
	switch e.(type) {
	case domain.GroupCreated, domain.GroupUpdated, domain.GroupDeleted, domain.MemberAdded, domain.MemberRemoved, domain.MemberRoleChanged:
		return true
	}
	return false
}

// GroupPresence renders a group broadcast or reply: a presence from the
// group carrying the operation's <x/> (with the previous change), properties
// and member items, and the change's archive id as XEP-0359 stanza-id.
func GroupPresence(groupJID, ns string, c Change, props []Property, items []domain.Member) Outbound {
	return groupPresence(groupJID, "", ns, c, props, items)
}

// GroupReply renders the answer to the resource that asked for a group
// change: a group presence carrying the request's id, so that a client can
// match it to its request as it matches an error.
func GroupReply(groupJID, id, ns string, c Change, props []Property) Outbound {
	return groupPresence(groupJID, id, ns, c, props, nil)
}

func groupPresence(groupJID, id, ns string, c Change, props []Property, items []domain.Member) Outbound {
	tail := append(make([]byte, 0, 256), `">`...)
	tail = AppendStart(tail, "x", true, Attr{"xmlns", ns}, Attr{"previous", c.Previous})
	if len(props) > 0 {
		tail = append(tail, "<properties>"...)
		for _, p := range props {
			tail = AppendElementText(tail, "property", p.Value, Attr{"name", p.Name})
		}
		tail = append(tail, "</properties>"...)
	}
	for _, m := range items {
		tail = AppendMemberItem(tail, m)
	}
	if c.ID != "" {
		tail = AppendStart(tail, "stanza-id", true, Attr{"xmlns", NSSID}, Attr{"by", groupJID}, Attr{"id", c.ID})
	}
	tail = AppendEnd(tail, "presence")
	return outbound("presence", groupJID, id, "", "", tail)
}

// AppendMemberItem appends <item jid mid nick role/>.
func AppendMemberItem(buf []byte, m domain.Member) []byte {
	return AppendStart(buf, "item", true,
		Attr{"jid", m.JID}, Attr{"mid", m.MID}, Attr{"nick", m.Nick}, Attr{"role", string(m.Role)})
}

// ArchiveID is the XEP-0359 stanza-id of a message: its position in the
// service's log, strictly increasing within a group and unique across
// groups, so a phone remembers one number to catch up from.
func ArchiveID(position uint64) string { return strconv.FormatUint(position, 10) }

// GroupMessage renders a message as members receive it: from the sender's
// occupant JID, with the sender's id, body and extensions unchanged, and the
// group's archive id as XEP-0359 stanza-id.
func GroupMessage(occupant, groupJID string, m domain.MessagePosted, archiveID string) Outbound {
	tail := make([]byte, 0, 64+len(m.Body)+len(m.Payload))
	tail = append(tail, `">`...)
	if m.Body != "" {
		tail = AppendElementText(tail, "body", m.Body)
	}
	tail = append(tail, m.Payload...)
	tail = AppendStart(tail, "stanza-id", true, Attr{"xmlns", NSSID}, Attr{"by", groupJID}, Attr{"id", archiveID})
	tail = AppendEnd(tail, "message")
	return outbound("message", occupant, m.ID, "groupchat", "", tail)
}

// TransientMessage renders a live-only message (a chat state, a receipt)
// from the sender's occupant JID, without an archive id.
func TransientMessage(occupant, id, payload string) Outbound {
	tail := append(make([]byte, 0, 16+len(payload)), `">`...)
	tail = append(tail, payload...)
	tail = AppendEnd(tail, "message")
	return outbound("message", occupant, id, "groupchat", "", tail)
}

// ReadReceipt renders a read receipt forwarded to a message's sender, from
// the reader's occupant JID, naming the message read.
func ReadReceipt(occupant, messageID string) Outbound {
	tail := append(make([]byte, 0, 96), `">`...)
	tail = AppendStart(tail, "read", true, Attr{"xmlns", NSChatStates}, Attr{"id", messageID})
	tail = AppendEnd(tail, "message")
	return outbound("message", occupant, "", "groupchat", "", tail)
}

// IQResult renders a result to an IQ, from the address it was sent to, with
// payload (already serialized, may be empty).
func IQResult(s Stanza, payload []byte) Outbound {
	tail := append(make([]byte, 0, 2+len(payload)+5), `">`...)
	tail = append(tail, payload...)
	tail = AppendEnd(tail, "iq")
	return outbound("iq", s.To.String(), s.ID, "result", s.From.String(), tail)
}

// ErrorReply renders the error answer to a stanza: same kind, same id, from
// the address it was sent to (the bare group JID for presences), with the
// request's operation element echoed so the namespace tells what failed.
func ErrorReply(s Stanza, e *Error) Outbound {
	from := s.To.String()
	var echo *xmlnode.Node
	switch s.Kind {
	case "presence":
		from = s.To.Bare().String()
		for _, ns := range groupOps {
			if x := s.Node.ChildNS(ns); x != nil {
				echo = x
				break
			}
		}
	case "iq":
		for _, c := range s.Node.Children {
			if !c.IsText() {
				echo = c
				break
			}
		}
	}
	tail := append(make([]byte, 0, 256), `">`...)
	if echo != nil {
		tail = AppendStart(tail, echo.Name.Local, true, Attr{"xmlns", echo.Name.Space}, Attr{"node", echo.Attr("node")})
	}
	tail = AppendErrorElement(tail, e, s.To.Bare().String())
	tail = AppendEnd(tail, s.Kind)
	return outbound(s.Kind, from, s.ID, "error", s.From.String(), tail)
}

// AppendErrorElement appends <error type by><condition/><text/><seed-name/></error>
// in RFC 6120's order: defined condition, text, application condition.
func AppendErrorElement(buf []byte, e *Error, by string) []byte {
	buf = AppendStart(buf, "error", false, Attr{"type", string(e.Type)}, Attr{"by", by})
	buf = AppendStart(buf, e.Condition, true, Attr{"xmlns", NSStanzas})
	if e.Text != "" {
		buf = AppendElementText(buf, "text", e.Text, Attr{"xmlns", NSStanzas})
	}
	if e.SeedName != "" {
		buf = AppendStart(buf, e.SeedName, true, Attr{"xmlns", NSGroupchat})
	}
	return AppendEnd(buf, "error")
}

// A builds an Attr.
func A(name, value string) Attr { return Attr{Name: name, Value: value} }
