package protocol

import (
	"mellium.im/xmpp/jid"

	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// Stanza is an incoming stanza with its routing attributes parsed.
type Stanza struct {
	Node *xmlnode.Node
	// Kind is "iq", "message" or "presence".
	Kind     string
	Type, ID string
	From, To jid.JID
}

// ParseStanza reads the routing attributes of a top-level element. A stanza
// whose from or to is not a valid JID is refused with jid-malformed (the
// returned Stanza still carries what could be read, to address the error).
func ParseStanza(n *xmlnode.Node) (Stanza, error) {
	s := Stanza{Node: n, Kind: n.Name.Local, Type: n.Attr("type"), ID: n.Attr("id")}
	var err error
	if s.From, err = jid.Parse(n.Attr("from")); err != nil {
		return s, ErrJIDMalformed.With("the from address is not a valid JID")
	}
	if s.To, err = jid.Parse(n.Attr("to")); err != nil {
		return s, ErrJIDMalformed.With("the to address is not a valid JID")
	}
	return s, nil
}

// Requester is the bare JID of the stanza's sender, the identity of a
// member.
func (s Stanza) Requester() string { return s.From.Bare().String() }

// Group is the group id the stanza is addressed to ("" for the service).
func (s Stanza) Group() string { return s.To.Localpart() }

// GroupJID is the bare address the stanza was sent to.
func (s Stanza) GroupJID() string { return s.To.Bare().String() }
