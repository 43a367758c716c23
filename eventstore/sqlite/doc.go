// Package sqlite is the embedded, default event-store backend: one SQLite
// file in WAL mode holding every group's stream, so a single node runs
// without any external service.
//
// Writes go through one writer goroutine that owns the only writing
// connection. It takes append requests from a channel and commits everything
// queued at that moment in one transaction (group commit), so the cost of a
// durable COMMIT is shared by all concurrent appenders. Optimistic
// concurrency and idempotency are checked inside that transaction against an
// in-memory cache of stream heads; a request that fails does not fail the
// others committed with it. Append returns only after COMMIT has returned.
//
// Reads use a separate pool of read-only connections, which in WAL mode never
// block on, and are never blocked by, the writer. Subscriptions catch up from
// that pool in pages, then wait for the writer's commit notifications and
// read the new rows, so there is no separate live path that could skip or
// repeat an event.
//
// A database file must be opened by at most one Store at a time: the writer
// relies on being the only one that changes it.
package sqlite
