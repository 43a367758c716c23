package domain_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/uuchat/groupchat/domain"
)

// TestASnapshotRestoresTheGroup: a group restored from a snapshot taken
// at any point decides every later command as the group folded from its
// events does, and its snapshots stay equal.
func TestASnapshotRestoresTheGroup(t *testing.T) {
	lim := domain.DefaultLimits()
	lim.DedupWindow = 3
	history := []domain.Command{
		createTeam(),
		domain.PostMessage{Sender: alice, ID: "m1", Body: "1"},
		domain.AddMembers{By: owner, Members: []domain.Member{{JID: carol, MID: "cc", Nick: "Carol"}}},
		domain.PostMessage{Sender: carol, OriginID: "o2", ID: "m2", Body: "2"},
		domain.UpdateGroup{By: owner, Name: "Renamed"},
		domain.PostMessage{Sender: alice, ID: "m3", Body: "3"},
		domain.PostMessage{Sender: alice, ID: "m4", Body: "4"},
		domain.RemoveMembers{By: owner, Members: []domain.MemberSelector{{JID: carol}}},
		domain.PostMessage{Sender: alice, ID: "m5", Body: "5"},
		domain.MarkRead{Reader: alice},
	}
	// What is decided after the snapshot: resends old and new, a newcomer
	// whose mid the removed member had, a message.
	later := []domain.Command{
		domain.PostMessage{Sender: alice, ID: "m5", Body: "5"},
		domain.PostMessage{Sender: alice, ID: "m1", Body: "1"},
		domain.AddMembers{By: owner, Members: []domain.Member{{JID: "dave@example.org", MID: "cc"}}},
		domain.PostMessage{Sender: "dave@example.org", ID: "c1", Body: "hi"},
		domain.PostMessage{Sender: carol, OriginID: "o2", ID: "m2", Body: "2"},
		domain.PostMessage{Sender: alice, ID: "m6", Body: "6"},
	}
	for cut := 1; cut <= len(history); cut++ {
		t.Run(fmt.Sprintf("after %d commands", cut), func(t *testing.T) {
			folded := build(t, lim, history[:cut]...)
			data, err := folded.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			restored, err := domain.RestoreGroup(lim, data)
			if err != nil {
				t.Fatal(err)
			}
			for i, cmd := range append(history[cut:], later...) {
				a, errA := domain.Decide(folded, cmd, now, lim)
				b, errB := domain.Decide(restored, cmd, now, lim)
				if !reflect.DeepEqual(a, b) || fmt.Sprint(errA) != fmt.Sprint(errB) {
					t.Fatalf("command %d %T: folded decides %+v, %v; restored %+v, %v", i, cmd, a, errA, b, errB)
				}
				for _, e := range a.Events {
					folded.Apply(e)
					restored.Apply(e)
				}
			}
			x, _ := folded.Snapshot()
			y, _ := restored.Snapshot()
			if !bytes.Equal(x, y) {
				t.Errorf("snapshots differ after the same commands:\n folded   %s\n restored %s", x, y)
			}
		})
	}
}

func TestASnapshotOfAnotherFormatIsRefused(t *testing.T) {
	for _, data := range []string{`{"format":2,"id":"g"}`, `{"format":1`, `[]`} {
		if _, err := domain.RestoreGroup(domain.DefaultLimits(), []byte(data)); err == nil {
			t.Errorf("RestoreGroup(%s) accepted it", data)
		}
	}
}
