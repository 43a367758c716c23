// Package xmppclient is a minimal XMPP client for end-to-end tests and load
// tools. It logs in over plain TCP with SASL PLAIN (no TLS, so loopback
// only, against a server that allows it such as the one started by package
// prosody), binds a resource and then exposes the stream as raw XML:
// stanzas are sent as text and received as small generic element trees
// (Stanza), so tests can assert on namespaces, attributes and children
// exactly as a protocol specification writes them, without depending on the
// code under test.
//
// Receiving runs in one goroutine (mellium's Session.Serve) that never waits
// on the caller: each stanza is parsed and appended to an unbounded queue
// read with Next and Expect, or handed to Options.OnStanza. IQ results and
// errors are delivered like any other stanza; match them on their id.
//
// Usage:
//
//	c, err := xmppclient.Dial(ctx, srv.C2SAddr(), jid.MustParse("alice@example.test/phone"), "password")
//	err = c.SendRaw(ctx, `<iq type='get' id='d1' to='example.test'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`)
//	res, err := c.Expect(ctx, func(s *xmppclient.Stanza) bool { return s.ID() == "d1" })
//	items := res.FindAll("{http://jabber.org/protocol/disco#items}query/item")
//
// Behaviour worth knowing:
//   - Incoming XEP-0199 pings are answered with a result; any other IQ get
//     or set is answered by mellium with a service-unavailable error. Both
//     are still delivered to Next.
//   - The client is not "available" until it sends presence (see
//     Options.InitialPresence); servers deliver messages addressed to a bare
//     JID only to available resources.
//   - SendRaw writes the text unchanged (after a well-formedness check);
//     Send writes bytes unchecked and is the cheap path for load.
package xmppclient
