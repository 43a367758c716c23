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
	tr.Online(address.MustParse("alice@example.test/desk"))
	tr.Online(address.MustParse("alice@example.test/phone"))
	got := tr.Resources(nil, "alice@example.test")
	got[0] = "mallory@example.test/evil"
	if again := tr.Resources(nil, "alice@example.test"); again[0] != "alice@example.test/desk" {
		t.Fatalf("changing a result of Resources changed the tracker: %v", again)
	}
}
