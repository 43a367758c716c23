package projections

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uuchat/groupchat/domain"
)

// GroupItem is one group in a user's list of groups (the #items reply).
type GroupItem struct {
	ID, Name string
	Type     domain.GroupType
	// Members is the number of members.
	Members int
	// Role is the user's role in the group.
	Role domain.Role
	// Unread and Mentions are the user's counters: messages of others, and
	// mentions of the user, after what it has read.
	Unread, Mentions int
	// Version is the group's last stream version, where catch-up starts
	// comparing.
	Version uint64
}

// GroupInfo is a group's directory entry.
type GroupInfo struct {
	ID, Name string
	Type     domain.GroupType
	// Deleted groups keep their entry for audit; they are left out of
	// GroupsOf and GroupByName.
	Deleted              bool
	CreatedAt, UpdatedAt time.Time
	// Version is the group's last stream version.
	Version uint64
	Members int
	// Owner is the owner's bare JID.
	Owner string
}

// Counters are one member's counters in one group.
type Counters struct {
	Unread, Mentions int
	// ReadUpto is the version up to which the member has read; a new
	// member starts at the version that added it.
	ReadUpto uint64
}

// Span is a stretch of a group's stream during which a bare JID was a
// member: versions From (the event that added it) up to To, exclusive (the
// event after the one that removed it, so the member sees its removal). To
// is 0 while the JID is still a member.
type Span struct {
	From, To uint64
}

// Current reports whether the span is still open.
func (s Span) Current() bool { return s.To == 0 }

// Contains reports whether the event at version v falls in the span: what
// history and catch-up may show the member.
func (s Span) Contains(v uint64) bool { return v >= s.From && (s.To == 0 || v < s.To) }

func (db *DB) queryErr(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if _, _, closed := db.cp.watch(); closed {
		return ErrClosed
	}
	return fmt.Errorf("projections: %s: %w", op, err)
}

// GroupsOf lists the live groups jid is a member of, by group id, with its
// role and counters.
func (db *DB) GroupsOf(ctx context.Context, jid string) ([]GroupItem, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT g.id, g.name, g.type, g.members, g.version, m.role,
			coalesce(c.unread, 0), coalesce(c.mentions, 0)
		FROM members m
		JOIN groups g ON g.id = m.group_id
		LEFT JOIN counters c ON c.group_id = m.group_id AND c.jid = m.jid
		WHERE m.jid = ? AND g.deleted = 0
		ORDER BY g.id`, jid)
	if err != nil {
		return nil, db.queryErr("groups of "+jid, err)
	}
	defer rows.Close()
	var out []GroupItem
	for rows.Next() {
		var it GroupItem
		var version int64
		if err := rows.Scan(&it.ID, &it.Name, &it.Type, &it.Members, &version, &it.Role, &it.Unread, &it.Mentions); err != nil {
			return nil, db.queryErr("groups of "+jid, err)
		}
		it.Version = uint64(version)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, db.queryErr("groups of "+jid, err)
	}
	return out, nil
}

const groupCols = `id, name, type, deleted, created_at, updated_at, version, members, owner`

func scanGroup(row rowScanner) (GroupInfo, bool, error) {
	var g GroupInfo
	var created, updated, version int64
	err := row.Scan(&g.ID, &g.Name, &g.Type, &g.Deleted, &created, &updated, &version, &g.Members, &g.Owner)
	if errors.Is(err, sql.ErrNoRows) {
		return GroupInfo{}, false, nil
	}
	if err != nil {
		return GroupInfo{}, false, err
	}
	g.CreatedAt, g.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	g.Version = uint64(version)
	return g, true, nil
}

// Group returns a group's entry, deleted groups included (see
// GroupInfo.Deleted). ok is false for a group never created.
func (db *DB) Group(ctx context.Context, id string) (g GroupInfo, ok bool, err error) {
	g, ok, err = scanGroup(db.r.QueryRowContext(ctx, `SELECT `+groupCols+` FROM groups WHERE id = ?`, id))
	if err != nil {
		return GroupInfo{}, false, db.queryErr("group "+id, err)
	}
	return g, ok, nil
}

// GroupByName returns the oldest live group with exactly that name: names
// are not unique, and the oldest is the one a name search has always
// answered with.
func (db *DB) GroupByName(ctx context.Context, name string) (g GroupInfo, ok bool, err error) {
	g, ok, err = scanGroup(db.r.QueryRowContext(ctx, `SELECT `+groupCols+` FROM groups
		WHERE name = ? AND deleted = 0 ORDER BY created_at, id LIMIT 1`, name))
	if err != nil {
		return GroupInfo{}, false, db.queryErr("group named "+name, err)
	}
	return g, ok, nil
}

// Members returns a group's members in the order they joined. A deleted
// group answers with its members at deletion.
func (db *DB) Members(ctx context.Context, id string) ([]domain.Member, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT jid, mid, nick, role FROM members
		WHERE group_id = ? ORDER BY joined_version, joined_seq`, id)
	if err != nil {
		return nil, db.queryErr("members of "+id, err)
	}
	defer rows.Close()
	var out []domain.Member
	for rows.Next() {
		var m domain.Member
		if err := rows.Scan(&m.JID, &m.MID, &m.Nick, &m.Role); err != nil {
			return nil, db.queryErr("members of "+id, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, db.queryErr("members of "+id, err)
	}
	return out, nil
}

// Counters returns jid's counters in a group; ok is false when jid is not a
// member.
func (db *DB) Counters(ctx context.Context, group, jid string) (c Counters, ok bool, err error) {
	var upto int64
	err = db.r.QueryRowContext(ctx, `SELECT unread, mentions, read_upto FROM counters
		WHERE group_id = ? AND jid = ?`, group, jid).Scan(&c.Unread, &c.Mentions, &upto)
	if errors.Is(err, sql.ErrNoRows) {
		return Counters{}, false, nil
	}
	if err != nil {
		return Counters{}, false, db.queryErr("counters", err)
	}
	c.ReadUpto = uint64(upto)
	return c, true, nil
}

// ReadBy returns the members of a group, other than the message's sender,
// who have read the message at version: the "who read my message"
// aggregate, from the read-up-to versions.
func (db *DB) ReadBy(ctx context.Context, group string, version uint64) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT c.jid FROM counters c
		LEFT JOIN messages m ON m.group_id = c.group_id AND m.version = ?2
		WHERE c.group_id = ?1 AND c.read_upto >= ?2 AND c.jid IS NOT m.sender
		ORDER BY c.jid`, group, int64(version))
	if err != nil {
		return nil, db.queryErr("readers", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var jid string
		if err := rows.Scan(&jid); err != nil {
			return nil, db.queryErr("readers", err)
		}
		out = append(out, jid)
	}
	if err := rows.Err(); err != nil {
		return nil, db.queryErr("readers", err)
	}
	return out, nil
}

// MessageByID returns the earliest message of a group that its sender's
// client gave the id clientID, among those sender posted unless sender is
// empty, with its global position. Client ids are not unique: the earliest
// is the one another member cannot take over, since it can only reuse an id
// it has seen.
func (db *DB) MessageByID(ctx context.Context, group, sender, clientID string) (ref domain.MessageRef, position uint64, ok bool, err error) {
	if clientID == "" {
		return domain.MessageRef{}, 0, false, nil
	}
	if sender != "" {
		return db.message(ctx, `SELECT client_id, version, sender, position FROM messages INDEXED BY messages_client_id
			WHERE group_id = ? AND client_id = ? AND sender = ? ORDER BY version LIMIT 1`, group, clientID, sender)
	}
	return db.message(ctx, `SELECT client_id, version, sender, position FROM messages INDEXED BY messages_client_id
		WHERE group_id = ? AND client_id = ? ORDER BY version LIMIT 1`, group, clientID)
}

// MessageResent returns the newest message sender posted to a group
// whose resend key (domain.ResendKey: its origin-id, or else its id) is
// key: a resend, recognised after the domain's window has passed.
func (db *DB) MessageResent(ctx context.Context, group, sender, key string) (ref domain.MessageRef, position uint64, ok bool, err error) {
	if key == "" {
		return domain.MessageRef{}, 0, false, nil
	}
	// Two lookups, each on its own index: a message whose key is its
	// client id, and one whose key is a different origin-id. The indexes
	// are named: SQLite would otherwise walk the group's messages newest
	// first to satisfy the ORDER BY, a cost that grows with the group.
	ref, pos, ok, err := db.message(ctx, `SELECT client_id, version, sender, position FROM messages INDEXED BY messages_client_id
		WHERE group_id = ? AND client_id = ? AND sender = ? AND resend_key IS NULL ORDER BY version DESC LIMIT 1`, group, key, sender)
	if err != nil {
		return ref, pos, ok, err
	}
	other, opos, found, err := db.message(ctx, `SELECT client_id, version, sender, position FROM messages INDEXED BY messages_resend_key
		WHERE group_id = ? AND resend_key = ? AND sender = ? ORDER BY version DESC LIMIT 1`, group, key, sender)
	if err != nil || !found || (ok && ref.Version > other.Version) {
		return ref, pos, ok, err
	}
	return other, opos, true, nil
}

// MessageByVersion returns the message at an archive version of a group,
// with its global position; ok is false if that version is not a message.
func (db *DB) MessageByVersion(ctx context.Context, group string, version uint64) (ref domain.MessageRef, position uint64, ok bool, err error) {
	return db.message(ctx, `SELECT client_id, version, sender, position FROM messages
		WHERE group_id = ? AND version = ?`, group, int64(version))
}

func (db *DB) message(ctx context.Context, q string, args ...any) (domain.MessageRef, uint64, bool, error) {
	var ref domain.MessageRef
	var version, pos int64
	err := db.r.QueryRowContext(ctx, q, args...).Scan(&ref.ID, &version, &ref.Sender, &pos)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.MessageRef{}, 0, false, nil
	}
	if err != nil {
		return domain.MessageRef{}, 0, false, db.queryErr("message", err)
	}
	ref.Version = uint64(version)
	return ref, uint64(pos), true, nil
}

// Spans returns the stretches of a group's stream during which jid was a
// member, oldest first; a member removed and added again has one per
// membership.
func (db *DB) Spans(ctx context.Context, group, jid string) ([]Span, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT from_version, coalesce(to_version, 0) FROM spans
		WHERE group_id = ? AND jid = ? ORDER BY from_version`, group, jid)
	if err != nil {
		return nil, db.queryErr("spans", err)
	}
	defer rows.Close()
	var out []Span
	for rows.Next() {
		var from, to int64
		if err := rows.Scan(&from, &to); err != nil {
			return nil, db.queryErr("spans", err)
		}
		out = append(out, Span{From: uint64(from), To: uint64(to)})
	}
	if err := rows.Err(); err != nil {
		return nil, db.queryErr("spans", err)
	}
	return out, nil
}

// MessageByPosition returns the message of a group at a global position,
// the archive id clients see; ok is false if no message of the group is
// there.
func (db *DB) MessageByPosition(ctx context.Context, group string, position uint64) (ref domain.MessageRef, pos uint64, ok bool, err error) {
	return db.message(ctx, `SELECT client_id, version, sender, position FROM messages
		WHERE group_id = ? AND position = ?`, group, int64(position))
}

// PreviousChange returns the position of a group's last change (its
// creation, an update, a deletion, an addition or a removal) before
// position; 0 when there is none.
func (db *DB) PreviousChange(ctx context.Context, group string, position uint64) (uint64, error) {
	var pos int64
	err := db.r.QueryRowContext(ctx, `SELECT position FROM notices
		WHERE group_id = ? AND kind = '`+kindChange+`' AND position < ?
		ORDER BY position DESC LIMIT 1`, group, int64(position)).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, db.queryErr("previous change", err)
	}
	return uint64(pos), nil
}

// TimelineQuery selects the events a user may be shown, for catch-up and
// archive queries. History follows membership: only events within the
// user's membership spans, and of read receipts only those addressed to the
// user (the sender of the message read).
type TimelineQuery struct {
	// JID is the bare JID whose view is asked for.
	JID string
	// Group limits the query to one group ("" is every group JID was ever
	// a member of).
	Group string
	// MessagesOnly keeps only messages (archive queries).
	MessagesOnly bool
	// After and Before bound the range's positions, exclusive (0 is open).
	After, Before uint64
	// Start and End bound the events' time, inclusive (zero is open).
	Start, End time.Time
	// Sender keeps the messages of one member (a bare JID), and SenderMID
	// those sent as one member id; either keeps messages only.
	Sender, SenderMID string
	// Positions keeps only the events at these positions (nil: no filter).
	Positions []uint64
	// PageAfter and PageBefore place the page within the range: it starts
	// after PageAfter, or ends before PageBefore (0: not given). They do
	// not change the range, so the count and index stay those of the
	// range (XEP-0059's count and index).
	PageAfter, PageBefore uint64
	// Max is the page size (0 or less: no limit); Last takes the last Max
	// events of the range instead of the first.
	Max  int
	Last bool
	// CountUpTo, if positive, stops counting the range there: a range
	// holding more has no Count or Index (both -1), so that a page of a
	// long archive costs what a page of a short one does.
	CountUpTo int
}

// TimelineEntry locates one event of a timeline in the log.
type TimelineEntry struct {
	Group             string
	Version, Position uint64
	// RetractedBy is the version of the event that withdrew this message
	// (0: it stands).
	RetractedBy uint64
}

// TimelinePage is a page of a timeline: its events, how many the whole
// range holds, and how many of those come before the page's first (-1
// when not counted, see CountUpTo); More tells whether the range holds
// events beyond the page in the direction of paging.
type TimelinePage struct {
	Entries      []TimelineEntry
	Count, Index int
	More         bool
}

// Timeline returns a page of the events q selects, in position order, and
// where it lies in the range. Page and counts are read in one transaction,
// so they agree.
func (db *DB) Timeline(ctx context.Context, q TimelineQuery) (TimelinePage, error) {
	// The same conditions select from messages and from notices: within
	// one of the user's spans, and within the range asked for.
	cond := []string{
		"s.jid = ?",
		"x.version >= s.from_version",
		"(s.to_version IS NULL OR x.version < s.to_version)",
	}
	condArgs := []any{q.JID}
	if q.Group != "" {
		cond = append(cond, "s.group_id = ?")
		condArgs = append(condArgs, q.Group)
	}
	cond, condArgs = rangeConds(q, cond, condArgs)
	where := strings.Join(cond, " AND ")
	// A withdrawn message carries the version of the retraction, which
	// history shows as a tombstone in its place.
	union := `SELECT x.group_id, x.version, x.position, coalesce(r.retracted_by, 0) AS retracted_by
		FROM spans s JOIN messages x ON x.group_id = s.group_id
		LEFT JOIN retractions r ON r.group_id = x.group_id AND r.version = x.version WHERE ` + where
	args := slices.Clone(condArgs)
	notices := `SELECT x.group_id, x.version, x.position, 0 FROM spans s JOIN notices x ON x.group_id = s.group_id WHERE ` + where
	switch {
	case q.Sender != "" || q.SenderMID != "":
		union, args = senderConds(q, union, args)
	case q.MessagesOnly:
		// Retractions are archived with the messages (XEP-0424).
		union += " UNION ALL " + notices + " AND x.kind = '" + kindRetract + "'"
		args = append(args, condArgs...)
	default:
		union += " UNION ALL " + notices + " AND (x.kind <> 'read' OR x.receipt_to = ?)"
		args = append(append(args, condArgs...), q.JID)
	}

	tx, err := db.r.BeginTx(ctx, nil)
	if err != nil {
		return TimelinePage{}, db.queryErr("timeline", err)
	}
	defer tx.Rollback()
	var page TimelinePage
	counted := `SELECT count(*) FROM (` + union + `)`
	if q.CountUpTo > 0 {
		counted = `SELECT count(*) FROM (SELECT 1 FROM (` + union + `) LIMIT ` + strconv.Itoa(q.CountUpTo+1) + `)`
	}
	if err := tx.QueryRowContext(ctx, counted, args...).Scan(&page.Count); err != nil {
		return TimelinePage{}, db.queryErr("timeline", err)
	}
	if q.CountUpTo > 0 && page.Count > q.CountUpTo {
		page.Count, page.Index = -1, -1
	}
	order := " ORDER BY position"
	if q.Last {
		order += " DESC"
	}
	limit := ""
	if q.Max > 0 {
		// One more than the page: whether the range goes on.
		limit = " LIMIT " + strconv.Itoa(q.Max+1)
	}
	pageCond, pageArgs := " AND x.position > ?", []any{int64(q.PageAfter)}
	if q.PageBefore > 0 {
		pageCond += " AND x.position < ?"
		pageArgs = append(pageArgs, int64(q.PageBefore))
	}
	if q.Group != "" {
		// One group: each kind of event is read from its own index in
		// the order of the page and merged, so that a page costs its
		// length, not the archive's.
		page.Entries, err = groupPage(ctx, tx, q, pageCond, pageArgs, order, limit)
	} else {
		sel := `SELECT group_id, version, position, retracted_by FROM (` + union + `) x WHERE 1` + pageCond + order + limit
		page.Entries, err = timelineEntries(ctx, tx, sel, append(slices.Clone(args), pageArgs...)...)
	}
	if err != nil {
		return TimelinePage{}, db.queryErr("timeline", err)
	}
	if q.Max > 0 && len(page.Entries) > q.Max {
		page.Entries, page.More = page.Entries[:q.Max], true
	}
	if q.Last {
		slices.Reverse(page.Entries)
	}
	switch {
	case page.Count < 0:
	case len(page.Entries) > 0 && (q.PageAfter > 0 || q.Last):
		err = tx.QueryRowContext(ctx, `SELECT count(*) FROM (`+union+`) WHERE position < ?`,
			append(slices.Clone(args), int64(page.Entries[0].Position))...).Scan(&page.Index)
	case len(page.Entries) == 0 && q.PageAfter > 0:
		page.Index = page.Count
	}
	if err != nil {
		return TimelinePage{}, db.queryErr("timeline", err)
	}
	return page, nil
}

// groupPage reads a page of one group's timeline: the messages (newest or
// oldest first, along messages_position) and the notices (along their key)
// the user may see, each up to the page's limit, merged by position.
func groupPage(ctx context.Context, tx *sql.Tx, q TimelineQuery, pageCond string, pageArgs []any, order, limit string) ([]TimelineEntry, error) {
	cond, args := rangeConds(q, nil, []any{q.Group})
	cond = append(cond, `EXISTS (SELECT 1 FROM spans s WHERE s.group_id = x.group_id AND s.jid = ?
		AND x.version >= s.from_version AND (s.to_version IS NULL OR x.version < s.to_version))`)
	args = append(args, q.JID)
	where := " WHERE x.group_id = ? AND " + strings.Join(cond, " AND ") + pageCond
	args = append(args, pageArgs...)

	msgWhere, msgArgs := senderConds(q, where, slices.Clone(args))
	out, err := timelineEntries(ctx, tx, `SELECT x.group_id, x.version, x.position, coalesce(r.retracted_by, 0) AS retracted_by
		FROM messages x INDEXED BY messages_position
		LEFT JOIN retractions r ON r.group_id = x.group_id AND r.version = x.version`+msgWhere+order+limit, msgArgs...)
	if err != nil || q.Sender != "" || q.SenderMID != "" {
		return out, err
	}
	noticeWhere, noticeArgs := where, slices.Clone(args)
	if q.MessagesOnly {
		// Retractions are archived with the messages (XEP-0424).
		noticeWhere += " AND x.kind = '" + kindRetract + "'"
	} else {
		noticeWhere += " AND (x.kind <> 'read' OR x.receipt_to = ?)"
		noticeArgs = append(noticeArgs, q.JID)
	}
	notices, err := timelineEntries(ctx, tx, `SELECT x.group_id, x.version, x.position, 0 FROM notices x`+noticeWhere+order+limit, noticeArgs...)
	if err != nil {
		return nil, err
	}
	merged := append(out, notices...)
	slices.SortFunc(merged, func(a, b TimelineEntry) int {
		if q.Last {
			return cmp.Compare(b.Position, a.Position)
		}
		return cmp.Compare(a.Position, b.Position)
	})
	return merged, nil
}

// timelineEntries runs a query of (group, version, position, retracted
// by) rows.
func timelineEntries(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]TimelineEntry, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TimelineEntry
	for rows.Next() {
		var e TimelineEntry
		var version, pos, retractedBy int64
		if err := rows.Scan(&e.Group, &version, &pos, &retractedBy); err != nil {
			return nil, err
		}
		e.Version, e.Position, e.RetractedBy = uint64(version), uint64(pos), uint64(retractedBy)
		out = append(out, e)
	}
	return out, rows.Err()
}

// rangeConds appends the conditions on an event x of the range q asks for
// (positions, times, archive ids), and their arguments.
func rangeConds(q TimelineQuery, cond []string, args []any) ([]string, []any) {
	cond = append(cond, "x.position > ?")
	args = append(args, int64(q.After))
	if q.Before > 0 {
		cond = append(cond, "x.position < ?")
		args = append(args, int64(q.Before))
	}
	if !q.Start.IsZero() {
		cond = append(cond, "x.at >= ?")
		args = append(args, q.Start.UnixNano())
	}
	if !q.End.IsZero() {
		cond = append(cond, "x.at <= ?")
		args = append(args, q.End.UnixNano())
	}
	if q.Positions != nil {
		marks := strings.TrimSuffix(strings.Repeat("?,", len(q.Positions)), ",")
		if len(q.Positions) == 0 {
			marks = "NULL"
		}
		cond = append(cond, "x.position IN ("+marks+")")
		for _, p := range q.Positions {
			args = append(args, int64(p))
		}
	}
	return cond, args
}

// senderConds appends to a query the conditions on a message x's
// publisher (a bare JID, a member id) that q asks for, and their
// arguments.
func senderConds(q TimelineQuery, query string, args []any) (string, []any) {
	if q.Sender != "" {
		query += " AND x.sender = ?"
		args = append(args, q.Sender)
	}
	if q.SenderMID != "" {
		query += " AND x.mid = ?"
		args = append(args, q.SenderMID)
	}
	return query, args
}
