// Package link keeps the service's XEP-0114 component connection to the
// XMPP server: it authenticates with the shared secret (mellium.im/xmpp's
// component support), reads stanzas into element trees, writes outgoing
// stanzas from one bounded queue in batches, and reconnects with backoff
// when the server restarts or the connection drops. Stanzas queued while
// the link is down wait in the queue; producers block when it is full, so
// memory stays bounded.
package link
