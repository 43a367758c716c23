package projections

// schemaVersion is stored in PRAGMA user_version. A file with another
// version is refused rather than migrated (the database is disposable and a
// rebuild from the log is the migration), except from versions 2 and 3:
// version 2 lacked only the retractions table and whether a message counts
// (no event before version 3 retracted anything, and every message then
// counted); version 3 lacked only a message's resend key, which its rows
// then take to be their client id (a resend by an origin-id that differed
// from its stanza id is recognised from the upgrade on).
const schemaVersion = 4

// retractionsDDL is the table version 3 added: which message each
// retraction withdrew.
const retractionsDDL = `
CREATE TABLE IF NOT EXISTS retractions (
	group_id     TEXT    NOT NULL,
	version      INTEGER NOT NULL,
	retracted_by INTEGER NOT NULL,
	PRIMARY KEY (group_id, version)
) WITHOUT ROWID;
`

// addedInVersion3 turns a version 2 file into a version 3 one.
const addedInVersion3 = retractionsDDL + `
ALTER TABLE messages ADD COLUMN counted INTEGER NOT NULL DEFAULT 1;
`

// addedInVersion4 turns a version 3 file into a version 4 one.
const addedInVersion4 = `
ALTER TABLE messages ADD COLUMN resend_key TEXT;
`

// The tables are WITHOUT ROWID with their natural keys as primary keys, so a
// lookup by key reads one B-tree and a bulk load in key order only appends.
// Times are Unix nanoseconds (UTC); versions are stream versions; positions
// are global log positions.
const tablesDDL = `
CREATE TABLE IF NOT EXISTS groups (
	id         TEXT    NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL,
	type       TEXT    NOT NULL,
	deleted    INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version    INTEGER NOT NULL,
	members    INTEGER NOT NULL,
	owner      TEXT    NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members (
	group_id       TEXT    NOT NULL,
	jid            TEXT    NOT NULL,
	mid            TEXT    NOT NULL,
	nick           TEXT    NOT NULL,
	role           TEXT    NOT NULL,
	joined_version INTEGER NOT NULL,
	joined_seq     INTEGER NOT NULL,
	joined_at      INTEGER NOT NULL,
	PRIMARY KEY (group_id, jid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS spans (
	group_id     TEXT    NOT NULL,
	jid          TEXT    NOT NULL,
	from_version INTEGER NOT NULL,
	to_version   INTEGER,
	PRIMARY KEY (group_id, jid, from_version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
	group_id  TEXT    NOT NULL,
	jid       TEXT    NOT NULL,
	unread    INTEGER NOT NULL,
	mentions  INTEGER NOT NULL,
	read_upto INTEGER NOT NULL,
	PRIMARY KEY (group_id, jid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
	group_id  TEXT    NOT NULL,
	version   INTEGER NOT NULL,
	client_id TEXT    NOT NULL,
	sender    TEXT    NOT NULL,
	mid       TEXT    NOT NULL,
	position  INTEGER NOT NULL,
	at        INTEGER NOT NULL,
	counted   INTEGER NOT NULL,
	-- resend_key is the XEP-0359 origin-id when the message has one that
	-- is not its client id (domain.ResendKey); NULL otherwise.
	resend_key TEXT,
	PRIMARY KEY (group_id, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mentions (
	group_id TEXT    NOT NULL,
	jid      TEXT    NOT NULL,
	version  INTEGER NOT NULL,
	PRIMARY KEY (group_id, jid, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS notices (
	group_id   TEXT    NOT NULL,
	position   INTEGER NOT NULL,
	version    INTEGER NOT NULL,
	at         INTEGER NOT NULL,
	kind       TEXT    NOT NULL,
	receipt_to TEXT,
	PRIMARY KEY (group_id, position)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoint (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	position INTEGER NOT NULL
);
` + retractionsDDL

// indexesDDL is kept apart from the tables so that a bulk load can create
// the indexes once, after the rows are in, which sorts once instead of
// updating a B-tree in random order per row.
//
// messages_client_id serves both lookups a message id needs: by (group,
// client id) for a read receipt naming a message, and by (group, client id,
// sender) for a sender's resend, the leading columns being shared.
// messages_resend_key finds a resend by an origin-id that is not the
// message's client id; it holds only such messages (most clients make the
// two equal). messages_position finds a message by its archive id and pages a group's
// messages by position. notices_change finds a group's change before a
// position without walking the read receipts in between.
const indexesDDL = `
CREATE INDEX IF NOT EXISTS groups_name ON groups (name, created_at);
CREATE INDEX IF NOT EXISTS members_jid ON members (jid);
CREATE INDEX IF NOT EXISTS spans_jid ON spans (jid);
CREATE INDEX IF NOT EXISTS messages_client_id ON messages (group_id, client_id, sender);
CREATE INDEX IF NOT EXISTS messages_position ON messages (group_id, position);
CREATE INDEX IF NOT EXISTS messages_resend_key ON messages (group_id, resend_key, sender) WHERE resend_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS notices_change ON notices (group_id, kind, position);
`

// tableKeys lists every table with its key columns (first) and the other
// columns, in the order Dump prints them.
var tableKeys = []struct {
	name string
	keys []string
	cols []string
}{
	{"groups", []string{"id"}, []string{"name", "type", "deleted", "created_at", "updated_at", "version", "members", "owner"}},
	{"members", []string{"group_id", "jid"}, []string{"mid", "nick", "role", "joined_version", "joined_seq", "joined_at"}},
	{"spans", []string{"group_id", "jid", "from_version"}, []string{"to_version"}},
	{"counters", []string{"group_id", "jid"}, []string{"unread", "mentions", "read_upto"}},
	{"messages", []string{"group_id", "version"}, []string{"client_id", "sender", "mid", "position", "at", "counted", "resend_key"}},
	{"mentions", []string{"group_id", "jid", "version"}, nil},
	{"notices", []string{"group_id", "position"}, []string{"version", "at", "kind", "receipt_to"}},
	{"retractions", []string{"group_id", "version"}, []string{"retracted_by"}},
	{"checkpoint", []string{"id"}, []string{"position"}},
}
