package domain_test

import (
	"strings"
	"testing"

	"github.com/uuchat/groupchat/domain"
)

// nameCases hold for mids and nicks alike: both are stored in NFKC form under
// the same refusals. Every want is written out from the Unicode data, and
// says is a part of the refusal's text that tells what is wrong.
var nameCases = []struct {
	name, in string
	want     string // the stored form; "" when refused
	says     string
}{
	// Accepted, and already in NFKC form.
	{name: "ASCII", in: "alice", want: "alice"},
	{name: "Han", in: "张三", want: "张三"},
	{name: "precomposed e with diaeresis", in: "Zo\u00eb", want: "Zo\u00eb"},
	{name: "apostrophe", in: "o'brien", want: "o'brien"},
	{name: "emoji without a variation selector", in: "🙂", want: "🙂"},
	{name: "a run of spaces inside", in: "a  b", want: "a  b"},
	{name: "Arabic", in: "\u0639\u0644\u064a", want: "\u0639\u0644\u064a"},

	// Accepted in another form: NFKC.
	{name: "fullwidth Latin becomes ASCII", in: "\uff41\uff4c\uff49\uff43\uff45", want: "alice"},
	{name: "e and combining acute compose to e-acute", in: "caf" + "e\u0301", want: "caf\u00e9"},
	{name: "o and combining diaeresis compose", in: "Zoe\u0308", want: "Zo\u00eb"},
	{name: "no-break space inside becomes a space", in: "bob\u00a0x", want: "bob x"},
	{name: "ideographic space inside becomes a space", in: "张\u3000三", want: "张 三"},
	{name: "em space inside becomes a space", in: "a\u2003b", want: "a b"},
	{name: "the fi ligature becomes f and i", in: "\ufb01sh", want: "fish"},
	{name: "superscript two becomes a digit", in: "x\u00b2", want: "x2"},

	// Refused: characters XMPP servers drop (RFC 3454 table B.1).
	{name: "zero-width space", in: "al\u200bice", says: "U+200B"},
	{name: "zero-width space alone", in: "\u200b", says: "U+200B"},
	{name: "zero-width non-joiner", in: "al\u200cice", says: "U+200C"},
	{name: "zero-width joiner", in: "al\u200dice", says: "U+200D"},
	{name: "word joiner", in: "al\u2060ice", says: "U+2060"},
	{name: "byte order mark", in: "\ufeffalice", says: "U+FEFF"},
	{name: "soft hyphen", in: "al\u00adice", says: "U+00AD"},
	{name: "variation selector 16 after an emoji", in: "\u2764\ufe0f", says: "U+FE0F"},
	{name: "variation selector 1", in: "a\ufe00", says: "U+FE00"},
	{name: "combining grapheme joiner", in: "a\u034fb", says: "U+034F"},
	{name: "Mongolian todo soft hyphen", in: "a\u1806b", says: "U+1806"},
	{name: "Mongolian free variation selector", in: "a\u180bb", says: "U+180B"},
	// Refused: other invisible, format or ignorable characters.
	{name: "right-to-left mark", in: "alice\u200f", says: "U+200F"},
	{name: "left-to-right embedding", in: "\u202aalice", says: "U+202A"},
	{name: "Mongolian vowel separator", in: "a\u180eb", says: "U+180E"},
	{name: "variation selector supplement", in: "a\U000e0100", says: "U+E0100"},
	{name: "Hangul filler, named as the filler NFKC makes of it", in: "a\u3164b", says: "U+1160"},
	// Refused: control, private use, unassigned, separators, other spaces.
	{name: "a bell", in: "a\u0007b", says: "U+0007"},
	{name: "a tab", in: "a\tb", says: "U+0009"},
	{name: "a newline", in: "a\nb", says: "U+000A"},
	{name: "next line", in: "a\u0085b", says: "U+0085"},
	{name: "private use", in: "a\ue000b", says: "U+E000"},
	{name: "unassigned in the Greek block", in: "a\u0378b", says: "U+0378"},
	{name: "line separator", in: "a\u2028b", says: "U+2028"},
	{name: "paragraph separator", in: "a\u2029b", says: "U+2029"},
	{name: "Ogham space mark, a space NFKC keeps", in: "a\u1680b", says: "U+1680"},
	// Refused: empty, blank, surrounding white space, not UTF-8.
	{name: "empty", in: "", says: "empty"},
	{name: "a space", in: " ", says: "blank"},
	{name: "a no-break space, blank after NFKC", in: "\u00a0", says: "blank"},
	{name: "an ideographic space, blank after NFKC", in: "\u3000", says: "blank"},
	{name: "a leading space", in: " alice", says: "white space"},
	{name: "a trailing space", in: "alice ", says: "white space"},
	{name: "a trailing ideographic space, a space after NFKC", in: "alice\u3000", says: "white space"},
	{name: "a trailing no-break space, a space after NFKC", in: "alice\u00a0", says: "white space"},
	{name: "not UTF-8", in: "a\xffb", says: "UTF-8"},
	{name: "an encoded surrogate, not UTF-8", in: "a\xed\xa0\x80b", says: "UTF-8"},
}

func TestNormalizeNames(t *testing.T) {
	funcs := []struct {
		what string
		f    func(string) (string, error)
	}{{"mid", domain.NormalizeMID}, {"nick", domain.NormalizeNick}}
	for _, fn := range funcs {
		for _, tc := range nameCases {
			t.Run(fn.what+"/"+tc.name, func(t *testing.T) {
				got, err := fn.f(tc.in)
				if tc.want != "" {
					if err != nil || got != tc.want {
						t.Fatalf("%q gave %q, %v; want %q", tc.in, got, err, tc.want)
					}
					return
				}
				if err == nil {
					t.Fatalf("%q was accepted as %q, want a bad request", tc.in, got)
				}
				if k := domain.KindOf(err); k != domain.KindBadRequest {
					t.Fatalf("%q was refused as %q (%v), want %q", tc.in, k, err, domain.KindBadRequest)
				}
				if !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), fn.what) {
					t.Errorf("%q was refused with %q, which should name the %s and say %q", tc.in, err, fn.what, tc.says)
				}
			})
		}
	}
}
