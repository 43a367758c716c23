package projections_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/projections"
	"github.com/uuchat/groupchat/projections/projectionstest"
)

// TestVersion3FilesGainTheResendKey: a file of schema version 3 (messages
// without a resend key) is brought up to date on open; its messages are
// found by their client id, and messages applied afterwards by a
// different origin-id as well.
func TestVersion3FilesGainTheResendKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "projections.db")
	l := projectionstest.NewLog()
	alice := domain.Member{JID: "alice@example.org", MID: "alice"}
	l.Must(t, "g", domain.CreateGroup{GroupID: "g", Name: "G", Type: domain.TypeCustomized, Creator: alice})
	l.Must(t, "g", domain.PostMessage{Sender: alice.JID, ID: "old", OriginID: "old-origin", Body: "before"})
	db, err := projections.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, db, l.Events)
	db.Close()
	// Make it the file version 3 wrote.
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`DROP INDEX messages_resend_key; ALTER TABLE messages DROP COLUMN resend_key; PRAGMA user_version = 3;`); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err = projections.Open(path)
	if err != nil {
		t.Fatalf("opening a version 3 file: %v", err)
	}
	defer db.Close()
	n := len(l.Events)
	l.Must(t, "g", domain.PostMessage{Sender: alice.JID, ID: "new", OriginID: "new-origin", Body: "after"})
	apply(t, db, l.Events[n:])
	for _, c := range []struct {
		key     string
		version uint64
		found   bool
	}{
		{"old", 1, true},         // stored before: its client id stands for its key
		{"new-origin", 2, true},  // stored after: its origin-id
		{"new", 0, false},        // its key is the origin-id, not the client id
		{"old-origin", 0, false}, // not known before the upgrade
	} {
		ref, _, ok, err := db.MessageResent(ctx, "g", alice.JID, c.key)
		if err != nil || ok != c.found || (ok && ref.Version != c.version) {
			t.Errorf("MessageResent(%q) = %+v, %v, %v; want version %d, %v", c.key, ref, ok, err, c.version, c.found)
		}
	}
}
