package projections

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
)

// batchRows is how many rows the Builder gathers before handing them to
// its writer goroutine, and batchesInFlight how many such batches may wait
// for it: together they bound the memory the rows of the log take on their
// way to the file, however long the log.
const (
	batchRows       = 4096
	batchesInFlight = 4
)

// Builder folds a log into a fresh database file: the fast path of a
// rebuild (package replay). It runs the same rules as Apply, so the file it
// writes holds the same rows as one built by applying the same events
// batch by batch, but it writes each row once into its table, in key order,
// with SQLite's journal off and the indexes built at the end.
//
// A rebuild's memory does not grow with the log: the Builder keeps in
// memory only the current state of each group (its row, its members and
// how far each has read), which is what the rules consult. Every row that
// only records history (messages, notices, mentions, retractions, closed
// membership spans) is final when its event is folded, so a goroutine of
// the Builder appends it, in log order, to a staging table while the fold
// goes on; the staging tables are in a file of their own beside the one
// built, removed at the end. Finish then copies each staging table into its
// table sorted by key, with SQLite's external sort, which spills to
// temporary files rather than holding the log in memory. The unread and
// mention counters depend only on each member's final read-up-to version:
// the fold writes the counted messages and mentions to a tally file, and
// Finish counts them against the final read positions in one pass (see
// tally).
//
// All rows go in one transaction: a failed build leaves a file to delete,
// never a database to trust.
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

	groups map[string]*memGroup
	// list holds the groups in the order they were created: a group's
	// index in it names the group in the tally.
	list     []*memGroup
	tally    *tally
	position uint64
	events   uint64
	messages int

	// batch gathers rows for the writer goroutine, which batches carries
	// to it and free brings back for reuse; written reports when it has
	// stopped. failed is closed if it stops early, so that Add does not
	// block on a writer that no longer reads.
	batch   *stageBatch
	batches chan *stageBatch
	free    chan *stageBatch
	written chan error
	failed  chan struct{}
	werr    error
	done    bool
	once    sync.Once
}

// memGroup is one group's current state: its row and its members.
type memGroup struct {
	row     groupRow
	index   uint32
	members map[string]*memMember
}

// memMember is a member's row, how far it has read and, in Finish, its
// counts (see tally). Its open membership span starts at JoinedVersion.
type memMember struct {
	memberRow
	readUpto               uint64
	unread, own, mentioned int
}

// stageBatch is a run of rows, in log order, for the staging tables.
type stageBatch struct {
	messages    []stagedMessage
	notices     []stagedNotice
	mentions    []stagedMention
	spans       []stagedSpan
	retractions []stagedRetraction
}

type (
	stagedMessage struct {
		group string
		messageRow
	}
	stagedNotice struct {
		group string
		noticeRow
	}
	stagedMention struct {
		group, jid string
		version    uint64
	}
	stagedSpan struct {
		group, jid string
		from, to   uint64
		closed     bool
	}
	stagedRetraction struct {
		group string
		retractionRow
	}
)

func (s *stageBatch) rows() int {
	return len(s.messages) + len(s.notices) + len(s.mentions) + len(s.spans) + len(s.retractions)
}

// reset empties the batch for reuse, dropping the strings it held.
func (s *stageBatch) reset() {
	clear(s.messages)
	clear(s.notices)
	clear(s.mentions)
	clear(s.spans)
	clear(s.retractions)
	s.messages, s.notices, s.mentions = s.messages[:0], s.notices[:0], s.mentions[:0]
	s.spans, s.retractions = s.spans[:0], s.retractions[:0]
}

// The staging tables, in a database file of their own beside the one
// built (attached as staging, removed at the end): rowid tables filled in
// log order, which only ever appends.
const stagingDDL = `
PRAGMA staging.journal_mode = OFF; PRAGMA staging.synchronous = OFF; PRAGMA staging.cache_size = -8192;
CREATE TABLE staging.messages (group_id, version, client_id, sender, mid, position, at, counted, resend_key);
CREATE TABLE staging.notices (group_id, position, version, at, kind, receipt_to);
CREATE TABLE staging.mentions (group_id, jid, version);
CREATE TABLE staging.spans (group_id, jid, from_version, to_version);
CREATE TABLE staging.retractions (group_id, version, retracted_by);
`

// unstageSQL copies the staging tables into the tables, sorted by key. The first retraction of a message stands: the one with
// the least version.
const unstageSQL = `
INSERT INTO main.messages (group_id, version, client_id, sender, mid, position, at, counted, resend_key)
	SELECT group_id, version, client_id, sender, mid, position, at, counted, resend_key FROM staging.messages ORDER BY group_id, version;
INSERT INTO main.notices (group_id, position, version, at, kind, receipt_to)
	SELECT group_id, position, version, at, kind, receipt_to FROM staging.notices ORDER BY group_id, position;
INSERT INTO main.mentions (group_id, jid, version)
	SELECT group_id, jid, version FROM staging.mentions ORDER BY group_id, jid, version;
INSERT INTO main.spans (group_id, jid, from_version, to_version)
	SELECT group_id, jid, from_version, to_version FROM staging.spans ORDER BY group_id, jid, from_version;
INSERT INTO main.retractions (group_id, version, retracted_by)
	SELECT group_id, version, min(retracted_by) FROM staging.retractions GROUP BY group_id, version ORDER BY group_id, version;
`

// buildPragmas set up the connection of a build. The sorts (copying the
// staging tables out, building the indexes) go to temporary files, in
// SQLite's temporary directory, not to memory: they are as large as the log.
// SQLite's page cache, which also sizes the sorts' in-memory runs, is
// bounded. Sorting may use a helper thread: the fold is over by then, and a
// core would otherwise sit idle. That includes the index of messages by
// position: keeping it while the message rows go in made the fold about a
// fifth slower, more than the sort at the end costs (measured: 10% faster
// rebuilds without it, BENCHMARKS.md).
const buildPragmas = `PRAGMA temp_store = FILE; PRAGMA threads = 2;`

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
	if err := removeDB(stagingPath(path)); err != nil {
		return nil, fmt.Errorf("projections: build %s: %w", path, err)
	}
	c, err := (&sqlite3.SQLiteDriver{}).Open(path + "?_journal_mode=OFF&_synchronous=OFF&_locking_mode=EXCLUSIVE&_cache_size=-16384")
	if err != nil {
		removeDB(path)
		return nil, fmt.Errorf("projections: build %s: %w", path, err)
	}
	conn := c.(*sqlite3.SQLiteConn)
	b := &Builder{
		path:    path,
		conn:    conn,
		groups:  make(map[string]*memGroup),
		batch:   &stageBatch{},
		batches: make(chan *stageBatch, batchesInFlight),
		free:    make(chan *stageBatch, batchesInFlight+1),
		written: make(chan error, 1),
		failed:  make(chan struct{}),
	}
	fail := func(err error) (*Builder, error) {
		if !conn.AutoCommit() {
			exec(context.Background(), conn, "ROLLBACK")
		}
		conn.Close()
		removeDB(path)
		removeDB(stagingPath(path))
		if b.tally != nil {
			b.tally.close()
		}
		return nil, fmt.Errorf("projections: build %s: %w", path, err)
	}
	if b.tally, err = newTally(path); err != nil {
		return fail(err)
	}
	if _, err := conn.ExecContext(ctx, "ATTACH DATABASE ? AS staging", []driver.NamedValue{{Ordinal: 1, Value: stagingPath(path)}}); err != nil {
		return fail(err)
	}
	if err := exec(ctx, conn, buildPragmas+tablesDDL+stagingDDL+"BEGIN"); err != nil {
		return fail(err)
	}
	var ins [5]*bulkInsert
	for i, t := range []struct {
		table, cols string
		ncol        int
	}{
		{"staging.messages", "group_id, version, client_id, sender, mid, position, at, counted, resend_key", 9},
		{"staging.notices", "group_id, position, version, at, kind, receipt_to", 6},
		{"staging.mentions", "group_id, jid, version", 3},
		{"staging.spans", "group_id, jid, from_version, to_version", 4},
		{"staging.retractions", "group_id, version, retracted_by", 3},
	} {
		if ins[i], err = newBulkInsert(ctx, conn, t.table, t.cols, t.ncol, 0); err != nil {
			for _, in := range ins[:i] {
				in.close()
			}
			return fail(err)
		}
	}
	go b.writeStaged(ins)
	return b, nil
}

// writeStaged is the writer goroutine: it appends the batches it is handed
// to the staging tables until the channel closes.
func (b *Builder) writeStaged(ins [5]*bulkInsert) {
	var err error
	defer func() { b.written <- err }()
	defer func() {
		for _, in := range ins {
			in.close()
		}
	}()
	for s := range b.batches {
		if err = writeBatch(ins, s); err != nil {
			close(b.failed)
			for range b.batches {
			}
			return
		}
		s.reset()
		select {
		case b.free <- s:
		default:
		}
	}
	for _, in := range ins {
		if err = in.flush(); err != nil {
			return
		}
	}
}

func writeBatch(ins [5]*bulkInsert, s *stageBatch) error {
	for _, m := range s.messages {
		if err := ins[0].add(m.group, int64(m.Version), m.ClientID, m.Sender, m.MID, int64(m.Position), m.At, m.Counted, nullable(m.ResendKey)); err != nil {
			return err
		}
	}
	for _, r := range s.notices {
		var to any
		if r.ReceiptTo != "" {
			to = r.ReceiptTo
		}
		if err := ins[1].add(r.group, int64(r.Position), int64(r.Version), r.At, r.Kind, to); err != nil {
			return err
		}
	}
	for _, m := range s.mentions {
		if err := ins[2].add(m.group, m.jid, int64(m.version)); err != nil {
			return err
		}
	}
	for _, sp := range s.spans {
		var to any
		if sp.closed {
			to = int64(sp.to)
		}
		if err := ins[3].add(sp.group, sp.jid, int64(sp.from), to); err != nil {
			return err
		}
	}
	for _, r := range s.retractions {
		if err := ins[4].add(r.group, int64(r.Version), int64(r.RetractedBy)); err != nil {
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
	if b.batch.rows() >= batchRows {
		if err := b.handOver(); err != nil {
			return err
		}
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
		g := &memGroup{row: row, index: uint32(len(b.list)), members: make(map[string]*memMember)}
		b.groups[row.ID] = g
		b.list = append(b.list, g)
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
	return true, nil
}

func (b *Builder) removeMember(group, jid string, end uint64) (bool, error) {
	g := b.groups[group]
	m, ok := g.members[jid]
	if !ok {
		return false, nil
	}
	delete(g.members, jid)
	b.batch.spans = append(b.batch.spans, stagedSpan{group: g.row.ID, jid: m.JID, from: m.JoinedVersion, to: end, closed: true})
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
		if err := b.tally.add(tallyMessage, g.index, row.Version, b.tally.user(row.Sender)); err != nil {
			return err
		}
	}
	for _, j := range mentions {
		if err := b.tally.add(tallyMention, g.index, row.Version, b.tally.user(j)); err != nil {
			return err
		}
		b.batch.mentions = append(b.batch.mentions, stagedMention{group: g.row.ID, jid: j, version: row.Version})
	}
	b.batch.messages = append(b.batch.messages, stagedMessage{group: g.row.ID, messageRow: row})
	return nil
}

func (b *Builder) addNotice(group string, r noticeRow) error {
	b.batch.notices = append(b.batch.notices, stagedNotice{group: b.groups[group].row.ID, noticeRow: r})
	return nil
}

func (b *Builder) addRetraction(group string, r retractionRow) error {
	b.batch.retractions = append(b.batch.retractions, stagedRetraction{group: b.groups[group].row.ID, retractionRow: r})
	return nil
}

// handOver passes the batch gathered to the writer goroutine and starts
// another.
func (b *Builder) handOver() error {
	select {
	case b.batches <- b.batch:
	case <-b.failed:
		return b.stopWriter()
	}
	select {
	case b.batch = <-b.free:
	default:
		b.batch = &stageBatch{}
	}
	return nil
}

// stopWriter closes the writer's channel and waits for it, once.
func (b *Builder) stopWriter() error {
	b.once.Do(func() {
		close(b.batches)
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

// Finish writes the rows still pending, copies the staging tables into
// the tables, writes the groups, members and counters, builds the
// indexes, commits and closes the file, switched to WAL mode so that Open
// takes it like any other. On error the file is removed.
func (b *Builder) Finish(ctx context.Context) (err error) {
	if b.done {
		return errors.New("projections: build: Finish after Finish or Abort")
	}
	b.done = true
	defer func() {
		b.tally.close()
		if err != nil {
			if !b.conn.AutoCommit() {
				exec(context.Background(), b.conn, "ROLLBACK")
			}
			b.conn.Close()
			removeDB(b.path)
			removeDB(stagingPath(b.path))
			err = fmt.Errorf("projections: build %s: %w", b.path, err)
		}
	}()
	ids := make([]string, 0, len(b.groups))
	for id := range b.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	// The spans still open are the members'.
	for _, id := range ids {
		g := b.groups[id]
		for _, m := range g.members {
			b.batch.spans = append(b.batch.spans, stagedSpan{group: id, jid: m.JID, from: m.JoinedVersion})
			if b.batch.rows() >= batchRows {
				if err := b.handOver(); err != nil {
					return err
				}
			}
		}
	}
	if err := b.handOver(); err != nil {
		return err
	}
	if err := b.stopWriter(); err != nil {
		return err
	}
	if err := exec(ctx, b.conn, unstageSQL); err != nil {
		return err
	}
	if err := b.tally.count(b.list); err != nil {
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
	if err := exec(ctx, b.conn, "DETACH DATABASE staging"); err != nil {
		return err
	}
	if err := removeDB(stagingPath(b.path)); err != nil {
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
	b.tally.close()
	if !b.conn.AutoCommit() {
		exec(context.Background(), b.conn, "ROLLBACK")
	}
	b.conn.Close()
	removeDB(b.path)
	removeDB(stagingPath(b.path))
}

// stagingPath is the file of the staging tables of a build of path.
func stagingPath(path string) string { return path + ".staging" }

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

// tableWriters lists the tables a rebuild writes from memory after the
// fold, in order.
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
		{"counters", "group_id, jid, unread, mentions, read_upto", 5, true,
			func(id string, add func(...any) error) error {
				g := b.groups[id]
				for _, jid := range sortedKeys(g.members) {
					m := g.members[jid]
					if err := add(m.JID, m.unread, m.mentioned, int64(m.readUpto)); err != nil {
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
