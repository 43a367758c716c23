// Package projections keeps the read models of the service: the group
// directory, memberships, membership spans, unread and mention counters,
// and the message index, built from the event log into their own SQLite
// file.
//
// The file is disposable: everything in it follows from the log, so it is
// written with synchronous=NORMAL in WAL mode, and a lost or outdated file
// is rebuilt (package replay) rather than migrated or backed up.
//
// # Tables
//
//	groups      one row per group ever created: name, type, deleted flag,
//	            created and last-event times, last stream version, member
//	            count, owner. Deleting a group only sets the flag.
//	members     the current members of each group (bare JID, mid, nick,
//	            role, the version and time they joined); indexed by JID
//	            for "my groups".
//	spans       for each membership, the versions [from, to) of the group's
//	            stream the member may see: from the event that added it to
//	            the one that removed it, inclusive (to is NULL while a
//	            member). A member added again gets a new span.
//	counters    per member: unread, mentions, read-up-to version.
//	messages    per message: archive version, client id, sender, mid,
//	            global position, time; looked up by version, by client id,
//	            by sender and client id.
//	mentions    which member each message mentions.
//	notices     the other events a member may be shown in history and
//	            catch-up: group and membership changes, and read receipts
//	            with the one member each is for.
//	checkpoint  the global position of the last event applied.
//
// # Counters
//
// Unread counts what others posted after the member's last read; its own
// messages never count. A mention counts for the member with that bare JID,
// never for the sender. A new member starts at zero, read up to the version
// that added it, so history before its join is not unread for it. A read
// receipt moves read-up-to to max(old, read) and sets unread and mentions to
// what is left after it. A member removed loses its counters; added again,
// it starts afresh.
//
// # Writing
//
// Apply applies a batch of recorded events and moves the checkpoint in one
// transaction, skipping events at or before the checkpoint, so a redelivered
// event changes nothing. Run is the projector: it feeds Apply from the
// store's subscription through a watermill router and hands every committed
// batch to a callback, from which the XMPP component broadcasts. WaitFor
// lets a caller that appended an event wait until it is projected.
//
// The rules live once, in terms of the tables they change; Apply runs them
// with SQL statements, and Builder runs them in memory and writes the result
// in bulk, which is how package replay rebuilds a file fast. Dump prints
// every row so the two can be compared.
//
// # Reading
//
// Queries run on a pool of read-only connections that the writer never
// blocks: the directory (GroupsOf, Group, GroupByName, Members), counters,
// message lookups by client id, version and position, who read a message,
// membership spans, and Timeline, which pages through what a user may see
// (history follows membership: events within its spans, read receipts only
// when addressed to it).
package projections
