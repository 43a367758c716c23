package protocol

import (
	"github.com/uuchat/groupchat/xmpp/address"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// Stanza is an incoming stanza with its routing attributes parsed.
type Stanza struct {
	Node *xmlnode.Node
	// Kind is "iq", "message" or "presence".
	Kind     string
	Type, ID string
	From, To address.JID
}

// ParseStanza reads the routing attributes of a top-level element, by the
// address rules the XMPP server applies (package address). A stanza whose
// from or to is not a valid address is refused with jid-malformed; the
// returned Stanza still carries what could be read, and a zero From or To
// for the address that could not.
func ParseStanza(n *xmlnode.Node) (Stanza, error) {
	s := Stanza{Node: n, Kind: n.Name.Local, Type: n.Attr("type"), ID: n.Attr("id")}
	var ferr, terr error
	s.From, ferr = address.Parse(n.Attr("from"))
	s.To, terr = address.Parse(n.Attr("to"))
	switch {
	case ferr != nil:
		return s, ErrJIDMalformed.With("the from address is not a valid JID")
	case terr != nil:
		return s, ErrJIDMalformed.With("the to address is not a valid JID")
	}
	return s, nil
}

// Answerable reports whether the stanza may be answered with an error:
// never an error (RFC 6120 §8.3.1) nor an IQ result (§8.2.3), and only a
// stanza whose sender is known.
func (s Stanza) Answerable() bool {
	if s.From.IsZero() || s.Type == "error" {
		return false
	}
	switch s.Kind {
	case "iq":
		return s.Type == "get" || s.Type == "set"
	case "message", "presence":
		return true
	}
	return false
}

// Requester is the bare JID of the stanza's sender, the identity of a
// member.
func (s Stanza) Requester() string { return s.From.Bare().String() }

// Group is the group id the stanza is addressed to ("" for the service).
func (s Stanza) Group() string { return s.To.Localpart() }

// GroupJID is the bare address the stanza was sent to.
func (s Stanza) GroupJID() string { return s.To.Bare().String() }
