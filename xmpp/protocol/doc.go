// Package protocol is the wire format of the group chat service: the
// http://jabber.org/protocol/groupchat namespaces of the seed protocol, the
// parsing of incoming stanzas into domain commands and queries, the
// rendering of replies and broadcasts as bytes, and the one table that maps
// domain refusals to RFC 6120 stanza errors.
//
// It also renders what the service adds for mobile clients: XEP-0359
// stanza-ids on every fanned-out message.
//
// Rendering produces an Outbound: the bytes before the recipient's address,
// and the bytes after it. A broadcast is encoded once and only the `to`
// differs per recipient.
package protocol
