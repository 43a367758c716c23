package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" database/sql driver
)

// ErrClosed is returned by a DB after Close.
var ErrClosed = errors.New("projections: closed")

// ErrInvalidEvent is matched (errors.Is) by the errors Apply returns for an
// event that can never be applied: one that does not decode, or that does
// not follow its stream (a gap, a repeat, an event for a group never
// created). Retrying the same events fails the same way, so Run stops on it
// instead of retrying.
var ErrInvalidEvent = errors.New("projections: invalid event")

// readConns is the size of the query pool. Queries are short point lookups;
// a few connections let them run beside each other and beside the writer,
// which WAL mode never makes them wait for.
const readConns = 4

// DB is the projection database: read models built from the event log,
// kept in their own SQLite file. One DB writes the file (Apply, Run);
// queries run on a separate pool of read-only connections. All methods are
// safe for concurrent use.
type DB struct {
	path string
	// w has exactly one connection: SQLite allows one writer at a time, and
	// owning it outright keeps Apply from ever waiting on a busy lock.
	w  *sql.DB
	ws writeStmts
	// wmu serializes Apply, which reads the checkpoint, applies and moves it
	// in one transaction.
	wmu sync.Mutex
	// groups caches committed group rows for the writer; see
	// maxCachedGroups.
	groups map[string]groupRow
	r      *sql.DB

	cp        checkpointWatch
	closeOnce sync.Once
	closeErr  error
}

// Open opens the projection database at path, creating the file and its
// tables if they do not exist. The file is in WAL mode with synchronous
// NORMAL: a crash may lose the last transactions but never corrupts the
// file, and what is lost is applied again from the log after the
// checkpoint, which commits in the same transactions. A file written by a
// different schema version is refused: rebuild it (package replay).
func Open(path string) (*DB, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	w, err := sql.Open("sqlite3", path+"?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000&_txlock=immediate&_cache_size=-65536")
	if err != nil {
		return nil, fmt.Errorf("projections: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	db := &DB{path: path, w: w, groups: make(map[string]groupRow)}
	if err := db.init(); err != nil {
		w.Close()
		return nil, err
	}
	db.r, err = sql.Open("sqlite3", path+"?_query_only=true&_busy_timeout=10000&_cache_size=-16384")
	if err != nil {
		db.ws.close()
		w.Close()
		return nil, fmt.Errorf("projections: open %s: %w", path, err)
	}
	db.r.SetMaxOpenConns(readConns)
	db.r.SetMaxIdleConns(readConns)
	db.r.SetConnMaxLifetime(0)
	db.r.SetConnMaxIdleTime(0)
	return db, nil
}

// checkPath refuses what the driver would read as URI parameters.
func checkPath(path string) error {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return fmt.Errorf("projections: %q is not a plain file path", path)
	}
	return nil
}

func (db *DB) init() error {
	ctx := context.Background()
	var version int
	if err := db.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("projections: open %s: %w", db.path, err)
	}
	switch version {
	case schemaVersion, 2, 3:
		// Indexes added since the file was made are built on open; older
		// files lack what later versions added (see schemaVersion).
		ddl := indexesDDL
		switch version {
		case 2:
			ddl = addedInVersion3 + addedInVersion4 + indexesDDL + fmt.Sprintf("PRAGMA user_version = %d;", schemaVersion)
		case 3:
			ddl = addedInVersion4 + indexesDDL + fmt.Sprintf("PRAGMA user_version = %d;", schemaVersion)
		}
		if _, err := db.w.ExecContext(ctx, ddl); err != nil {
			return fmt.Errorf("projections: bring %s up to schema version %d: %w", db.path, schemaVersion, err)
		}
	case 0:
		// The checkpoint row exists from the start, as in a rebuilt file.
		if _, err := db.w.ExecContext(ctx, tablesDDL+indexesDDL+
			"INSERT INTO checkpoint (id, position) VALUES (1, 0);"+
			fmt.Sprintf("PRAGMA user_version = %d;", schemaVersion)); err != nil {
			return fmt.Errorf("projections: create tables in %s: %w", db.path, err)
		}
	default:
		return fmt.Errorf("projections: %s has schema version %d, this build reads %d: rebuild it from the log", db.path, version, schemaVersion)
	}
	if err := db.ws.prepare(db.w); err != nil {
		return fmt.Errorf("projections: open %s: %w", db.path, err)
	}
	var pos int64
	err := db.w.QueryRowContext(ctx, "SELECT position FROM checkpoint WHERE id = 1").Scan(&pos)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		db.ws.close()
		return fmt.Errorf("projections: read checkpoint of %s: %w", db.path, err)
	}
	db.cp.init(uint64(pos))
	return nil
}

// Close closes the database. Run must have returned first. WaitFor calls
// still blocked return ErrClosed.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.cp.close()
		db.wmu.Lock()
		defer db.wmu.Unlock()
		// The read pool closes first so that the writer's connection is the
		// last one and checkpoints the write-ahead log into the file.
		db.closeErr = errors.Join(db.r.Close(), db.ws.close(), db.w.Close())
	})
	return db.closeErr
}

// Checkpoint returns the global position of the last event applied (0 when
// none was). Every event at or before it is reflected in the tables.
func (db *DB) Checkpoint(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	pos, _, closed := db.cp.watch()
	if closed {
		return 0, ErrClosed
	}
	return pos, nil
}

// WaitFor blocks until the checkpoint reaches pos, so that a caller that has
// just appended an event (and knows its position) reads its own write. It
// returns ctx's error if ctx ends first and ErrClosed if the DB closes.
func (db *DB) WaitFor(ctx context.Context, pos uint64) error {
	for {
		cur, changed, closed := db.cp.watch()
		if cur >= pos {
			return nil
		}
		if closed {
			return ErrClosed
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// checkpointWatch publishes the checkpoint to WaitFor. Each advance closes
// the current channel and installs a fresh one, so any number of waiters
// wake and the writer never blocks on them.
type checkpointWatch struct {
	mu     sync.Mutex
	pos    uint64
	ch     chan struct{}
	closed bool
}

func (c *checkpointWatch) init(pos uint64) {
	c.pos = pos
	c.ch = make(chan struct{})
}

func (c *checkpointWatch) publish(pos uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.pos = pos
	close(c.ch)
	c.ch = make(chan struct{})
}

func (c *checkpointWatch) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.ch)
	}
}

// watch returns the checkpoint and a channel closed at its next change,
// taken together so that no change can slip between them.
func (c *checkpointWatch) watch() (uint64, <-chan struct{}, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos, c.ch, c.closed
}
