// Package presence tracks which resources of each member are online for the
// service, so that live fan-out reaches full JIDs (RFC 6121 §8.5.2 forbids
// delivering groupchat messages to a bare JID). A resource is online from
// its first stanza to the service (normally a directed presence) until its
// unavailable presence, a bounced delivery, or a reset of the server link.
package presence
