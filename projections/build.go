package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
)

// Builder folds a log into the tables in memory and then writes them to a
// fresh file in bulk: the fast path of a rebuild (package replay). It runs
// the same rules as Apply, so the file it writes holds the same rows as one
// built by applying the same events one batch at a time.
//
// It keeps every table in memory until WriteFile, messages included (about
// 150 bytes each). A Builder is not safe for concurrent use, and after an
// error from Add it must be discarded.
type Builder struct {
	groups   map[string]*memGroup
	position uint64
	events   uint64
}

// memGroup is one group's rows. Counters are not kept as counts: a
// member's unread and mention counts are, by definition, the others'
// messages and its mentions after its read-up-to version, so WriteFile
// computes them from the message versions below, and the incremental
// counting in Apply is checked against that definition by the tests.
type memGroup struct {
	row     groupRow
	members map[string]*memMember
	spans   []spanRow
	// open indexes spans by member for the member's current span.
	open map[string]int
	msgs []messageRow
	// own holds each sender's message versions, mentions each mentioned
	// member's, both ascending.
	own      map[string][]uint64
	mentions map[string][]uint64
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

// NewBuilder returns an empty Builder, the state before the first event.
func NewBuilder() *Builder {
	return &Builder{groups: make(map[string]*memGroup)}
}

// Add applies ev, whose decoded event is e (as returned by Decode). Events
// must come in position order.
func (b *Builder) Add(ev eventstore.RecordedEvent, e domain.Event) error {
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
// written file will carry.
func (b *Builder) Position() uint64 { return b.position }

// Events is the number of events added.
func (b *Builder) Events() uint64 { return b.events }

// Groups is the number of groups, deleted ones included.
func (b *Builder) Groups() int { return len(b.groups) }

// Messages is the number of messages in every group.
func (b *Builder) Messages() int {
	n := 0
	for _, g := range b.groups {
		n += len(g.msgs)
	}
	return n
}

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
	// Share the member's strings instead of keeping a decoded copy per
	// message: a million messages hold a few hundred distinct senders.
	if m, ok := g.members[row.Sender]; ok {
		row.Sender = m.JID
		if row.MID == m.MID {
			row.MID = m.MID
		}
	}
	g.msgs = append(g.msgs, row)
	g.own[row.Sender] = append(g.own[row.Sender], row.Version)
	for _, j := range mentions {
		g.mentions[j] = append(g.mentions[j], row.Version)
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
	all := len(g.msgs) - sort.Search(len(g.msgs), func(i int) bool { return g.msgs[i].Version > m.readUpto })
	return all - after(g.own[m.JID]), after(g.mentions[m.JID])
}

// WriteFile writes the tables to a new database file at path, which must
// not exist, ready to be opened with Open: same schema, indexes and
// checkpoint as a database built by Apply. The rows go in key order in one
// transaction with SQLite's journal off (a failed write leaves a file to
// delete, never a database to trust), and the indexes are built once at the
// end; the file is switched to WAL mode before it is closed. On error the
// partial file is removed.
func (b *Builder) WriteFile(ctx context.Context, path string) (err error) {
	if err := checkPath(path); err != nil {
		return err
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("projections: write %s: file exists", path)
	}
	db, err := sql.Open("sqlite3", path+"?_journal_mode=OFF&_synchronous=OFF&_locking_mode=EXCLUSIVE&_cache_size=-262144")
	if err != nil {
		return fmt.Errorf("projections: write %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("projections: write %s: %w", path, cerr)
		}
		if err != nil {
			removeDB(path)
		}
	}()
	if err := b.write(ctx, db); err != nil {
		return fmt.Errorf("projections: write %s: %w", path, err)
	}
	return nil
}

func (b *Builder) write(ctx context.Context, db *sql.DB) (err error) {
	if _, err := db.ExecContext(ctx, "PRAGMA temp_store = MEMORY;"+tablesDDL); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	ids := make([]string, 0, len(b.groups))
	for id := range b.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, table := range []func(context.Context, *sql.Tx, []string) error{
		b.writeGroups, b.writeMembers, b.writeSpans, b.writeCounters, b.writeMessages, b.writeMentions,
	} {
		if err := table(ctx, tx, ids); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoint (id, position) VALUES (1, ?)`, int64(b.position)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, indexesDDL+fmt.Sprintf("PRAGMA user_version = %d;", schemaVersion)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// journal_mode is stored in the file: the live database it becomes
	// opens in WAL mode like any other.
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA locking_mode = NORMAL").Scan(&mode); err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %s, not wal", mode)
	}
	return nil
}

func (b *Builder) writeGroups(ctx context.Context, tx *sql.Tx, ids []string) error {
	ins, err := newBulkInsert(ctx, tx, "groups", "id, name, type, deleted, created_at, updated_at, version, members, owner", 9)
	if err != nil {
		return err
	}
	defer ins.close()
	for _, id := range ids {
		g := b.groups[id].row
		if err := ins.add(g.ID, g.Name, string(g.Type), g.Deleted, g.CreatedAt, g.UpdatedAt, int64(g.Version), g.Members, g.Owner); err != nil {
			return err
		}
	}
	return ins.flush()
}

func (b *Builder) writeMembers(ctx context.Context, tx *sql.Tx, ids []string) error {
	ins, err := newBulkInsert(ctx, tx, "members", "group_id, jid, mid, nick, role, joined_version, joined_seq, joined_at", 8)
	if err != nil {
		return err
	}
	defer ins.close()
	for _, id := range ids {
		g := b.groups[id]
		for _, jid := range sortedKeys(g.members) {
			m := g.members[jid]
			if err := ins.add(id, m.JID, m.MID, m.Nick, string(m.Role), int64(m.JoinedVersion), m.JoinedSeq, m.JoinedAt); err != nil {
				return err
			}
		}
	}
	return ins.flush()
}

func (b *Builder) writeSpans(ctx context.Context, tx *sql.Tx, ids []string) error {
	ins, err := newBulkInsert(ctx, tx, "spans", "group_id, jid, from_version, to_version", 4)
	if err != nil {
		return err
	}
	defer ins.close()
	for _, id := range ids {
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
			if err := ins.add(id, s.JID, int64(s.From), to); err != nil {
				return err
			}
		}
	}
	return ins.flush()
}

func (b *Builder) writeCounters(ctx context.Context, tx *sql.Tx, ids []string) error {
	ins, err := newBulkInsert(ctx, tx, "counters", "group_id, jid, unread, mentions, read_upto", 5)
	if err != nil {
		return err
	}
	defer ins.close()
	for _, id := range ids {
		g := b.groups[id]
		for _, jid := range sortedKeys(g.members) {
			m := g.members[jid]
			unread, mentions := g.counters(m)
			if err := ins.add(id, m.JID, unread, mentions, int64(m.readUpto)); err != nil {
				return err
			}
		}
	}
	return ins.flush()
}

func (b *Builder) writeMessages(ctx context.Context, tx *sql.Tx, ids []string) error {
	ins, err := newBulkInsert(ctx, tx, "messages", "group_id, version, client_id, sender, mid, position, at", 7)
	if err != nil {
		return err
	}
	defer ins.close()
	for _, id := range ids {
		for _, m := range b.groups[id].msgs {
			if err := ins.add(id, int64(m.Version), m.ClientID, m.Sender, m.MID, int64(m.Position), m.At); err != nil {
				return err
			}
		}
	}
	return ins.flush()
}

func (b *Builder) writeMentions(ctx context.Context, tx *sql.Tx, ids []string) error {
	ins, err := newBulkInsert(ctx, tx, "mentions", "group_id, jid, version", 3)
	if err != nil {
		return err
	}
	defer ins.close()
	for _, id := range ids {
		g := b.groups[id]
		for _, jid := range sortedKeys(g.mentions) {
			for _, v := range g.mentions[jid] {
				if err := ins.add(id, jid, int64(v)); err != nil {
					return err
				}
			}
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
type bulkInsert struct {
	ctx   context.Context
	tx    *sql.Tx
	table string
	cols  string
	ncol  int
	n     int // rows per full statement
	full  *sql.Stmt
	args  []any
}

func newBulkInsert(ctx context.Context, tx *sql.Tx, table, cols string, ncol int) (*bulkInsert, error) {
	// SQLite binds at most 32766 parameters to one statement.
	n := min(256, 32766/ncol)
	b := &bulkInsert{ctx: ctx, tx: tx, table: table, cols: cols, ncol: ncol, n: n, args: make([]any, 0, n*ncol)}
	var err error
	b.full, err = tx.PrepareContext(ctx, b.query(n))
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (b *bulkInsert) query(rows int) string {
	row := "(" + strings.Repeat("?, ", b.ncol-1) + "?)"
	var q strings.Builder
	q.Grow(len(b.table) + len(b.cols) + rows*(len(row)+2) + 32)
	q.WriteString("INSERT INTO " + b.table + " (" + b.cols + ") VALUES ")
	for i := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
	}
	return q.String()
}

func (b *bulkInsert) add(vals ...any) error {
	b.args = append(b.args, vals...)
	if len(b.args) < b.n*b.ncol {
		return nil
	}
	_, err := b.full.ExecContext(b.ctx, b.args...)
	b.args = b.args[:0]
	return err
}

func (b *bulkInsert) flush() error {
	if len(b.args) == 0 {
		return nil
	}
	_, err := b.tx.ExecContext(b.ctx, b.query(len(b.args)/b.ncol), b.args...)
	b.args = b.args[:0]
	return err
}

func (b *bulkInsert) close() { b.full.Close() }

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
