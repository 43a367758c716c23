package address

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that whatever Parse accepts is written in a form that
// Parse accepts again unchanged: what the component writes, the server
// neither refuses nor rewrites.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"a@b/c", "Alice@Example.COM/Phone", "\uFF46@x/\u00A0", "room@svc/\u200B\u200D",
		"\u2603@x/\u05D0\u05D1", "x@[::1]/r", "a@b@c", "@", "/", "x/" + strings.Repeat("\u00E9", 600),
		"\u0627\u0644@x/\u202Eabc", "a\uFE0F@x", "\U0001F642@x/\U0001F642", "x@y/\u0301",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := Parse(s)
		if err != nil {
			return
		}
		out := j.String()
		if err := Check(out); err != nil {
			t.Fatalf("Parse(%q) = %q, which Check refuses: %v", s, out, err)
		}
		for _, p := range []string{j.Localpart(), j.Domainpart(), j.Resourcepart()} {
			if len(p) > MaxPartBytes || !utf8.ValidString(p) {
				t.Fatalf("Parse(%q) has a part of %d bytes or invalid UTF-8", s, len(p))
			}
		}
		if j.Domainpart() == "" {
			t.Fatalf("Parse(%q) has no domain", s)
		}
	})
}
