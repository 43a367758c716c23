// Package presence tracks which resources of each member are online for the
// service, so that live fan-out reaches full JIDs (RFC 6121 §8.5.2 forbids
// delivering groupchat messages to a bare JID). A resource is online from
// its directed presence or a request to the service until its unavailable
// presence, a delivery error, or a reset of the server link; only members'
// resources are, users in no group being kept apart as candidates, and both
// are bounded, forgetting the least recently seen.
package presence
