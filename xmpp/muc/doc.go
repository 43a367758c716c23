// Package muc is the XEP-0045 front door to the groups: ordinary MUC
// clients (Conversations, Monal, Gajim, Dino, Converse.js) enter a group as
// a persistent, members-only, non-anonymous room and chat in it beside
// clients of the native protocol. Same log, same membership, same archive:
// a member joins under its member id as its nick, its messages and their
// stanza-ids are the group's, and MAM is the group's archive.
//
// The package holds who is in which room (Rooms) and how the group's
// state and changes look to a MUC client (the occupant list on entry, an
// occupant's presence for a member added or removed). The service routes
// the requests; the broadcaster delivers to room occupants what it
// delivers to members, shaped by this package.
package muc
