package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
)

// Apply applies, in one transaction, every event of events whose Position
// is greater than the checkpoint, and moves the checkpoint to the last of
// them. events must be in position order, as the store returns them.
// Applying events already applied changes nothing, so a subscription may
// deliver an event more than once. On error nothing changes; an error
// matching ErrInvalidEvent means the events themselves cannot be applied.
func (db *DB) Apply(ctx context.Context, events []eventstore.RecordedEvent) error {
	_, err := db.apply(ctx, events)
	return err
}

// apply is Apply, returning the events it applied.
func (db *DB) apply(ctx context.Context, events []eventstore.RecordedEvent) (applied []eventstore.RecordedEvent, err error) {
	for i := 1; i < len(events); i++ {
		if events[i].Position <= events[i-1].Position {
			return nil, fmt.Errorf("%w: position %d follows position %d in one batch", ErrInvalidEvent, events[i].Position, events[i-1].Position)
		}
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if _, _, closed := db.cp.watch(); closed {
		return nil, ErrClosed
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("projections: apply: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	t := &sqlTables{ctx: ctx, tx: tx, ws: &db.ws, cache: db.groups, touched: make(map[string]groupRow), dirty: make(map[string]struct{})}
	var cp int64
	if err := t.stmt(stCheckpoint).QueryRowContext(ctx).Scan(&cp); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("projections: apply: %w", err)
	}
	first := len(events)
	for i, ev := range events {
		if ev.Position > uint64(cp) {
			first = i
			break
		}
	}
	applied = events[first:]
	if len(applied) == 0 {
		tx.Rollback()
		return nil, nil
	}
	decoded := make([]domain.Event, len(applied))
	for i, ev := range applied {
		if decoded[i], err = Decode(ev); err != nil {
			return nil, err
		}
	}
	for i, ev := range applied {
		if err := applyEvent(t, ev, decoded[i]); err != nil {
			return nil, err
		}
	}
	if err := t.flushGroups(); err != nil {
		return nil, err
	}
	last := applied[len(applied)-1].Position
	if err := t.exec(stSetCheckpoint, int64(last)); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("projections: apply: commit: %w", err)
	}
	// Only committed rows enter the cache, so a rolled-back batch leaves
	// nothing behind.
	if len(db.groups)+len(t.touched) > maxCachedGroups {
		clear(db.groups)
	}
	for id, g := range t.touched {
		db.groups[id] = g
	}
	db.cp.publish(last)
	return applied, nil
}

// maxCachedGroups bounds the writer's cache of group rows. Every event reads
// and writes its group's row; the cache saves the read, and the row is
// written once per batch however many of the batch's events touch it.
const maxCachedGroups = 100000

// The writer's statements, prepared once on its only connection.
const (
	stCheckpoint = iota
	stSetCheckpoint
	stGroup
	stInsertGroup
	stUpdateGroup
	stInsertMember
	stInsertSpan
	stInsertCounter
	stDeleteMember
	stDeleteCounter
	stCloseSpan
	stSetRole
	stInsertMessage
	stInsertMention
	stCountUnread
	stCountMention
	stMarkRead
	stInsertNotice
	stInsertRetraction
	numStmts
)

var writeSQL = [numStmts]string{
	stCheckpoint:    `SELECT position FROM checkpoint WHERE id = 1`,
	stSetCheckpoint: `INSERT INTO checkpoint (id, position) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET position = excluded.position`,
	stGroup:         `SELECT name, type, deleted, created_at, updated_at, version, members, owner FROM groups WHERE id = ?`,
	stInsertGroup: `INSERT INTO groups (id, name, type, deleted, created_at, updated_at, version, members, owner)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	stUpdateGroup: `UPDATE groups SET name = ?2, type = ?3, deleted = ?4, created_at = ?5, updated_at = ?6,
		version = ?7, members = ?8, owner = ?9 WHERE id = ?1`,
	stInsertMember: `INSERT INTO members (group_id, jid, mid, nick, role, joined_version, joined_seq, joined_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
	stInsertSpan:    `INSERT INTO spans (group_id, jid, from_version, to_version) VALUES (?, ?, ?, NULL)`,
	stInsertCounter: `INSERT INTO counters (group_id, jid, unread, mentions, read_upto) VALUES (?, ?, 0, 0, ?)`,
	stDeleteMember:  `DELETE FROM members WHERE group_id = ? AND jid = ?`,
	stDeleteCounter: `DELETE FROM counters WHERE group_id = ? AND jid = ?`,
	stCloseSpan:     `UPDATE spans SET to_version = ?3 WHERE group_id = ?1 AND jid = ?2 AND to_version IS NULL`,
	stSetRole:       `UPDATE members SET role = ?3 WHERE group_id = ?1 AND jid = ?2`,
	stInsertMessage: `INSERT INTO messages (group_id, version, client_id, sender, mid, position, at, counted, resend_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	stInsertMention: `INSERT INTO mentions (group_id, jid, version) VALUES (?, ?, ?)`,
	stCountUnread:   `UPDATE counters SET unread = unread + 1 WHERE group_id = ?1 AND jid <> ?2`,
	stCountMention:  `UPDATE counters SET mentions = mentions + 1 WHERE group_id = ?1 AND jid = ?2`,
	// Every SET expression sees the row as it was, so the recount uses the
	// new read-up-to version spelled out as max(read_upto, ?3).
	stMarkRead: `UPDATE counters SET
		read_upto = max(read_upto, ?3),
		unread = (SELECT count(*) FROM messages m
			WHERE m.group_id = ?1 AND m.version > max(counters.read_upto, ?3) AND m.sender <> ?2 AND m.counted),
		mentions = (SELECT count(*) FROM mentions x
			WHERE x.group_id = ?1 AND x.jid = ?2 AND x.version > max(counters.read_upto, ?3))
		WHERE group_id = ?1 AND jid = ?2`,
	stInsertNotice:     `INSERT INTO notices (group_id, position, version, at, kind, receipt_to) VALUES (?, ?, ?, ?, ?, ?)`,
	stInsertRetraction: `INSERT OR IGNORE INTO retractions (group_id, version, retracted_by) VALUES (?, ?, ?)`,
}

type writeStmts [numStmts]*sql.Stmt

func (ws *writeStmts) prepare(db *sql.DB) error {
	for i, q := range writeSQL {
		st, err := db.Prepare(q)
		if err != nil {
			ws.close()
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		ws[i] = st
	}
	return nil
}

func (ws *writeStmts) close() error {
	var errs []error
	for i, st := range ws {
		if st != nil {
			errs = append(errs, st.Close())
			ws[i] = nil
		}
	}
	return errors.Join(errs...)
}

// sqlTables implements tables with SQL statements inside one transaction.
type sqlTables struct {
	ctx context.Context
	tx  *sql.Tx
	ws  *writeStmts
	// cache holds group rows as last committed (read only here); touched
	// holds the rows this transaction read or changed, dirty the ids of
	// those to write back before commit.
	cache   map[string]groupRow
	touched map[string]groupRow
	dirty   map[string]struct{}
	// txs caches the statements bound to tx; binding each once per
	// transaction instead of once per use saves an allocation per row.
	txs [numStmts]*sql.Stmt
}

func (t *sqlTables) stmt(i int) *sql.Stmt {
	if t.txs[i] == nil {
		t.txs[i] = t.tx.StmtContext(t.ctx, t.ws[i])
	}
	return t.txs[i]
}

func (t *sqlTables) exec(i int, args ...any) error {
	_, err := t.stmt(i).ExecContext(t.ctx, args...)
	if err != nil {
		return fmt.Errorf("projections: apply: %w", err)
	}
	return nil
}

func (t *sqlTables) execN(i int, args ...any) (int64, error) {
	res, err := t.stmt(i).ExecContext(t.ctx, args...)
	if err != nil {
		return 0, fmt.Errorf("projections: apply: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("projections: apply: %w", err)
	}
	return n, nil
}

func (t *sqlTables) group(id string) (groupRow, bool, error) {
	if g, ok := t.touched[id]; ok {
		return g, true, nil
	}
	if g, ok := t.cache[id]; ok {
		return g, true, nil
	}
	g := groupRow{ID: id}
	var version int64
	err := t.stmt(stGroup).QueryRowContext(t.ctx, id).Scan(&g.Name, &g.Type, &g.Deleted, &g.CreatedAt, &g.UpdatedAt, &version, &g.Members, &g.Owner)
	if errors.Is(err, sql.ErrNoRows) {
		return groupRow{}, false, nil
	}
	if err != nil {
		return groupRow{}, false, fmt.Errorf("projections: apply: %w", err)
	}
	g.Version = uint64(version)
	t.touched[id] = g
	return g, true, nil
}

func (t *sqlTables) putGroup(g groupRow, isNew bool) error {
	if isNew {
		if err := t.exec(stInsertGroup, g.ID, g.Name, string(g.Type), g.Deleted, g.CreatedAt, g.UpdatedAt, int64(g.Version), g.Members, g.Owner); err != nil {
			return err
		}
	} else {
		t.dirty[g.ID] = struct{}{}
	}
	t.touched[g.ID] = g
	return nil
}

// flushGroups writes the changed group rows.
func (t *sqlTables) flushGroups() error {
	for id := range t.dirty {
		g := t.touched[id]
		if err := t.exec(stUpdateGroup, g.ID, g.Name, string(g.Type), g.Deleted, g.CreatedAt, g.UpdatedAt, int64(g.Version), g.Members, g.Owner); err != nil {
			return err
		}
	}
	return nil
}

func (t *sqlTables) addMember(group string, m memberRow) (bool, error) {
	n, err := t.execN(stInsertMember, group, m.JID, m.MID, m.Nick, string(m.Role), int64(m.JoinedVersion), m.JoinedSeq, m.JoinedAt)
	if err != nil || n == 0 {
		return false, err
	}
	if err := t.exec(stInsertSpan, group, m.JID, int64(m.JoinedVersion)); err != nil {
		return false, err
	}
	return true, t.exec(stInsertCounter, group, m.JID, int64(m.JoinedVersion))
}

func (t *sqlTables) removeMember(group, jid string, end uint64) (bool, error) {
	n, err := t.execN(stDeleteMember, group, jid)
	if err != nil || n == 0 {
		return false, err
	}
	if err := t.exec(stDeleteCounter, group, jid); err != nil {
		return false, err
	}
	return true, t.exec(stCloseSpan, group, jid, int64(end))
}

func (t *sqlTables) setRole(group, jid string, role domain.Role) error {
	return t.exec(stSetRole, group, jid, string(role))
}

func (t *sqlTables) addMessage(group string, m messageRow, mentions []string) error {
	if err := t.exec(stInsertMessage, group, int64(m.Version), m.ClientID, m.Sender, m.MID, int64(m.Position), m.At, m.Counted, nullable(m.ResendKey)); err != nil {
		return err
	}
	if !m.Counted {
		return nil
	}
	if err := t.exec(stCountUnread, group, m.Sender); err != nil {
		return err
	}
	for _, j := range mentions {
		if err := t.exec(stInsertMention, group, j, int64(m.Version)); err != nil {
			return err
		}
		if err := t.exec(stCountMention, group, j); err != nil {
			return err
		}
	}
	return nil
}

func (t *sqlTables) markRead(group, jid string, upto uint64) error {
	return t.exec(stMarkRead, group, jid, int64(upto))
}

func (t *sqlTables) addNotice(group string, r noticeRow) error {
	var to any
	if r.ReceiptTo != "" {
		to = r.ReceiptTo
	}
	return t.exec(stInsertNotice, group, int64(r.Position), int64(r.Version), r.At, r.Kind, to)
}

func (t *sqlTables) addRetraction(group string, r retractionRow) error {
	return t.exec(stInsertRetraction, group, int64(r.Version), int64(r.RetractedBy))
}

// nullable is NULL for "", else s.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
