package projections

import "context"

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

// MemberCounts is how many live groups each user is a member of, for
// everyone who is a member of one: who is online for broadcasts.
func (db *DB) MemberCounts(ctx context.Context) (map[string]int, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT m.jid, COUNT(*) FROM members m
		JOIN groups g ON g.id = m.group_id WHERE g.deleted = 0 GROUP BY m.jid`)
	if err != nil {
		return nil, db.queryErr("member counts", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var jid string
		var n int
		if err := rows.Scan(&jid, &n); err != nil {
			return nil, db.queryErr("member counts", err)
		}
		out[jid] = n
	}
	if err := rows.Err(); err != nil {
		return nil, db.queryErr("member counts", err)
	}
	return out, nil
}
