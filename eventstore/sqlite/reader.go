package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/uuchat/groupchat/eventstore"
)

// readers is the pool of read-only connections. It talks to the driver
// directly rather than through database/sql: a long read then costs one
// driver row per event, with no second copy of every payload and no
// per-column conversion layer. The channel is the pool, so waiting for a
// free connection honours the caller's context.
type readers struct {
	pool chan *reader
	all  []*reader
}

// reader is one read-only connection with its prepared statements and
// scratch space; it is used by one call at a time.
type reader struct {
	conn   *sqlite3.SQLiteConn
	stream *sqlite3.SQLiteStmt
	log    *sqlite3.SQLiteStmt
	args   [3]driver.NamedValue
	dest   [8]driver.Value
	// mmap is the mapping stream reads use; mapped is the connection's
	// now (a log read maps nothing).
	mmap, mapped int64
}

func openReaders(dsn string, n int, mmap int64) (*readers, error) {
	rs := &readers{pool: make(chan *reader, n)}
	for i := 0; i < n; i++ {
		r, err := openReader(dsn, mmap)
		if err != nil {
			rs.close()
			return nil, err
		}
		rs.all = append(rs.all, r)
		rs.pool <- r
	}
	return rs, nil
}

func openReader(dsn string, mmap int64) (*reader, error) {
	c, err := (&sqlite3.SQLiteDriver{}).Open(dsn)
	if err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: open reader: %w", err)
	}
	r := &reader{conn: c.(*sqlite3.SQLiteConn), mmap: mmap}
	// Memory-mapped pages skip a copy per page read, which is most of the
	// cost of a long stream read whose rows are spread over the file.
	if err = r.mapping(mmap); err != nil {
		r.close()
		return nil, err
	}
	var st driver.Stmt
	if st, err = r.conn.Prepare(`SELECT position, version, id, type, data, metadata, recorded
		FROM events WHERE stream = ? AND version >= ? ORDER BY version LIMIT ?`); err == nil {
		r.stream = st.(*sqlite3.SQLiteStmt)
		if st, err = r.conn.Prepare(`SELECT position, version, id, type, data, metadata, recorded, stream
			FROM events WHERE position > ? ORDER BY position LIMIT ?`); err == nil {
			r.log = st.(*sqlite3.SQLiteStmt)
		}
	}
	if err != nil {
		r.close()
		return nil, fmt.Errorf("eventstore/sqlite: reader: prepare: %w", err)
	}
	for i := range r.args {
		r.args[i].Ordinal = i + 1
	}
	return r, nil
}

func (r *reader) close() error {
	var errs []error
	for _, st := range []*sqlite3.SQLiteStmt{r.stream, r.log} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, r.conn.Close())
	return errors.Join(errs...)
}

func (rs *readers) get(ctx context.Context) (*reader, error) {
	select {
	case r := <-rs.pool:
		return r, nil
	default:
	}
	select {
	case r := <-rs.pool:
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (rs *readers) put(r *reader) { rs.pool <- r }

// close closes every connection. The store calls it only once no read is
// in flight.
func (rs *readers) close() error {
	var errs []error
	for _, r := range rs.all {
		errs = append(errs, r.close())
	}
	return errors.Join(errs...)
}

// mapping sets how much of the file the connection maps. A read of the
// log in position order (a rebuild, a subscription) maps nothing: it
// reads each page once, and the pages it touched would stay mapped,
// counting in the process's memory as much as the log's length; unmapping
// them after stream reads gives that memory back.
func (r *reader) mapping(n int64) error {
	if r.mapped == n {
		return nil
	}
	if _, err := r.conn.Exec(fmt.Sprintf("PRAGMA mmap_size = %d", n), nil); err != nil {
		return fmt.Errorf("eventstore/sqlite: reader: %w", err)
	}
	r.mapped = n
	return nil
}

// readStream returns up to limit events of stream from version from on.
func (r *reader) readStream(ctx context.Context, stream string, from int64, limit int) ([]eventstore.RecordedEvent, error) {
	if err := r.mapping(r.mmap); err != nil {
		return nil, err
	}
	r.args[0].Value, r.args[1].Value, r.args[2].Value = stream, from, int64(limit)
	return r.query(ctx, r.stream, r.args[:3], limit, stream)
}

// streams returns up to limit stream names starting with prefix, after
// the name after, in name order: a range of the (stream, version) index.
func (r *reader) streams(ctx context.Context, prefix, after string, limit int) ([]string, error) {
	// One lower bound only: given two, SQLite may search the index from
	// the lower one and read every stream name before the prefix.
	q := `SELECT DISTINCT stream FROM events WHERE stream >= ?`
	args := []driver.NamedValue{{Ordinal: 1, Value: prefix}}
	if after >= prefix {
		q = `SELECT DISTINCT stream FROM events WHERE stream > ?`
		args[0].Value = after
	}
	if end, ok := prefixEnd(prefix); ok {
		q += ` AND stream < ?`
		args = append(args, driver.NamedValue{Ordinal: 2, Value: end})
	}
	q += ` ORDER BY stream LIMIT ?`
	args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: int64(limit)})
	st, err := r.conn.PrepareContext(ctx, q)
	if err != nil {
		return nil, readErr(err)
	}
	defer st.Close()
	rows, err := st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, readErr(err)
	}
	defer rows.Close()
	var out []string
	dest := make([]driver.Value, 1)
	for {
		err := rows.Next(dest)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, readErr(err)
		}
		switch v := dest[0].(type) {
		case string:
			out = append(out, v)
		case []byte:
			out = append(out, string(v))
		}
	}
}

// prefixEnd is the least string above every string starting with prefix,
// as SQLite compares text (bytewise); false when there is none.
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// readLog returns up to limit events with position above after.
func (r *reader) readLog(ctx context.Context, after int64, limit int) ([]eventstore.RecordedEvent, error) {
	if err := r.mapping(0); err != nil {
		return nil, err
	}
	r.args[0].Value, r.args[1].Value = after, int64(limit)
	return r.query(ctx, r.log, r.args[:2], limit, "")
}

// query runs st and turns its rows into events. Both statements share their
// first seven columns; the log query adds the stream name, which a stream
// read already knows.
func (r *reader) query(ctx context.Context, st *sqlite3.SQLiteStmt, args []driver.NamedValue, limit int, stream string) ([]eventstore.RecordedEvent, error) {
	defer func() {
		for i := range r.args {
			r.args[i].Value = nil
		}
	}()
	rows, err := st.QueryContext(ctx, args)
	if err != nil {
		return nil, readErr(err)
	}
	ncol := 7
	if stream == "" {
		ncol = 8
	}
	d := r.dest[:ncol]
	out := make([]eventstore.RecordedEvent, 0, min(limit, 1024))
	for {
		err := rows.Next(d)
		if err == io.EOF {
			break
		}
		if err != nil {
			rows.Close()
			return nil, readErr(err)
		}
		e := eventstore.RecordedEvent{
			Position: uint64(asInt(d[0])),
			Version:  uint64(asInt(d[1])),
			ID:       asString(d[2]),
			Type:     asString(d[3]),
			// The driver hands over freshly allocated slices; keeping
			// them saves the copy database/sql would make.
			Data:     asBytes(d[4]),
			Metadata: asBytes(d[5]),
			Recorded: time.Unix(0, asInt(d[6])).UTC(),
			Stream:   stream,
		}
		if stream == "" {
			e.Stream = asString(d[7])
		}
		out = append(out, e)
	}
	clear(d)
	if err := rows.Close(); err != nil {
		return nil, readErr(err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func asInt(v driver.Value) int64 {
	i, _ := v.(int64)
	return i
}

func asString(v driver.Value) string {
	switch s := v.(type) {
	case string:
		return s
	case []byte:
		return string(s)
	}
	return ""
}

func asBytes(v driver.Value) []byte {
	switch b := v.(type) {
	case []byte:
		return b
	case string:
		return []byte(b)
	}
	return nil
}
