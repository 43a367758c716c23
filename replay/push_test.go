package replay_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/projections"
	"github.com/uuchat/groupchat/replay"
)

// TestVerifyWithPushSettings: users' push settings streams share the log
// with the groups; the projector and the rebuild both skip them, so replay
// still equals incremental.
func TestVerifyWithPushSettings(t *testing.T) {
	ctx := context.Background()
	store, _ := storedLog(t, 11, 400)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, user := range []string{"u1@example.org", "u2@example.org"} {
		evs := []domain.Event{
			domain.PushEnabled{User: user, JID: "push.example.org", Node: fmt.Sprint("n", i), IncludeBody: true, At: at},
			domain.NotifyLevelSet{User: user, Group: "g1", Level: domain.NotifyMentions, At: at},
			domain.PushDisabled{User: user, JID: "push.example.org", Reason: domain.DisabledFailing, At: at},
		}
		for v, e := range evs {
			typ, data, err := domain.EncodeEvent(e)
			if err != nil {
				t.Fatal(err)
			}
			expected := eventstore.NoStream()
			if v > 0 {
				expected = eventstore.Exact(uint64(v - 1))
			}
			id := fmt.Sprintf("00000000-0000-7000-8000-%012d", i*10+v)
			if _, err := store.Append(ctx, domain.PushStream(user), expected, eventstore.EventData{ID: id, Type: typ, Data: data}); err != nil {
				t.Fatal(err)
			}
		}
	}
	events := readAll(t, store)

	livePath := filepath.Join(t.TempDir(), "live.db")
	live, err := projections.Open(livePath)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	for i := 0; i < len(events); i += 50 {
		if err := live.Apply(ctx, events[i:min(i+50, len(events))]); err != nil {
			t.Fatal(err)
		}
	}
	diffs, err := replay.Verify(ctx, store, livePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) > 0 {
		t.Fatalf("Verify found differences:\n%s", join(diffs))
	}
}
