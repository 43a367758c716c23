package projections

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
)

// chunkRows is how many messages (or notices) of one group the Builder
// gathers before handing them to its writer: runs of consecutive keys, so
// each run lands in one place of the table's B-tree. What is still pending
// at the end is written while nothing else runs, hence not more.
const chunkRows = 512

// Builder folds a log into a fresh database file: the fast path of a
// rebuild (package replay). It runs the same rules as Apply, so the file it
// writes holds the same rows as one built by applying the same events
// batch by batch, but it writes each row once, in key order, with SQLite's
// journal off and the indexes built at the end.
//
// Messages and notices never change once written, so a goroutine of the
// Builder inserts them while the fold goes on, in chunks of one group's
// consecutive rows; everything else (groups, members, spans, counters,
// mentions) is kept in memory and written by Finish. All rows go in one
// transaction: a failed build leaves a file to delete, never a database to
// trust.
//
// The Builder talks to the driver's connection directly rather than
// through database/sql: a bulk insert then binds a whole statement's rows
// and steps it in one call into SQLite, without database/sql converting
// every value first. Writing the message rows is the longest part of a
// rebuild, so this matters.
//
// A Builder is not safe for concurrent use. After an error from Add it must
// be discarded with Abort.
type Builder struct {
	path string
	conn *sqlite3.SQLiteConn

	groups   map[string]*memGroup
	position uint64
	events   uint64
	messages int

	// chunks carries rows to the writer goroutine, which reports on
	// written when it has stopped. failed is closed if it stops early, so
	// that Add does not block on a writer that no longer reads.
	chunks  chan messageChunk
	written chan error
	failed  chan struct{}
	werr    error
	done    bool
	once    sync.Once
}

// messageChunk is a run of one group's messages and notices for the
// writer goroutine.
type messageChunk struct {
	group   string
	rows    []messageRow
	notices []noticeRow
}

// memGroup is one group's rows. Counters are not kept as counts: a
// member's unread and mention counts are, by definition, the others'
// messages and its mentions after its read-up-to version, so Finish
// computes them from the message versions kept here, and the incremental
// counting in Apply is checked against that definition by the tests.
type memGroup struct {
	row     groupRow
	members map[string]*memMember
	spans   []spanRow
	// open indexes spans by member for the member's current span.
	open map[string]int
	// versions are the versions of the group's counted messages; own each
	// sender's, mentions each mentioned member's; all ascending.
	versions []uint64
	own      map[string][]uint64
	mentions map[string][]uint64
	// pending and pendingNotices are rows not yet handed to the writer.
	pending        []messageRow
	pendingNotices []noticeRow
	// retracted maps a withdrawn message's version to the retraction's.
	retracted map[uint64]uint64
}

type memMember struct {
	memberRow
	readUpto uint64
}

type spanRow struct {
	JID      string
	From, To uint64
	Closed   bool
}

// NewBuilder creates a database file at path, which must not exist, and
// returns a Builder folding events into it, in the state before the first
// event. ctx bounds the whole build.
func NewBuilder(ctx context.Context, path string) (*Builder, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("projections: build %s: file exists", path)
	}
	c, err := (&sqlite3.SQLiteDriver{}).Open(path + "?_journal_mode=OFF&_synchronous=OFF&_locking_mode=EXCLUSIVE&_cache_size=-65536")
	if err != nil {
		removeDB(path)
		return nil, fmt.Errorf("projections: build %s: %w", path, err)
	}
	conn := c.(*sqlite3.SQLiteConn)
	b := &Builder{
		path:    path,
		conn:    conn,
		groups:  make(map[string]*memGroup),
		chunks:  make(chan messageChunk, 16),
		written: make(chan error, 1),
		failed:  make(chan struct{}),
	}
	fail := func(err error) (*Builder, error) {
		if !conn.AutoCommit() {
			exec(context.Background(), conn, "ROLLBACK")
		}
		conn.Close()
		removeDB(path)
		return nil, fmt.Errorf("projections: build %s: %w", path, err)
	}
	// Sorting for the indexes at the end may use a helper thread: the
	// fold is over by then, and a core would otherwise sit idle. That
	// includes the index of messages by position: keeping it while the
	// message rows go in made the writer goroutine, the longest part of
	// the fold, about a fifth slower, more than the sort at the end costs
	// (measured: 10% faster rebuilds without it, BENCHMARKS.md).
	if err := exec(ctx, conn, "PRAGMA temp_store = MEMORY; PRAGMA threads = 2;"+tablesDDL+"BEGIN"); err != nil {
		return fail(err)
	}
	msgs, err := newBulkInsert(ctx, conn, "messages", "group_id, version, client_id, sender, mid, position, at, counted, resend_key", 9, 1)
	if err != nil {
		return fail(err)
	}
	notices, err := newBulkInsert(ctx, conn, "notices", "group_id, position, version, at, kind, receipt_to", 6, 1)
	if err != nil {
		msgs.close()
		return fail(err)
	}
	go b.writeMessages(msgs, notices)
	return b, nil
}

// writeMessages is the writer goroutine: it inserts the chunks it is
// handed until the channel closes.
func (b *Builder) writeMessages(msgs, notices *bulkInsert) {
	var err error
	defer func() { b.written <- err }()
	defer msgs.close()
	defer notices.close()
	for c := range b.chunks {
		if err = writeChunk(msgs, notices, c); err != nil {
			close(b.failed)
			for range b.chunks {
			}
			return
		}
	}
	if err = msgs.flush(); err == nil {
		err = notices.flush()
	}
}

func writeChunk(msgs, notices *bulkInsert, c messageChunk) error {
	if err := msgs.share(c.group); err != nil {
		return err
	}
	for _, m := range c.rows {
		if err := msgs.add(int64(m.Version), m.ClientID, m.Sender, m.MID, int64(m.Position), m.At, m.Counted, nullable(m.ResendKey)); err != nil {
			return err
		}
	}
	if err := notices.share(c.group); err != nil {
		return err
	}
	for _, r := range c.notices {
		var to any
		if r.ReceiptTo != "" {
			to = r.ReceiptTo
		}
		if err := notices.add(int64(r.Position), int64(r.Version), r.At, r.Kind, to); err != nil {
			return err
		}
	}
	return nil
}

// Add applies ev, whose decoded event is e (as returned by Decode). Events
// must come in position order.
func (b *Builder) Add(ev eventstore.RecordedEvent, e domain.Event) error {
	if b.done {
		return errors.New("projections: build: Add after Finish or Abort")
	}
	if ev.Position <= b.position {
		return fmt.Errorf("%w: position %d follows position %d", ErrInvalidEvent, ev.Position, b.position)
	}
	if err := applyEvent(b, ev, e); err != nil {
		return err
	}
	b.position = ev.Position
	b.events++
	return nil
}

// Position is the position of the last event added: the checkpoint the
// file will carry.
func (b *Builder) Position() uint64 { return b.position }

// Events is the number of events added.
func (b *Builder) Events() uint64 { return b.events }

// Groups is the number of groups, deleted ones included.
func (b *Builder) Groups() int { return len(b.groups) }

// Messages is the number of messages in every group.
func (b *Builder) Messages() int { return b.messages }

func (b *Builder) group(id string) (groupRow, bool, error) {
	g, ok := b.groups[id]
	if !ok {
		return groupRow{}, false, nil
	}
	return g.row, true, nil
}

func (b *Builder) putGroup(row groupRow, isNew bool) error {
	if isNew {
		b.groups[row.ID] = &memGroup{
			row:      row,
			members:  make(map[string]*memMember),
			open:     make(map[string]int),
			own:      make(map[string][]uint64),
			mentions: make(map[string][]uint64),
		}
		return nil
	}
	b.groups[row.ID].row = row
	return nil
}

func (b *Builder) addMember(group string, m memberRow) (bool, error) {
	g := b.groups[group]
	if _, ok := g.members[m.JID]; ok {
		return false, nil
	}
	g.members[m.JID] = &memMember{memberRow: m, readUpto: m.JoinedVersion}
	g.open[m.JID] = len(g.spans)
	g.spans = append(g.spans, spanRow{JID: m.JID, From: m.JoinedVersion})
	return true, nil
}

func (b *Builder) removeMember(group, jid string, end uint64) (bool, error) {
	g := b.groups[group]
	if _, ok := g.members[jid]; !ok {
		return false, nil
	}
	delete(g.members, jid)
	if i, ok := g.open[jid]; ok {
		g.spans[i].To, g.spans[i].Closed = end, true
		delete(g.open, jid)
	}
	return true, nil
}

func (b *Builder) setRole(group, jid string, role domain.Role) error {
	if m, ok := b.groups[group].members[jid]; ok {
		m.Role = role
	}
	return nil
}

func (b *Builder) addMessage(group string, row messageRow, mentions []string) error {
	g := b.groups[group]
	b.messages++
	if row.Counted {
		g.versions = append(g.versions, row.Version)
		g.own[row.Sender] = append(g.own[row.Sender], row.Version)
	}
	for _, j := range mentions {
		g.mentions[j] = append(g.mentions[j], row.Version)
	}
	if g.pending == nil {
		g.pending = make([]messageRow, 0, chunkRows)
	}
	g.pending = append(g.pending, row)
	if len(g.pending) == chunkRows {
		return b.handOver(group, g)
	}
	return nil
}

func (b *Builder) addNotice(group string, r noticeRow) error {
	g := b.groups[group]
	if g.pendingNotices == nil {
		g.pendingNotices = make([]noticeRow, 0, chunkRows)
	}
	g.pendingNotices = append(g.pendingNotices, r)
	if len(g.pendingNotices) == chunkRows {
		return b.handOver(group, g)
	}
	return nil
}

func (b *Builder) addRetraction(group string, r retractionRow) error {
	g := b.groups[group]
	if g.retracted == nil {
		g.retracted = map[uint64]uint64{}
	}
	if _, done := g.retracted[r.Version]; !done {
		g.retracted[r.Version] = r.RetractedBy
	}
	return nil
}

func (b *Builder) handOver(group string, g *memGroup) error {
	select {
	case b.chunks <- messageChunk{group: group, rows: g.pending, notices: g.pendingNotices}:
		g.pending, g.pendingNotices = nil, nil
		return nil
	case <-b.failed:
		return b.stopWriter()
	}
}

// stopWriter closes the writer's channel and waits for it, once.
func (b *Builder) stopWriter() error {
	b.once.Do(func() {
		close(b.chunks)
		b.werr = <-b.written
	})
	if b.werr != nil {
		return fmt.Errorf("projections: build %s: %w", b.path, b.werr)
	}
	return nil
}

func (b *Builder) markRead(group, jid string, upto uint64) error {
	if m, ok := b.groups[group].members[jid]; ok {
		m.readUpto = max(m.readUpto, upto)
	}
	return nil
}

// counters computes a member's counts from their definition.
func (g *memGroup) counters(m *memMember) (unread, mentions int) {
	after := func(vs []uint64) int {
		return len(vs) - sort.Search(len(vs), func(i int) bool { return vs[i] > m.readUpto })
	}
	return after(g.versions) - after(g.own[m.JID]), after(g.mentions[m.JID])
}

// Finish writes the messages still pending and every other table, builds
// the indexes, commits and closes the file, switched to WAL mode so that
// Open takes it like any other. On error the file is removed.
func (b *Builder) Finish(ctx context.Context) (err error) {
	if b.done {
		return errors.New("projections: build: Finish after Finish or Abort")
	}
	b.done = true
	defer func() {
		if err != nil {
			if !b.conn.AutoCommit() {
				exec(context.Background(), b.conn, "ROLLBACK")
			}
			b.conn.Close()
			removeDB(b.path)
			err = fmt.Errorf("projections: build %s: %w", b.path, err)
		}
	}()
	ids := make([]string, 0, len(b.groups))
	for id := range b.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if g := b.groups[id]; len(g.pending)+len(g.pendingNotices) > 0 {
			if err := b.handOver(id, g); err != nil {
				return err
			}
		}
	}
	if err := b.stopWriter(); err != nil {
		return err
	}
	for _, w := range b.tableWriters() {
		if err := writeTable(ctx, b.conn, ids, w); err != nil {
			return err
		}
	}
	if err := exec(ctx, b.conn, fmt.Sprintf("INSERT INTO checkpoint (id, position) VALUES (1, %d);", b.position)+
		indexesDDL+fmt.Sprintf("PRAGMA user_version = %d; COMMIT;", schemaVersion)); err != nil {
		return err
	}
	// journal_mode is stored in the file: the live database it becomes
	// opens in WAL mode like any other. Leaving exclusive locking takes
	// effect at the next access, which the journal mode change is.
	if err := exec(ctx, b.conn, "PRAGMA locking_mode = NORMAL"); err != nil {
		return err
	}
	mode, err := queryString(ctx, b.conn, "PRAGMA journal_mode = WAL")
	if err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %s, not wal", mode)
	}
	return b.conn.Close()
}

// exec runs statements that return no rows.
func exec(ctx context.Context, conn *sqlite3.SQLiteConn, q string) error {
	_, err := conn.ExecContext(ctx, q, nil)
	return err
}

// queryString runs a one-row, one-column query.
func queryString(ctx context.Context, conn *sqlite3.SQLiteConn, q string) (string, error) {
	rows, err := conn.QueryContext(ctx, q, nil)
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
	}
	return fmt.Sprint(dest[0]), nil
}

// Abort stops the build and removes the file. It does nothing after
// Finish.
func (b *Builder) Abort() {
	if b.done {
		return
	}
	b.done = true
	b.stopWriter()
	if !b.conn.AutoCommit() {
		exec(context.Background(), b.conn, "ROLLBACK")
	}
	b.conn.Close()
	removeDB(b.path)
}

// tableWriter writes one table of the rebuilt database: its rows come
// group by group, and all but the groups table share the group id column.
type tableWriter struct {
	table, cols string
	ncol        int
	// perGroup is true when the group id is the first column of every row.
	perGroup bool
	// rows adds the rows of one group.
	rows func(id string, add func(args ...any) error) error
}

// tableWriters lists the tables a rebuild writes after the fold, in order.
func (b *Builder) tableWriters() []tableWriter {
	return []tableWriter{
		{"groups", "id, name, type, deleted, created_at, updated_at, version, members, owner", 9, false,
			func(id string, add func(...any) error) error {
				g := b.groups[id].row
				return add(g.ID, g.Name, string(g.Type), g.Deleted, g.CreatedAt, g.UpdatedAt, int64(g.Version), g.Members, g.Owner)
			}},
		{"members", "group_id, jid, mid, nick, role, joined_version, joined_seq, joined_at", 8, true,
			func(id string, add func(...any) error) error {
				g := b.groups[id]
				for _, jid := range sortedKeys(g.members) {
					m := g.members[jid]
					if err := add(m.JID, m.MID, m.Nick, string(m.Role), int64(m.JoinedVersion), m.JoinedSeq, m.JoinedAt); err != nil {
						return err
					}
				}
				return nil
			}},
		{"spans", "group_id, jid, from_version, to_version", 4, true,
			func(id string, add func(...any) error) error {
				spans := slices.Clone(b.groups[id].spans)
				slices.SortFunc(spans, func(x, y spanRow) int {
					if c := strings.Compare(x.JID, y.JID); c != 0 {
						return c
					}
					return compareUint(x.From, y.From)
				})
				for _, s := range spans {
					var to any
					if s.Closed {
						to = int64(s.To)
					}
					if err := add(s.JID, int64(s.From), to); err != nil {
						return err
					}
				}
				return nil
			}},
		{"counters", "group_id, jid, unread, mentions, read_upto", 5, true,
			func(id string, add func(...any) error) error {
				g := b.groups[id]
				for _, jid := range sortedKeys(g.members) {
					m := g.members[jid]
					unread, mentions := g.counters(m)
					if err := add(m.JID, unread, mentions, int64(m.readUpto)); err != nil {
						return err
					}
				}
				return nil
			}},
		{"mentions", "group_id, jid, version", 3, true,
			func(id string, add func(...any) error) error {
				g := b.groups[id]
				for _, jid := range sortedKeys(g.mentions) {
					for _, v := range g.mentions[jid] {
						if err := add(jid, int64(v)); err != nil {
							return err
						}
					}
				}
				return nil
			}},
		{"retractions", "group_id, version, retracted_by", 3, true,
			func(id string, add func(...any) error) error {
				g := b.groups[id]
				versions := make([]uint64, 0, len(g.retracted))
				for v := range g.retracted {
					versions = append(versions, v)
				}
				slices.Sort(versions)
				for _, v := range versions {
					if err := add(int64(v), int64(g.retracted[v])); err != nil {
						return err
					}
				}
				return nil
			}},
	}
}

// writeTable bulk-inserts one table's rows for every group, in id order.
func writeTable(ctx context.Context, conn *sqlite3.SQLiteConn, ids []string, w tableWriter) error {
	shared := 0
	if w.perGroup {
		shared = 1
	}
	ins, err := newBulkInsert(ctx, conn, w.table, w.cols, w.ncol, shared)
	if err != nil {
		return err
	}
	defer ins.close()
	for _, id := range ids {
		if w.perGroup {
			if err := ins.share(id); err != nil {
				return err
			}
		}
		if err := w.rows(id, ins.add); err != nil {
			return err
		}
	}
	return ins.flush()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// bulkInsert inserts rows many at a time: one statement with a VALUES list
// of rowsPerStmt rows, so the per-statement cost (a call into SQLite, a
// step, a reset) is paid once per few hundred rows instead of once a row.
// The first shared columns are bound once per statement (as ?1, ?2, ...)
// for all its rows: a chunk of one group's messages binds the group id once.
//
// A statement runs through the driver's query path: there, binding all its
// values and stepping it take one call into SQLite, where the exec path
// makes one per value.
type bulkInsert struct {
	ctx    context.Context
	conn   *sqlite3.SQLiteConn
	table  string
	cols   string
	ncol   int
	shared int
	n      int // rows per full statement
	full   *sqlite3.SQLiteStmt
	// args holds the shared values, then the pending rows' own values.
	args []driver.NamedValue
}

func newBulkInsert(ctx context.Context, conn *sqlite3.SQLiteConn, table, cols string, ncol, shared int) (*bulkInsert, error) {
	// SQLite binds at most 32766 parameters to one statement.
	n := min(256, 32766/ncol)
	b := &bulkInsert{ctx: ctx, conn: conn, table: table, cols: cols, ncol: ncol, shared: shared, n: n,
		args: make([]driver.NamedValue, shared, shared+n*(ncol-shared))}
	for i := range b.args[:cap(b.args)] {
		b.args[:cap(b.args)][i].Ordinal = i + 1
	}
	st, err := conn.PrepareContext(ctx, b.query(n))
	if err != nil {
		return nil, err
	}
	b.full = st.(*sqlite3.SQLiteStmt)
	return b, nil
}

func (b *bulkInsert) query(rows int) string {
	var row strings.Builder
	row.WriteByte('(')
	for i := range b.ncol {
		if i > 0 {
			row.WriteString(", ")
		}
		if i < b.shared {
			fmt.Fprintf(&row, "?%d", i+1)
		} else {
			row.WriteByte('?')
		}
	}
	row.WriteByte(')')
	var q strings.Builder
	q.WriteString("INSERT INTO " + b.table + " (" + b.cols + ") VALUES ")
	for i := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row.String())
	}
	return q.String()
}

// value turns a row value into one the driver binds directly.
func value(v any) driver.Value {
	switch v := v.(type) {
	case int:
		return int64(v)
	case uint64:
		return int64(v)
	}
	return v
}

// share sets the shared columns' values for the rows added next.
func (b *bulkInsert) share(vals ...any) error {
	if len(b.args) > b.shared {
		same := true
		for i, v := range vals {
			if b.args[i].Value != value(v) {
				same = false
			}
		}
		if !same {
			if err := b.flush(); err != nil {
				return err
			}
		}
	}
	for i, v := range vals {
		b.args[i].Value = value(v)
	}
	return nil
}

// add adds a row: the values of its columns after the shared ones.
func (b *bulkInsert) add(vals ...any) error {
	for _, v := range vals {
		k := len(b.args)
		b.args = b.args[:k+1]
		b.args[k].Value = value(v)
	}
	if len(b.args) < cap(b.args) {
		return nil
	}
	err := run(b.ctx, b.full, b.args)
	b.clear()
	return err
}

// clear drops the pending rows' values, so they are not kept alive.
func (b *bulkInsert) clear() {
	for i := b.shared; i < len(b.args); i++ {
		b.args[i].Value = nil
	}
	b.args = b.args[:b.shared]
}

func (b *bulkInsert) flush() error {
	rows := (len(b.args) - b.shared) / (b.ncol - b.shared)
	if rows == 0 {
		return nil
	}
	st, err := b.conn.PrepareContext(b.ctx, b.query(rows))
	if err == nil {
		err = run(b.ctx, st.(*sqlite3.SQLiteStmt), b.args)
		if cerr := st.Close(); err == nil {
			err = cerr
		}
	}
	b.clear()
	return err
}

func (b *bulkInsert) close() { b.full.Close() }

// run executes an INSERT statement with args.
func run(ctx context.Context, st *sqlite3.SQLiteStmt, args []driver.NamedValue) error {
	rows, err := st.QueryContext(ctx, args)
	if err != nil {
		return err
	}
	return rows.Close()
}

// removeDB removes a database file and its companions.
func removeDB(path string) error {
	var errs []error
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
