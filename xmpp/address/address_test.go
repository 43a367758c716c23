package address

import (
	"strings"
	"testing"
)

// The expected forms below follow RFC 3454's tables and RFC 3920's
// profiles: B.1 maps zero-width characters to nothing, B.2 folds case,
// NFKC turns compatibility characters into their plain forms.
func TestParse(t *testing.T) {
	long := strings.Repeat("a", MaxPartBytes)
	tests := []struct {
		in, want string
		bad      string // the part an error names; "" when in parses
	}{
		{in: "groupchat.example.org", want: "groupchat.example.org"},
		{in: "Alice@Example.COM/Phone", want: "alice@example.com/Phone"},
		{in: "a@b/c/d@e", want: "a@b/c/d@e"},
		{in: "a/b@c", want: "a/b@c"},
		{in: "example.org.", want: "example.org"},
		{in: "\uFF46\uFF4F\uFF4F@example.org", want: "foo@example.org"},      // fullwidth letters
		{in: "a\u200Bb@example.org", want: "ab@example.org"},                 // zero-width space mapped to nothing
		{in: "room@svc/a\u00A0b", want: "room@svc/a b"},                      // no-break space becomes a space
		{in: "\u2603@example.org/\u2603", want: "\u2603@example.org/\u2603"}, // a symbol: PRECIS refuses it, stringprep does not
		{in: "\u5F20\u4E09@example.org/\u624B\u673A", want: "\u5F20\u4E09@example.org/\u624B\u673A"},
		{in: "x@[::1]/r", want: "x@[::1]/r"},
		{in: "x@example.org/" + long, want: "x@example.org/" + long},
		{in: long + "@example.org", want: long + "@example.org"},
		{in: "", bad: "address"},
		{in: "@example.org", bad: "local"},
		{in: "a@", bad: "domain"},
		{in: "a@b@c", bad: "domain"},
		{in: "example.org/", bad: "resource"},
		{in: "a b@example.org", bad: "local"},
		{in: "a:b@example.org", bad: "local"},
		{in: "a'b@example.org", bad: "local"},
		{in: "room@svc/\u200B", bad: "resource"},                 // empty once prepared
		{in: "room@svc/a\u0085", bad: "resource"},                // C.2.2 control
		{in: "room@svc/a\u200Eb", bad: "resource"},               // C.8 left-to-right mark
		{in: "room@svc/\uE000", bad: "resource"},                 // C.3 private use
		{in: "room@svc/\u05D0a", bad: "resource"},                // RandAL and L mixed
		{in: "room@svc/\U0001F642", want: "room@svc/\U0001F642"}, // unassigned in Unicode 3.2: allowed, as the servers allow it
		{in: "room@svc/a\x00b", bad: "resource"},                 // NUL
		{in: "room@svc/a\xffb", bad: "resource"},                 // not UTF-8
		{in: "room@exa mple.org", bad: "domain"},                 // space in a host name
		{in: "room@exa_mple.org", bad: "domain"},                 // not a host name character
		{in: "room@example..org", bad: "domain"},                 // empty label
		{in: "x@example.org/" + long + "b", bad: "resource"},
		{in: long + "b@example.org", bad: "local"},
	}
	for _, tt := range tests {
		j, err := Parse(tt.in)
		if tt.bad != "" {
			e, ok := err.(*Error)
			if !ok || e.Part != tt.bad {
				t.Errorf("Parse(%q) = %q, %v; want an error in the %s part", tt.in, j.String(), err, tt.bad)
			}
			continue
		}
		if err != nil || j.String() != tt.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tt.in, j.String(), err, tt.want)
		}
	}
}

func TestCheckWantsThePreparedForm(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"alice@example.com/Phone", true},
		{"Alice@example.com/Phone", false}, // the server would rewrite it
		{"room@svc/a\u00A0b", false},
		{"room@svc/a b", true},
		{"", false},
		{"room@svc/\u200B", false},
	}
	for _, tt := range tests {
		if got := Valid(tt.in); got != tt.ok {
			t.Errorf("Valid(%q) = %v, want %v (%v)", tt.in, got, tt.ok, Check(tt.in))
		}
	}
}

func TestParts(t *testing.T) {
	j := MustParse("Room@Svc.Example/Nick Name")
	if j.Localpart() != "room" || j.Domainpart() != "svc.example" || j.Resourcepart() != "Nick Name" {
		t.Fatalf("parts of %q: %q %q %q", j, j.Localpart(), j.Domainpart(), j.Resourcepart())
	}
	if b := j.Bare().String(); b != "room@svc.example" {
		t.Fatalf("Bare = %q", b)
	}
	if w, err := j.WithResource("\uFF21"); err != nil || w.String() != "room@svc.example/A" {
		t.Fatalf("WithResource = %q, %v", w, err)
	}
	if !(JID{}).IsZero() || j.IsZero() {
		t.Fatal("IsZero")
	}
}

func BenchmarkCheckASCII(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if Check("alice@example.org/phone-4f2a") != nil {
			b.Fatal("refused")
		}
	}
}

func BenchmarkCheckUnicode(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if Check("\u5F20\u4E09@example.org/\u624B\u673A") != nil {
			b.Fatal("refused")
		}
	}
}

func BenchmarkCheckDomain(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if Check("groupchat.example.org") != nil {
			b.Fatal("refused")
		}
	}
}
