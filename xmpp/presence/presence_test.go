package presence

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/uuchat/groupchat/xmpp/address"
)

func TestTracker(t *testing.T) {
	tr := NewTracker()
	tr.Join("alice@example.test")
	phone := address.MustParse("alice@example.test/phone")
	desk := address.MustParse("alice@example.test/desk")
	tr.Online(phone)
	tr.Online(desk)
	tr.Online(phone)
	tr.Online(address.MustParse("alice@example.test"))
	if got, want := tr.Resources(nil, "alice@example.test"), []string{"alice@example.test/desk", "alice@example.test/phone"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("two resources online: got %v, want %v", got, want)
	}
	if tr.Count() != 2 {
		t.Fatalf("count = %d, want 2", tr.Count())
	}
	tr.Offline(phone)
	if got := tr.Resources(nil, "alice@example.test"); !reflect.DeepEqual(got, []string{"alice@example.test/desk"}) {
		t.Fatalf("after phone left: %v", got)
	}
	tr.Offline(address.MustParse("alice@example.test"))
	if tr.IsOnline("alice@example.test") || tr.Count() != 0 {
		t.Fatalf("bare offline must forget every resource")
	}
	tr.Online(desk)
	tr.Reset()
	if tr.Count() != 0 || tr.IsOnline("alice@example.test") {
		t.Fatalf("reset must forget everyone")
	}
}

// TestTrackerFollowsAModel: any sequence of resources coming and going
// leaves the tracker with exactly the model's resources per bare JID,
// sorted, and the model's count.
func TestTrackerFollowsAModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	bares := []string{"alice@example.test", "bob@example.test", "carol@example.test"}
	resources := []string{"phone", "desk", "tablet", "a", "z"}
	tr := NewTracker()
	for _, b := range bares {
		tr.Join(b)
	}
	model := map[string]map[string]bool{}
	for step := 0; step < 5000; step++ {
		bare := bares[rng.IntN(len(bares))]
		full := bare + "/" + resources[rng.IntN(len(resources))]
		switch rng.IntN(7) {
		case 0: // the whole account goes offline
			tr.Offline(address.MustParse(bare))
			delete(model, bare)
		case 1, 2:
			tr.Offline(address.MustParse(full))
			delete(model[bare], full)
		default:
			tr.Online(address.MustParse(full))
			if model[bare] == nil {
				model[bare] = map[string]bool{}
			}
			model[bare][full] = true
		}
		count := 0
		for _, b := range bares {
			var want []string
			for f := range model[b] {
				want = append(want, f)
			}
			slices.Sort(want)
			count += len(want)
			got := tr.Resources([]string{"kept"}, b)
			if got[0] != "kept" || !slices.Equal(got[1:], want) {
				t.Fatalf("step %d: Resources(%s) = %v, want [kept] + %v", step, b, got, want)
			}
			if tr.IsOnline(b) != (len(want) > 0) {
				t.Fatalf("step %d: IsOnline(%s) = %v with %v online", step, b, tr.IsOnline(b), want)
			}
		}
		if tr.Count() != count {
			t.Fatalf("step %d: Count = %d, want %d", step, tr.Count(), count)
		}
	}
}

// TestResourcesIsACopy: what Resources returns is the caller's to change.
func TestResourcesIsACopy(t *testing.T) {
	tr := NewTracker()
	tr.Join("alice@example.test")
	tr.Online(address.MustParse("alice@example.test/desk"))
	tr.Online(address.MustParse("alice@example.test/phone"))
	got := tr.Resources(nil, "alice@example.test")
	got[0] = "mallory@example.test/evil"
	if again := tr.Resources(nil, "alice@example.test"); again[0] != "alice@example.test/desk" {
		t.Fatalf("changing a result of Resources changed the tracker: %v", again)
	}
}

// TestOnlyMembersAreOnline: the resources of a user in no group are kept
// apart, neither reached by broadcasts nor saved, until a group counts the
// user in; they go back when the user leaves its last group.
func TestOnlyMembersAreOnline(t *testing.T) {
	const dave = "dave@example.test"
	laptop := address.MustParse(dave + "/laptop")
	type step struct {
		name string
		do   func(*Tracker)
		want []string // dave's online resources, and the snapshot, after it
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"a non-member's resource is a candidate until it joins", []step{
			{"seen", func(tr *Tracker) { tr.Online(laptop) }, nil},
			{"joins a group", func(tr *Tracker) { tr.Join(dave) }, []string{dave + "/laptop"}},
			{"joins another", func(tr *Tracker) { tr.Join(dave) }, []string{dave + "/laptop"}},
			{"leaves one", func(tr *Tracker) { tr.Leave(dave) }, []string{dave + "/laptop"}},
			{"leaves the last", func(tr *Tracker) { tr.Leave(dave) }, nil},
			{"joins again", func(tr *Tracker) { tr.Join(dave) }, []string{dave + "/laptop"}},
		}},
		{"a member's resource is online at once", []step{
			{"joins", func(tr *Tracker) { tr.Join(dave) }, nil},
			{"seen", func(tr *Tracker) { tr.Online(laptop) }, []string{dave + "/laptop"}},
		}},
		{"offline forgets a candidate", []step{
			{"seen", func(tr *Tracker) { tr.Online(laptop) }, nil},
			{"offline", func(tr *Tracker) { tr.Offline(laptop) }, nil},
			{"joins", func(tr *Tracker) { tr.Join(dave) }, nil},
		}},
		{"offline by bare JID forgets every candidate", []step{
			{"seen", func(tr *Tracker) { tr.Online(laptop); tr.Online(address.MustParse(dave + "/phone")) }, nil},
			{"offline", func(tr *Tracker) { tr.Offline(address.MustParse(dave)) }, nil},
			{"joins", func(tr *Tracker) { tr.Join(dave) }, nil},
		}},
		{"leaving a group never joined changes nothing", []step{
			{"leaves", func(tr *Tracker) { tr.Leave(dave) }, nil},
			{"seen", func(tr *Tracker) { tr.Online(laptop) }, nil},
			{"joins", func(tr *Tracker) { tr.Join(dave) }, []string{dave + "/laptop"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker()
			for _, st := range tc.steps {
				st.do(tr)
				if got := tr.Resources(nil, dave); !slices.Equal(got, st.want) {
					t.Fatalf("%s: online %v, want %v", st.name, got, st.want)
				}
				if got, _ := tr.Snapshot(); !slices.Equal(got, st.want) {
					t.Fatalf("%s: snapshot %v, want %v", st.name, got, st.want)
				}
				if tr.IsOnline(dave) != (len(st.want) > 0) || tr.Count() != len(st.want) {
					t.Fatalf("%s: IsOnline %v, Count %d with %v online", st.name, tr.IsOnline(dave), tr.Count(), st.want)
				}
			}
		})
	}
}

// TestLimitsForgetTheLeastRecentlySeen: past a limit, the resource seen
// longest ago goes: the user's own past the per-user limit, anyone's past
// the total (of members' resources) or the candidates' limit.
func TestLimitsForgetTheLeastRecentlySeen(t *testing.T) {
	full := func(s string) address.JID { return address.MustParse(s + "@example.test/r") }
	res := func(user, r string) address.JID { return address.MustParse(user + "@example.test/" + r) }
	for _, tc := range []struct {
		name    string
		lim     Limits
		members []string
		seen    []address.JID
		// join is who joins a group after the sightings.
		join []string
		want []string
	}{
		{
			name:    "per user: the user's least recently seen resource",
			lim:     Limits{PerUser: 2, Total: 10, Candidates: 10},
			members: []string{"bob"},
			seen:    []address.JID{res("bob", "a"), res("bob", "b"), res("bob", "a"), res("bob", "c")},
			want:    []string{"bob@example.test/a", "bob@example.test/c"},
		},
		{
			name:    "total: the least recently seen of all members",
			lim:     Limits{PerUser: 5, Total: 3, Candidates: 10},
			members: []string{"alice", "bob", "carol", "dave"},
			seen:    []address.JID{full("alice"), full("bob"), full("carol"), full("alice"), full("dave")},
			want:    []string{"alice@example.test/r", "carol@example.test/r", "dave@example.test/r"},
		},
		{
			name: "candidates: the least recently seen non-member is not promoted",
			lim:  Limits{PerUser: 5, Total: 10, Candidates: 2},
			seen: []address.JID{full("alice"), full("bob"), full("carol")},
			join: []string{"alice", "bob", "carol"},
			want: []string{"bob@example.test/r", "carol@example.test/r"},
		},
		{
			name: "candidates per user, then promoted whole",
			lim:  Limits{PerUser: 2, Total: 10, Candidates: 10},
			seen: []address.JID{res("eve", "a"), res("eve", "b"), res("eve", "c")},
			join: []string{"eve"},
			want: []string{"eve@example.test/b", "eve@example.test/c"},
		},
		{
			name:    "candidates do not count against members",
			lim:     Limits{PerUser: 5, Total: 1, Candidates: 5},
			members: []string{"alice"},
			seen:    []address.JID{full("alice"), full("bob"), full("carol")},
			want:    []string{"alice@example.test/r"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTrackerWithLimits(tc.lim)
			for _, m := range tc.members {
				tr.Join(m + "@example.test")
			}
			for _, j := range tc.seen {
				tr.Online(j)
			}
			for _, m := range tc.join {
				tr.Join(m + "@example.test")
			}
			if got, _ := tr.Snapshot(); !slices.Equal(got, tc.want) {
				t.Fatalf("online %v, want %v", got, tc.want)
			}
			if tr.Count() != len(tc.want) {
				t.Fatalf("Count = %d, want %d", tr.Count(), len(tc.want))
			}
		})
	}
}

// TestAskingTheReadModel: a tracker that asks whether a user is a member
// (AskMembership) instead of counting places a user's first resource by
// the answer, keeps a leaving user online while the read model still
// counts it in another group, and places restored resources as it says.
func TestAskingTheReadModel(t *testing.T) {
	const dave, erin = "dave@example.test", "erin@example.test"
	member := map[string]bool{dave: true}
	asked := 0
	tr := NewTracker()
	tr.AskMembership(func(bare string) bool { asked++; return member[bare] })
	online := func(bare string) bool { return tr.IsOnline(bare) }

	tr.Online(address.MustParse(dave + "/laptop"))
	tr.Online(address.MustParse(erin + "/phone"))
	if !online(dave) || online(erin) {
		t.Fatalf("dave (a member) online %v, erin (none) online %v", online(dave), online(erin))
	}
	before := asked
	tr.Online(address.MustParse(dave + "/desk"))
	if asked != before {
		t.Error("the read model was asked again for a user whose resources are known")
	}
	// dave leaves a group but is still in another.
	tr.Leave(dave)
	if !online(dave) {
		t.Error("dave went offline while still a member of a group")
	}
	member[dave] = false
	tr.Leave(dave)
	if online(dave) {
		t.Error("dave is online after leaving his last group")
	}
	tr.Join(dave)
	if got := tr.Resources(nil, dave); len(got) != 2 {
		t.Errorf("after joining again dave's resources are %v, want both", got)
	}
	tr.Join(erin)
	if !online(erin) {
		t.Error("erin is not online after joining a group")
	}

	// Restored resources are placed as the read model says, once per user.
	restored := NewTracker()
	n := 0
	restored.AskMembership(func(bare string) bool { n++; return bare == erin })
	restored.Restore([]string{dave + "/laptop", dave + "/desk", erin + "/phone"})
	if n != 2 || restored.IsOnline(dave) || !restored.IsOnline(erin) || restored.Count() != 1 {
		t.Errorf("restored: asked %d times, %d online, dave online %v; want 2 asked, erin's one resource online", n, restored.Count(), restored.IsOnline(dave))
	}
}
