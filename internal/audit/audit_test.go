package audit_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore/sqlite"
	"github.com/uuchat/groupchat/internal/audit"
	"github.com/uuchat/groupchat/projections/projectionstest"
)

func TestTrail(t *testing.T) {
	alice := domain.Member{JID: "alice@example.org", MID: "alice"}
	bob := domain.Member{JID: "bob@example.org", MID: "bob"}
	carol := domain.Member{JID: "carol@example.org", MID: "carol"}
	l := projectionstest.NewLog()
	for _, c := range []struct {
		group string
		cmd   domain.Command
	}{
		{"g", domain.CreateGroup{GroupID: "g", Name: "G", Type: domain.TypeCustomized, Creator: alice, Members: []domain.Member{bob}}},
		{"g", domain.PostMessage{Sender: alice.JID, ID: "m1", Body: "not a change"}},
		{"g", domain.AddMembers{By: alice.JID, Members: []domain.Member{carol}}},
		{"g", domain.PostMessage{Sender: carol.JID, ID: "c1", Body: "spam"}},
		{"g", domain.RetractMessage{By: alice.JID, Moderate: true, Reason: "spam", Message: &domain.MessageRef{ID: "c1", Version: 3, Sender: carol.JID}}},
		{"g", domain.RetractMessage{By: alice.JID, Message: &domain.MessageRef{ID: "m1", Version: 1, Sender: alice.JID}}},
		{"other", domain.CreateGroup{GroupID: "other", Name: "Other", Type: domain.TypeCustomized, Creator: carol}},
		{"g", domain.UpdateGroup{By: alice.JID, Name: "Renamed"}},
		{"g", domain.UpdateGroup{By: alice.JID, NewOwner: bob.JID}},
		{"g", domain.UpdateGroup{By: bob.JID, Name: "Both", NewOwner: alice.JID}},
		{"g", domain.ChangeRole{By: alice.JID, JID: carol.JID, Role: domain.RoleAdmin}},
		{"g", domain.RemoveMembers{By: alice.JID, Members: []domain.MemberSelector{{JID: carol.JID}}}},
		{"g", domain.RemoveMembers{By: bob.JID, Members: []domain.MemberSelector{{JID: bob.JID}}}},
		{"g", domain.DeleteGroup{By: alice.JID}},
	} {
		l.Must(t, c.group, c.cmd)
	}
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := l.AppendTo(t.Context(), store); err != nil {
		t.Fatal(err)
	}
	entries, err := audit.Trail(t.Context(), store, "g")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Actor+" "+e.Action)
		if e.Group != "g" || e.Time.IsZero() || e.Position == 0 {
			t.Errorf("entry %+v", e)
		}
	}
	want := []string{
		"alice@example.org created", "alice@example.org added",
		"alice@example.org moderated", "alice@example.org retracted", "alice@example.org renamed",
		"alice@example.org handed over", "bob@example.org updated", "alice@example.org made admin", "alice@example.org removed",
		"bob@example.org left", "alice@example.org deleted",
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("trail of g:\n got %q\nwant %q", got, want)
	}
	if !entries[1].Involves(carol.JID) || entries[4].Involves(carol.JID) {
		t.Errorf("Involves: the addition involves carol, the rename does not")
	}
	if d := entries[2].Details(); !entries[2].Involves(carol.JID) || !strings.Contains(d, `message of carol@example.org (id "c1", version 3)`) || !strings.Contains(d, `reason="spam"`) {
		t.Errorf("the moderation names carol's message and the reason: %s", d)
	}
	if d := entries[0].Details(); !strings.Contains(d, `name="G"`) || !strings.Contains(d, "bob@example.org (mid bob, member)") {
		t.Errorf("Details of the creation: %s", d)
	}
	if d := entries[7].Details(); !entries[7].Involves(carol.JID) || !strings.Contains(d, "carol@example.org (mid carol, admin)") {
		t.Errorf("the role change names carol with her new role: %s", d)
	}
	var all int
	if err := audit.Each(t.Context(), store, "", func(audit.Entry) error { all++; return nil }); err != nil || all != len(want)+1 {
		t.Errorf("Each over the whole log: %d entries, %v; want %d", all, err, len(want)+1)
	}
	if none, err := audit.Trail(t.Context(), store, "nosuch"); err != nil || len(none) != 0 {
		t.Errorf("trail of an unknown group: %v, %v", none, err)
	}
}
