// Package snapshot keeps the latest states of long event streams in a
// SQLite file of their own, so that a state folded from a long stream is
// read from its snapshot and the events after it rather than from the
// stream's start.
//
// The file is a cache: it is written without syncing, a snapshot that is
// lost or does not match the log is ignored (the stream is folded
// instead), and deleting the file costs only time. It works beside any
// event store backend.
package snapshot

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver
)

// Snapshot is a stream's state as of its first Version events.
type Snapshot struct {
	Stream  string
	Version uint64
	// EventID is the id of the stream's event at Version-1, which tells
	// whether the snapshot belongs to the log it is read with.
	EventID string
	Data    []byte
}

// kept is how many snapshots of a stream are kept: a reader that follows
// the log a little behind its writer finds one at or before its version.
const kept = 2

const ddl = `
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
CREATE TABLE IF NOT EXISTS snapshots (
	stream   TEXT    NOT NULL,
	version  INTEGER NOT NULL,
	event_id TEXT    NOT NULL,
	data     BLOB    NOT NULL,
	PRIMARY KEY (stream, version)
) WITHOUT ROWID;
`

// Store is a file of snapshots; it is safe for concurrent use.
type Store struct {
	db *sql.DB
}

// Open opens or creates the snapshot file at path.
func Open(path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("snapshot: %q is not a plain file path", path)
	}
	db, err := sql.Open("sqlite3", path+"?_busy_timeout=5000&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("snapshot: open %s: %w", path, err)
	}
	if _, err := db.Exec(ddl); err != nil {
		db.Close()
		return nil, fmt.Errorf("snapshot: open %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Latest returns the newest snapshot of stream whose version is at most
// max; ok is false if there is none.
func (s *Store) Latest(ctx context.Context, stream string, max uint64) (snap Snapshot, ok bool, err error) {
	if max > 1<<63-1 {
		max = 1<<63 - 1
	}
	var version int64
	err = s.db.QueryRowContext(ctx, `SELECT version, event_id, data FROM snapshots
		WHERE stream = ? AND version <= ? ORDER BY version DESC LIMIT 1`, stream, int64(max)).Scan(&version, &snap.EventID, &snap.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return Snapshot{}, false, nil
	}
	if err != nil {
		return Snapshot{}, false, fmt.Errorf("snapshot: %s: %w", stream, err)
	}
	snap.Stream, snap.Version = stream, uint64(version)
	return snap, true, nil
}

// Put stores a snapshot, keeping the newest two of its stream.
func (s *Store) Put(ctx context.Context, snap Snapshot) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("snapshot: %s: %w", snap.Stream, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO snapshots (stream, version, event_id, data) VALUES (?, ?, ?, ?)`,
		snap.Stream, int64(snap.Version), snap.EventID, snap.Data); err != nil {
		return fmt.Errorf("snapshot: %s: %w", snap.Stream, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM snapshots WHERE stream = ? AND version < (
		SELECT version FROM snapshots WHERE stream = ? ORDER BY version DESC LIMIT 1 OFFSET ?)`,
		snap.Stream, snap.Stream, kept-1); err != nil {
		return fmt.Errorf("snapshot: %s: %w", snap.Stream, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("snapshot: %s: %w", snap.Stream, err)
	}
	return nil
}
