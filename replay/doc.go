// Package replay rebuilds the projection database from the event log,
// checks a live one against the log, and puts a rebuilt file in place.
//
// The projections are disposable: everything in them follows from the log.
// A rebuild is how their schema changes, how a lost or damaged file comes
// back, and the proof that incremental application is right.
//
// Rebuild cuts the log into pages by position (for a store with compact
// positions, such as SQLite's; others are read page after page from the
// last position seen), reads and decodes the pages on every core, and
// folds them in order with a projections.Builder, which
// runs the same rules as Apply. What never changes once written (messages,
// notices) goes to the new file while the fold goes on; everything else
// is folded in memory and written at the end, each table in key order, all
// in one transaction with SQLite's journal off, and the indexes are built
// once, by sorting, after the rows are in. Writing the outcome rather than
// replaying each event's updates is what makes it fast: a message is one
// appended row, not a row plus a counter update per member plus index
// maintenance, and no transaction commits until the end.
//
// Verify rebuilds up to the live database's checkpoint into a temporary
// file and compares every row of every table with the live file; it is
// meant to report nothing.
//
// # Putting a rebuilt file in place
//
// A rebuild only reads the log: it can run while the service does if it is
// given the service's Store (a SQLite store's file admits one Store at a
// time), or else with the service stopped. To put its result in place:
//
//  1. Rebuild(ctx, store, "projections.db.new", progress); Verify on the
//     live file tells beforehand what will change, if anything;
//  2. stop the service, so that nothing has the live file open;
//  3. Swap("projections.db", "projections.db.new");
//  4. start the service.
//
// Swap removes the live file's -wal and -shm companions first, because a
// write-ahead log left beside the new file would be replayed into it, then
// renames the rebuilt file over the live one, which is atomic: a crash
// leaves either file whole. On start the service resumes after the rebuilt
// file's checkpoint, applying whatever was appended since the rebuild.
package replay
