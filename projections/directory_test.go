package projections_test

import (
	"context"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/projections/projectionstest"
)

func TestListAndCountGroups(t *testing.T) {
	db := openDB(t)
	l := projectionstest.NewLog()
	alice := domain.Member{JID: "alice@example.org", MID: "alice"}
	bob := domain.Member{JID: "bob@example.org", MID: "bob"}
	l.Must(t, "old", domain.CreateGroup{GroupID: "old", Name: "Old", Type: domain.TypeCustomized, Creator: alice})
	l.Must(t, "busy", domain.CreateGroup{GroupID: "busy", Name: "Busy", Type: domain.TypeSystem, Creator: alice})
	l.Must(t, "gone", domain.CreateGroup{GroupID: "gone", Name: "Gone", Type: domain.TypeCustomized, Creator: bob})
	l.Must(t, "busy", domain.AddMembers{By: alice.JID, Members: []domain.Member{bob}})
	l.Must(t, "gone", domain.DeleteGroup{By: bob.JID})
	apply(t, db, l.Events)
	ctx := context.Background()

	n, err := db.CountGroups(ctx)
	if err != nil || n != 2 {
		t.Errorf("CountGroups = %d, %v; want 2 (the deleted group left out)", n, err)
	}
	for _, tc := range []struct {
		limit int
		want  []string
	}{{10, []string{"busy", "old"}}, {1, []string{"busy"}}} {
		gs, err := db.ListGroups(ctx, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, g := range gs {
			ids = append(ids, g.ID)
		}
		if len(ids) != len(tc.want) || (len(ids) > 0 && ids[0] != tc.want[0]) || (len(ids) > 1 && ids[1] != tc.want[1]) {
			t.Errorf("ListGroups(%d) = %v, want %v (most recently changed first, live only)", tc.limit, ids, tc.want)
		}
		if len(gs) > 0 && (gs[0].Members != 2 || gs[0].Type != domain.TypeSystem || gs[0].Name != "Busy") {
			t.Errorf("the busy group's entry: %+v", gs[0])
		}
	}
}

func TestIsMemberOfALiveGroup(t *testing.T) {
	db := openDB(t)
	l := projectionstest.NewLog()
	alice := domain.Member{JID: "alice@example.org", MID: "alice"}
	bob := domain.Member{JID: "bob@example.org", MID: "bob"}
	carol := domain.Member{JID: "carol@example.org", MID: "carol"}
	dave := domain.Member{JID: "dave@example.org", MID: "dave"}
	l.Must(t, "one", domain.CreateGroup{GroupID: "one", Name: "One", Type: domain.TypeCustomized, Creator: alice, Members: []domain.Member{bob, carol}})
	l.Must(t, "gone", domain.CreateGroup{GroupID: "gone", Name: "Gone", Type: domain.TypeCustomized, Creator: dave})
	l.Must(t, "gone", domain.DeleteGroup{By: dave.JID})
	l.Must(t, "one", domain.RemoveMembers{By: alice.JID, Members: []domain.MemberSelector{{JID: carol.JID}}})
	apply(t, db, l.Events)
	for jid, want := range map[string]bool{alice.JID: true, bob.JID: true, carol.JID: false, dave.JID: false, "nobody@example.org": false} {
		if got, err := db.IsMember(context.Background(), jid); err != nil || got != want {
			t.Errorf("IsMember(%s) = %v, %v; want %v (removed, or only in a deleted group, is none)", jid, got, err, want)
		}
	}
}
