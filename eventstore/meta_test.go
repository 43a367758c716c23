package eventstore

import "testing"

// TestMeta: what the service wrote before metadata had a version still
// reads, the current form round-trips, and a newer version is refused.
func TestMeta(t *testing.T) {
	tests := []struct {
		name   string
		stored string
		want   Meta
		bad    bool
	}{
		{"before versions", `{"from":"alice@example.test/phone","id":"m1"}`, Meta{From: "alice@example.test/phone", ID: "m1"}, false},
		{"version 1", `{"v":1,"from":"alice@example.test/phone","id":"m1"}`, Meta{From: "alice@example.test/phone", ID: "m1"}, false},
		{"nothing", ``, Meta{}, false},
		{"no id", `{"v":1,"from":"bob@example.test/pda"}`, Meta{From: "bob@example.test/pda"}, false},
		{"a newer version", `{"v":2,"from":"x@example.test/a"}`, Meta{}, true},
		{"not JSON", `from=x`, Meta{}, true},
	}
	for _, tt := range tests {
		got, err := DecodeMeta([]byte(tt.stored))
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("%s: DecodeMeta = %+v, %v", tt.name, got, err)
		}
	}
	m := Meta{From: "carol@example.test/tablet", ID: "x&<\"y"}
	if got, err := DecodeMeta(EncodeMeta(m)); err != nil || got != m {
		t.Errorf("round trip: %+v, %v", got, err)
	}
	if string(EncodeMeta(Meta{From: "a@b/c", ID: "i"})) != `{"v":1,"from":"a@b/c","id":"i"}` {
		t.Errorf("stored form: %s", EncodeMeta(Meta{From: "a@b/c", ID: "i"}))
	}
}
