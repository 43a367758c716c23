package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/uuchat/groupchat/eventstore"
)

// request is one Append call on its way through the writer. The writer fills
// res and err, then signals done (buffered, so it never blocks on a caller
// that gave up).
type request struct {
	ctx      context.Context
	stream   string
	expected eventstore.ExpectedVersion
	events   []eventstore.EventData

	res  eventstore.AppendResult
	err  error
	done chan struct{}
}

func (r *request) reset() {
	r.ctx, r.stream, r.events = nil, "", nil
	r.expected = eventstore.ExpectedVersion{}
	r.res, r.err = eventstore.AppendResult{}, nil
}

// head is what the writer knows about the end of one stream.
type head struct {
	version  uint64
	position uint64
	exists   bool
}

// writer owns the only connection that changes the database. All its fields
// belong to the writer goroutine (and to Open before that goroutine starts,
// and to Close after it ended).
type writer struct {
	conn *sqlite3.SQLiteConn

	insert, headQ, idQ                                      *sqlite3.SQLiteStmt
	begin, commit, rollback, savepoint, release, rollbackTo *sqlite3.SQLiteStmt

	// heads caches committed stream heads, including "no such stream";
	// pending holds the heads changed by the transaction in progress and is
	// folded into heads only once COMMIT succeeded.
	heads   map[string]head
	pending map[string]head
	nextPos uint64

	maxBatch int
	maxCache int

	// aborted is set when SQLite ended the transaction by itself (an I/O or
	// disk-full error): the whole batch then fails.
	aborted error

	// commits and committed count successful transactions and the events
	// they carried, so the batching effect can be measured.
	commits, committed uint64

	insArgs [8]driver.NamedValue
	oneArg  [1]driver.NamedValue
	dest    [3]driver.Value
}

// writerPragmas tune the writing connection. Checkpointing every 10,000
// pages (~40 MiB of log) instead of SQLite's 1,000 matters most: appends
// from many groups dirty scattered index pages, and a longer log lets one
// checkpoint write each hot page once instead of ten times. The size limit
// gives the space back after a burst.
const writerPragmas = `PRAGMA temp_store = MEMORY;
PRAGMA wal_autocheckpoint = 10000;
PRAGMA journal_size_limit = 67108864;`

func openWriter(dsn string, opts Options) (*writer, error) {
	c, err := (&sqlite3.SQLiteDriver{}).Open(dsn)
	if err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: open: %w", err)
	}
	w := &writer{
		conn:     c.(*sqlite3.SQLiteConn),
		heads:    make(map[string]head),
		pending:  make(map[string]head),
		maxBatch: opts.MaxBatchEvents,
		maxCache: opts.StreamCacheSize,
	}
	if err := w.init(); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *writer) init() error {
	mode, err := w.queryString("PRAGMA journal_mode")
	if err != nil {
		return fmt.Errorf("eventstore/sqlite: journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("eventstore/sqlite: journal mode is %q, need wal", mode)
	}
	if _, err := w.conn.Exec(writerPragmas, nil); err != nil {
		return fmt.Errorf("eventstore/sqlite: %w", err)
	}
	uv, err := w.queryString("PRAGMA user_version")
	if err != nil {
		return fmt.Errorf("eventstore/sqlite: schema version: %w", err)
	}
	if uv != "0" && uv != fmt.Sprint(schemaVersion) {
		return fmt.Errorf("eventstore/sqlite: schema version %s is not %d", uv, schemaVersion)
	}
	if uv == "0" {
		if _, err := w.conn.Exec("BEGIN IMMEDIATE;"+schema+fmt.Sprintf("PRAGMA user_version = %d; COMMIT;", schemaVersion), nil); err != nil {
			if !w.conn.AutoCommit() {
				_, _ = w.conn.Exec("ROLLBACK", nil)
			}
			return fmt.Errorf("eventstore/sqlite: schema: %w", err)
		}
	}
	last, err := w.queryString("SELECT COALESCE(MAX(position), 0) FROM events")
	if err != nil {
		return fmt.Errorf("eventstore/sqlite: last position: %w", err)
	}
	var lastPos uint64
	if _, err := fmt.Sscan(last, &lastPos); err != nil {
		return fmt.Errorf("eventstore/sqlite: last position %q: %w", last, err)
	}
	w.nextPos = lastPos + 1

	prep := func(dst **sqlite3.SQLiteStmt, q string) {
		if err != nil {
			return
		}
		var st driver.Stmt
		if st, err = w.conn.Prepare(q); err == nil {
			*dst = st.(*sqlite3.SQLiteStmt)
		}
	}
	prep(&w.insert, `INSERT INTO events (position, stream, version, id, type, data, metadata, recorded)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	prep(&w.headQ, `SELECT version, position FROM events WHERE stream = ? ORDER BY version DESC LIMIT 1`)
	prep(&w.idQ, `SELECT stream, version, position FROM events WHERE id = ?`)
	prep(&w.begin, "BEGIN IMMEDIATE")
	prep(&w.commit, "COMMIT")
	prep(&w.rollback, "ROLLBACK")
	prep(&w.savepoint, "SAVEPOINT request")
	prep(&w.release, "RELEASE request")
	prep(&w.rollbackTo, "ROLLBACK TO request")
	if err != nil {
		return fmt.Errorf("eventstore/sqlite: prepare: %w", err)
	}
	for i := range w.insArgs {
		w.insArgs[i].Ordinal = i + 1
	}
	w.oneArg[0].Ordinal = 1
	return nil
}

// queryString runs a one-row, one-column query at setup time.
func (w *writer) queryString(q string) (string, error) {
	rows, err := w.conn.Query(q, nil)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	dest := make([]driver.Value, 1)
	if err := rows.Next(dest); err != nil {
		return "", err
	}
	switch v := dest[0].(type) {
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	default:
		return fmt.Sprint(v), nil
	}
}

func (w *writer) close() error {
	var errs []error
	for _, st := range []*sqlite3.SQLiteStmt{w.insert, w.headQ, w.idQ, w.begin, w.commit, w.rollback, w.savepoint, w.release, w.rollbackTo} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, w.conn.Close())
	return errors.Join(errs...)
}

// lingerYields is how many times the writer yields the processor when the
// queue runs dry before it commits. The callers answered by the previous
// commit are runnable at that moment; a couple of yields let them queue
// their next appends into this batch. Bigger batches share more of the
// index pages each commit writes, which measurably raises throughput under
// load, while a lone caller pays only two scheduler round trips.
const lingerYields = 2

// run is the writer goroutine. It returns once reqs is closed and drained,
// having answered every request it received.
func (w *writer) run(reqs <-chan *request, n *notifier) {
	batch := make([]*request, 0, 256)
	for {
		r, ok := <-reqs
		if !ok {
			return
		}
		batch = append(batch[:0], r)
		events := len(r.events)
		open := true
		idle := 0
	drain:
		for events < w.maxBatch {
			select {
			case r, ok := <-reqs:
				if !ok {
					open = false
					break drain
				}
				batch = append(batch, r)
				events += len(r.events)
				idle = 0
			default:
				if idle == lingerYields {
					break drain
				}
				idle++
				runtime.Gosched()
			}
		}
		w.commitBatch(batch, n)
		clear(batch)
		if !open {
			return
		}
	}
}

// commitBatch applies every request of batch in one transaction, commits it,
// and only then answers the callers and wakes subscribers.
func (w *writer) commitBatch(batch []*request, n *notifier) {
	startPos := w.nextPos
	w.aborted = nil
	clear(w.pending)
	if err := w.exec(w.begin); err != nil {
		w.answerAll(batch, fmt.Errorf("eventstore/sqlite: begin: %w", err))
		return
	}
	now := time.Now().UnixNano()
	for _, r := range batch {
		r.res, r.err = w.apply(r, now)
		if w.aborted != nil {
			break
		}
	}
	for i := range w.insArgs {
		w.insArgs[i].Value = nil // do not pin the callers' payloads
	}
	if w.aborted == nil {
		if err := w.exec(w.commit); err != nil {
			w.aborted = fmt.Errorf("eventstore/sqlite: commit: %w", err)
		}
	}
	if w.aborted != nil {
		if !w.conn.AutoCommit() {
			_ = w.exec(w.rollback)
		}
		w.nextPos = startPos
		clear(w.pending)
		// Even answers computed before the failure may describe rows of
		// this rolled-back transaction, so none of them stands.
		w.answerAll(batch, w.aborted)
		return
	}
	for k, h := range w.pending {
		w.heads[k] = h
	}
	w.commits++
	w.committed += w.nextPos - startPos
	w.trimCache()
	// Publish first: once an Append returns, LastPosition and every
	// subscription must already know about its events.
	if w.nextPos != startPos {
		n.publish(w.nextPos - 1)
	}
	for _, r := range batch {
		r.done <- struct{}{}
	}
}

func (w *writer) answerAll(batch []*request, err error) {
	for _, r := range batch {
		r.res, r.err = eventstore.AppendResult{}, err
		r.done <- struct{}{}
	}
}

// trimCache keeps the head cache bounded. Dropped entries are reloaded from
// the table on demand, so which ones go does not matter for correctness.
func (w *writer) trimCache() {
	if len(w.heads) <= w.maxCache {
		return
	}
	target := w.maxCache * 9 / 10
	for k := range w.heads {
		if len(w.heads) <= target {
			break
		}
		delete(w.heads, k)
	}
}

// execStmt runs a statement that returns no rows. It goes through the
// driver's query path on purpose: there, binding the arguments and stepping
// the statement take one cgo crossing instead of one per argument, which is
// a measurable share of an insert.
func execStmt(st *sqlite3.SQLiteStmt, args []driver.NamedValue) error {
	rows, err := st.QueryContext(context.Background(), args)
	if err != nil {
		return err
	}
	return rows.Close()
}

func (w *writer) exec(st *sqlite3.SQLiteStmt) error {
	_, err := st.ExecContext(context.Background(), nil)
	return err
}

// apply runs one request inside the open transaction. Its failure leaves the
// transaction as it was before the request, so the batch goes on.
func (w *writer) apply(r *request, now int64) (eventstore.AppendResult, error) {
	if err := r.ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	h, err := w.head(r.stream)
	if err != nil {
		return eventstore.AppendResult{}, w.failed(err)
	}
	if !r.expected.Matches(h.version, h.exists) {
		// A retry of an append that already went through must still be
		// answered as a duplicate, even though the stream has moved on.
		res, dup, err := w.duplicate(r, false)
		if err != nil || dup {
			return res, err
		}
		return eventstore.AppendResult{}, &eventstore.WrongVersionError{
			Stream: r.stream, Expected: r.expected, Actual: h.version, Exists: h.exists,
		}
	}

	multi := len(r.events) > 1
	if multi {
		if err := w.exec(w.savepoint); err != nil {
			return eventstore.AppendResult{}, w.failed(err)
		}
	}
	var ver uint64
	if h.exists {
		ver = h.version + 1
	}
	pos := w.nextPos
	a := &w.insArgs
	for i := range r.events {
		e := &r.events[i]
		a[0].Value = int64(pos + uint64(i))
		a[1].Value = r.stream
		a[2].Value = int64(ver + uint64(i))
		a[3].Value = e.ID
		a[4].Value = e.Type
		a[5].Value = e.Data
		a[6].Value = e.Metadata
		a[7].Value = now
		if err := execStmt(w.insert, a[:]); err != nil {
			return w.insertFailed(r, err, multi)
		}
	}
	if multi {
		if err := w.exec(w.release); err != nil {
			return eventstore.AppendResult{}, w.failed(err)
		}
	}
	n := uint64(len(r.events))
	w.nextPos = pos + n
	last := head{version: ver + n - 1, position: pos + n - 1, exists: true}
	w.pending[r.stream] = last
	return eventstore.AppendResult{Version: last.version, Position: last.position}, nil
}

// failed records whether err ended the whole transaction and wraps it.
func (w *writer) failed(err error) error {
	err = fmt.Errorf("eventstore/sqlite: append: %w", err)
	if w.conn.AutoCommit() {
		w.aborted = err
	}
	return err
}

// insertFailed undoes the request's partial inserts and tells an idempotent
// retry (all IDs stored) from a real conflict.
func (w *writer) insertFailed(r *request, err error, multi bool) (eventstore.AppendResult, error) {
	if w.conn.AutoCommit() {
		return eventstore.AppendResult{}, w.failed(err)
	}
	if multi {
		if e := w.exec(w.rollbackTo); e != nil {
			return eventstore.AppendResult{}, w.failed(e)
		}
		if e := w.exec(w.release); e != nil {
			return eventstore.AppendResult{}, w.failed(e)
		}
	}
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrConstraint {
		msg := se.Error()
		switch {
		case strings.Contains(msg, "events.id"):
			res, dup, lerr := w.duplicate(r, true)
			if lerr != nil || dup {
				return res, lerr
			}
			return eventstore.AppendResult{}, fmt.Errorf("%w: %v", eventstore.ErrIDConflict, err)
		case strings.Contains(msg, "events.stream"), strings.Contains(msg, "events.position"):
			// Only another writer on the same file can cause this. Forget
			// what we believed and reload it, so the store recovers.
			delete(w.heads, r.stream)
			delete(w.pending, r.stream)
			if last, qerr := w.queryString("SELECT COALESCE(MAX(position), 0) FROM events"); qerr == nil {
				var p uint64
				if _, serr := fmt.Sscan(last, &p); serr == nil {
					w.nextPos = p + 1
				}
			}
			return eventstore.AppendResult{}, fmt.Errorf("eventstore/sqlite: stream %q was changed by another writer: %w", r.stream, err)
		}
	}
	return eventstore.AppendResult{}, w.failed(err)
}

// head returns the stream's current end as this transaction sees it.
func (w *writer) head(stream string) (head, error) {
	if h, ok := w.pending[stream]; ok {
		return h, nil
	}
	if h, ok := w.heads[stream]; ok {
		return h, nil
	}
	w.oneArg[0].Value = stream
	found, err := w.queryRow(w.headQ, 2)
	if err != nil {
		return head{}, err
	}
	var h head
	if found {
		h = head{version: uint64(w.dest[0].(int64)), position: uint64(w.dest[1].(int64)), exists: true}
	}
	// The stream has no writes in this transaction (it would be in
	// pending), so what was read is its committed state.
	w.heads[stream] = h
	return h, nil
}

// duplicate looks the request's IDs up. All of them stored in this stream
// means an idempotent retry, answered with the latest of those events. An ID
// stored in another stream, or a mix of stored and new IDs, is ErrIDConflict.
// A new first ID means "not a retry" when the caller is only asking (the
// wrong-version path); after a failed insert some ID is known to be stored,
// so there it means a mix.
func (w *writer) duplicate(r *request, afterInsertFailure bool) (eventstore.AppendResult, bool, error) {
	var best head
	for i := range r.events {
		id := r.events[i].ID
		w.oneArg[0].Value = id
		found, err := w.queryRow(w.idQ, 3)
		if err != nil {
			return eventstore.AppendResult{}, false, w.failed(err)
		}
		if !found {
			if i == 0 && !afterInsertFailure {
				return eventstore.AppendResult{}, false, nil
			}
			return eventstore.AppendResult{}, false, fmt.Errorf("%w: batch mixes stored and new ids (%q is new)", eventstore.ErrIDConflict, id)
		}
		stream, _ := w.dest[0].(string)
		if stream != r.stream {
			return eventstore.AppendResult{}, false, fmt.Errorf("%w: id %q is stored in stream %q", eventstore.ErrIDConflict, id, stream)
		}
		ver, pos := uint64(w.dest[1].(int64)), uint64(w.dest[2].(int64))
		if i == 0 || ver > best.version {
			best = head{version: ver, position: pos, exists: true}
		}
	}
	return eventstore.AppendResult{Version: best.version, Position: best.position, Duplicate: true}, true, nil
}

// queryRow runs st with oneArg and reads the first row's ncol columns into
// dest.
func (w *writer) queryRow(st *sqlite3.SQLiteStmt, ncol int) (bool, error) {
	rows, err := st.QueryContext(context.Background(), w.oneArg[:])
	if err != nil {
		return false, err
	}
	err = rows.Next(w.dest[:ncol])
	cerr := rows.Close()
	w.oneArg[0].Value = nil
	if err == io.EOF {
		return false, cerr
	}
	if err != nil {
		return false, err
	}
	return true, cerr
}
