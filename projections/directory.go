package projections

import (
	"context"
	"database/sql"
	"errors"
)

// ListGroups returns up to limit groups, live ones only, the most recently
// changed first: the directory an operator's view shows.
func (db *DB) ListGroups(ctx context.Context, limit int) ([]GroupInfo, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+groupCols+` FROM groups
		WHERE deleted = 0 ORDER BY updated_at DESC, id LIMIT ?`, limit)
	if err != nil {
		return nil, db.queryErr("list of groups", err)
	}
	defer rows.Close()
	var out []GroupInfo
	for rows.Next() {
		g, _, err := scanGroup(rows)
		if err != nil {
			return nil, db.queryErr("list of groups", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, db.queryErr("list of groups", err)
	}
	return out, nil
}

// CountGroups is the number of live groups.
func (db *DB) CountGroups(ctx context.Context) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM groups WHERE deleted = 0`).Scan(&n); err != nil {
		return 0, db.queryErr("count of groups", err)
	}
	return n, nil
}

// rowScanner is what scanGroup reads from: one *sql.Row or the current row
// of *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// IsMember reports whether jid is a member of some live group.
func (db *DB) IsMember(ctx context.Context, jid string) (bool, error) {
	var one int
	err := db.r.QueryRowContext(ctx, `SELECT 1 FROM members m INDEXED BY members_jid
		JOIN groups g ON g.id = m.group_id WHERE m.jid = ? AND g.deleted = 0 LIMIT 1`, jid).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, db.queryErr("membership", err)
	}
	return true, nil
}
