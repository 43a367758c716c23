package domain

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// resourceprepDropped is RFC 3454 table B.1, written out from the RFC rather
// than taken from the code under test.
var resourceprepDropped = []rune{0x00AD, 0x034F, 0x1806, 0x180B, 0x180C, 0x180D, 0x200B, 0x200C, 0x200D, 0x2060,
	0xFE00, 0xFE01, 0xFE02, 0xFE03, 0xFE04, 0xFE05, 0xFE06, 0xFE07, 0xFE08, 0xFE09, 0xFE0A, 0xFE0B, 0xFE0C, 0xFE0D, 0xFE0E, 0xFE0F, 0xFEFF}

// FuzzNormalizeMID checks that a mid NormalizeMID accepts is its own normal
// form (normalizing it again changes nothing, and it is NFKC-stable), holds no
// refused character, is not blank and has no surrounding white space; that
// NormalizeNick agrees on the same input; and that lookups key it by itself.
func FuzzNormalizeMID(f *testing.F) {
	for _, s := range []string{"alice", "张三", "Zo\u00eb", "Zoe\u0308", "o'brien", "🙂", "\u2764\ufe0f", "\uff41\uff4c\uff49\uff43\uff45",
		"a\u200bb", "\ufeffa", "a\u00adb", "a\u200fb", "bob\u00a0x", "张\u3000三", "\u3000", "a\u0007b", "", " a", "a  b",
		"\ufb01", "\u3164", "a\u0378b", "\xff", "e\u0301\u0327", "\u1100\u1161\u11a8", "\u0f73\u0f75", "\ufdfa"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := NormalizeMID(s)
		nick, nickErr := NormalizeNick(s)
		if (err == nil) != (nickErr == nil) || out != nick {
			t.Fatalf("NormalizeMID(%q) = %q, %v but NormalizeNick gives %q, %v", s, out, err, nick, nickErr)
		}
		if err != nil {
			if KindOf(err) != KindBadRequest {
				t.Fatalf("NormalizeMID(%q) refused with %v, want a bad request", s, err)
			}
			return
		}
		if again, err := NormalizeMID(out); err != nil || again != out {
			t.Fatalf("NormalizeMID(%q) = %q, but normalizing that gives %q, %v", s, out, again, err)
		}
		if !norm.NFKC.IsNormalString(out) {
			t.Fatalf("NormalizeMID(%q) = %q, which is not in NFKC form", s, out)
		}
		if nameKey(out) != out {
			t.Fatalf("NormalizeMID(%q) = %q, but lookups key it as %q", s, out, nameKey(out))
		}
		if !utf8.ValidString(out) || strings.TrimSpace(out) == "" || strings.TrimSpace(out) != out {
			t.Fatalf("NormalizeMID(%q) = %q: not UTF-8, blank or with surrounding white space", s, out)
		}
		for _, r := range out {
			refused := unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zl, unicode.Zp,
				unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point) ||
				!unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) ||
				(r != ' ' && (unicode.IsSpace(r) || unicode.Is(unicode.Zs, r)))
			for _, d := range resourceprepDropped {
				refused = refused || r == d
			}
			if refused {
				t.Fatalf("NormalizeMID(%q) = %q, which holds the refused %U", s, out, r)
			}
		}
	})
}
