// Package kurrent is the KurrentDB (formerly EventStoreDB) event-store
// backend, for deployments that outgrow one machine. It speaks to the server
// through the official gRPC client, github.com/EventStore/EventStore-Client-Go/v4
// (package esdb), and implements eventstore.Store.
//
// # Streams and positions
//
// Every group stream is one KurrentDB stream named Options.StreamPrefix +
// group id ("groupchat-" + id by default), so the service's events can be
// told apart from anything else in $all. A stream's versions are KurrentDB's
// stream revisions (dense, from 0). A global position is the event's commit
// position in $all. For events appended through the gRPC API every event
// has its own commit position, equal to its place in the transaction file,
// so positions strictly increase in commit order, but they are byte offsets:
// they are sparse, far apart, and never consecutive. Code that assumes
// position n+1 follows position n does not work with this backend.
//
// ReadAll and LastPosition page through $all and keep the events whose
// stream carries the prefix: the v4 client offers server-side filters only
// for subscriptions, not for reads. On a server the service has to itself
// this costs nothing; on a shared server the reads also carry everyone
// else's events, and LastPosition on a prefix with no events scans all of
// $all backwards. Subscribe uses a server-side stream-prefix filter.
//
// A position handed to ReadAll or Subscribe is normally one this package
// returned. Any other value is accepted: when KurrentDB refuses to read from
// it (it is not the start of a record), the store scans $all backwards from
// the end to the nearest event at or before it, then reads forwards.
//
// # Appends, concurrency and duplicates
//
// The expected version maps one to one onto KurrentDB's expected revision
// (Any, NoStream, StreamExists, Revision(n)), so the server enforces
// optimistic concurrency and two writers on one group cannot interleave. A
// WrongExpectedVersion answer becomes *eventstore.WrongVersionError, with
// the stream's actual version taken from the client's report.
//
// Event ids must be UUIDs in canonical lowercase form; they become the
// KurrentDB event ids, so the server's own idempotency applies as well. The
// store's promise that a retried batch is recognised, and that a batch
// mixing stored and new ids is refused, cannot be left to the server alone:
// KurrentDB writes a batch again when the expected revision matches the
// stream's current one, whatever the ids, and with Any it only looks at a
// bounded cache of recent ids. So before writing, Append reads the stream's
// newest Options.DedupWindow + len(batch) events and compares ids:
//
//   - a retried batch with at most DedupWindow events appended after it is
//     always recognised (AppendResult.Duplicate, naming the stored events),
//     and a batch mixing stored and new ids within that window is refused
//     with eventstore.ErrIDConflict;
//   - an older batch is recognised only when the server recognises it: with
//     an Exact or NoStream expectation that points just before the stored
//     batch, or with Any or StreamExists while its ids are still in the
//     server's cache of recently committed ids; otherwise it is stored again;
//   - an id stored in another stream is never detected: KurrentDB keeps no
//     index of event ids across streams;
//   - two appends of the same new batch racing each other both report a
//     fresh write (the server stores it once).
//
// The check costs one extra read per append; a negative DedupWindow turns
// it off and leaves duplicates entirely to the server. KurrentDB refuses an
// append larger than its MaxAppendSize (1 MiB by default); batches are never
// split, since that would break their atomicity.
//
// # Subscriptions
//
// A subscription is a catch-up subscription to $all with a stream-prefix
// filter, fed by one goroutine per subscription. When the server drops it
// (restart, leader change, network), it resubscribes with exponential
// backoff from the position of the last event it received, and never
// delivers an event at or before the last one it delivered. Errors that
// retrying cannot cure (access denied, bad credentials, unsupported) end it;
// Recv then returns them.
//
// # Connection
//
// Open takes a connection string: kurrentdb://, kurrent://, kdb:// and
// esdb:// (each also with +discover for DNS cluster discovery) are accepted
// and handed to the client as esdb:// or esdb+discover://, for example
// "kurrentdb://localhost:2113?tls=false". The credentials must be allowed to
// read $all. The client gives up on a node after its discovery attempts
// (maxDiscoverAttempts, discoveryInterval, gossipTimeout in the connection
// string) and then stays closed; the store replaces such a client with a new
// one on the next call, so a long outage heals by itself.
package kurrent
