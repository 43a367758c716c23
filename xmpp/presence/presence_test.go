package presence

import (
	"reflect"
	"testing"

	"mellium.im/xmpp/jid"
)

func TestTracker(t *testing.T) {
	tr := NewTracker()
	phone := jid.MustParse("alice@example.test/phone")
	desk := jid.MustParse("alice@example.test/desk")
	tr.Online(phone)
	tr.Online(desk)
	tr.Online(phone)
	tr.Online(jid.MustParse("alice@example.test"))
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
	tr.Offline(jid.MustParse("alice@example.test"))
	if tr.IsOnline("alice@example.test") || tr.Count() != 0 {
		t.Fatalf("bare offline must forget every resource")
	}
	tr.Online(desk)
	tr.Reset()
	if tr.Count() != 0 || tr.IsOnline("alice@example.test") {
		t.Fatalf("reset must forget everyone")
	}
}
