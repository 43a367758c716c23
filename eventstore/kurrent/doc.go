// Package kurrent is the KurrentDB (formerly EventStoreDB) event-store
// backend, for deployments that outgrow one machine. It implements
// eventstore.Store through the official gRPC client,
// github.com/EventStore/EventStore-Client-Go/v4 (package esdb).
//
// # Streams and positions
//
// Every group stream is one KurrentDB stream named Options.StreamPrefix +
// group id ("groupchat-" + id by default), so the service's events can be
// told apart from anything else in $all. A stream's versions are KurrentDB's
// stream revisions, dense from 0. A global position is the event's commit
// position in $all. Events appended through the gRPC API each have their
// own commit position, their offset in the transaction log, so positions
// strictly increase in commit order; but they are byte offsets: sparse, far
// apart, never consecutive. Code that expects position n+1 to follow
// position n, or that sizes a read by the distance between two positions,
// does not work well with this backend.
//
// ReadAll and LastPosition page through $all (Options.ReadPageSize events a
// request) and keep the events whose stream carries the prefix: the v4
// client offers server-side filters for subscriptions only, not for reads.
// On a server the service has to itself this costs little (KurrentDB's own
// system events are few); on a shared server these reads carry everyone
// else's events too, and LastPosition on a prefix without events scans all
// of $all backwards. Subscribe filters on the server.
//
// A position given to ReadAll or Subscribe is normally one this package
// returned. Any other value works: when KurrentDB refuses to read from it
// (it is not the start of a record), the store scans $all backwards from
// the end to the nearest event at or before it and reads forwards from
// there.
//
// # Appends, concurrency and duplicates
//
// The expected version maps one to one onto KurrentDB's expected revision
// (Any, NoStream, StreamExists, Revision(n)), so the server enforces
// optimistic concurrency and two writers on one group cannot interleave. A
// WrongExpectedVersion answer becomes *eventstore.WrongVersionError, with
// the stream's actual version as the client reports it.
//
// Event ids must be UUIDs in canonical lowercase form (ErrInvalidID
// otherwise); they become the KurrentDB event ids, so the server's own
// idempotency applies too. The contract's promises, that a retried batch is
// recognised and that a batch mixing stored and new ids is refused, cannot
// be left to the server alone: KurrentDB stores a batch again when the
// expected revision matches the stream's current one, whatever its ids, and
// with Any or StreamExists it consults only a bounded cache of recently
// committed ids. So before writing, Append reads the stream's newest
// Options.DedupWindow + len(batch) events and compares ids. Precisely:
//
//   - A batch with at most DedupWindow events appended after it is always
//     recognised: AppendResult.Duplicate, naming the stored batch's last
//     event. A batch mixing stored and new ids within that reach is refused
//     with eventstore.ErrIDConflict. When the reach cuts through a stored
//     batch, the events just before it are read as well.
//   - An older batch is recognised only when the server recognises it: with
//     an Exact or NoStream expectation that points just before the stored
//     batch, or with Any or StreamExists while the batch's ids are still in
//     the server's cache. With Any or StreamExists, a mixed batch whose
//     first id is still cached is refused with ErrIDConflict. Otherwise the
//     batch is stored again, or, if the expectation fails, refused with
//     WrongVersionError.
//   - An id stored in another stream is never detected: KurrentDB keeps no
//     index of event ids across streams.
//   - Two appends of the same new batch racing each other both report a
//     fresh write; the server stores the batch once.
//
// The check costs one extra read per append; a negative DedupWindow turns
// it off, leaving duplicates to the server alone (and reporting the ones it
// recognises as fresh appends). KurrentDB refuses an append larger than its
// MaxAppendSize (1 MiB by default); a batch is never split, which would
// break its atomicity.
//
// # Subscriptions
//
// A subscription is a catch-up subscription to $all with a stream-prefix
// filter, fed by one goroutine per subscription. When the server drops it
// (restart, leader change, network), the goroutine opens a new one from the
// position of the last event received, waiting between attempts with
// exponential backoff (Options.ResubscribeMin to ResubscribeMax, half of it
// random), and never delivers an event at or before the last one it
// delivered. Errors that retrying cannot cure (access denied, bad
// credentials, an unsupported server) end the subscription; Recv returns
// them after the events already received.
//
// # Connection
//
// Open takes a connection string: kurrentdb://, kurrent://, kdb:// and
// esdb://, each also with +discover for DNS cluster discovery, handed to
// the client as esdb:// or esdb+discover://; for example
// "kurrentdb://localhost:2113?tls=false". Settings the client does not know
// are refused rather than ignored. The credentials must be allowed to read
// $all, which KurrentDB's default access control gives to administrators;
// an insecure node (--insecure) checks nothing.
//
// The v4 client closes itself for good when node discovery fails, and some
// of its reads leave a broken connection to gRPC's reconnect backoff (up to
// two minutes). After such an error, or any Unavailable one, the store
// starts the next call with a new client; the old one is closed 30 seconds
// later, so calls and subscriptions still using it are not cut short by
// another call's failure.
package kurrent
