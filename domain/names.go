package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// A member's mid is the resource part of its occupant JID, which XMPP servers
// prepare with RFC 6122 resourceprep: they drop the characters of RFC 3454
// table B.1, normalize with NFKC and refuse control and format characters.
// Mids (and nicks, which show beside them) are therefore stored in NFKC form
// and refused when they hold anything a server would drop, refuse or that
// shows as nothing, so that what a member is stored as is what the server
// addresses and what a person sees.

// NormalizeMID returns the form a member id is stored and compared in: s in
// Unicode NFKC form. It refuses, as a KindBadRequest *Error whose text says
// what is wrong, a mid that is not UTF-8 and one that after normalization is
// empty or blank, begins or ends with white space, or holds a control (Cc),
// format (Cf), private use (Co) or surrogate (Cs) character, an unassigned
// code point, a line or paragraph separator (Zl, Zp), a variation selector or
// other default-ignorable code point, a character XMPP servers map to nothing
// (RFC 3454 table B.1), or white space other than U+0020. Runs of spaces
// inside stay. Length limits are the caller's, counted on the result.
func NormalizeMID(s string) (string, error) { return normalizeName("mid", s) }

// NormalizeNick returns the form a nick is stored and compared in, under the
// rules of NormalizeMID: a nick differing from another only by invisible
// characters or surrounding spaces would let one member pass for another.
func NormalizeNick(s string) (string, error) { return normalizeName("nick", s) }

func normalizeName(what, s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", refuse(KindBadRequest, "the %s %q is not valid UTF-8", what, s)
	}
	n := norm.NFKC.String(s)
	if strings.TrimSpace(n) == "" {
		return "", refuse(KindBadRequest, "the %s is empty or blank", what)
	}
	for _, r := range n {
		if why := refusedInName(r); why != "" {
			return "", refuse(KindBadRequest, "the %s %q contains %U, %s", what, s, r, why)
		}
	}
	// Only U+0020 is left of the white space.
	if n[0] == ' ' || n[len(n)-1] == ' ' {
		return "", refuse(KindBadRequest, "the %s %q begins or ends with white space", what, s)
	}
	return n, nil
}

// refusedInName says why r may not be part of a mid, nick or group id, or
// returns "" when it may.
func refusedInName(r rune) string {
	switch {
	case r == ' ':
		return ""
	case unicode.Is(unicode.Cc, r):
		return "a control character"
	case unicode.Is(unicode.Cs, r):
		return "a surrogate"
	case unicode.Is(unicode.Co, r):
		return "a private use character"
	case mappedToNothing(r):
		return "an invisible character XMPP servers delete from addresses"
	case unicode.Is(unicode.Variation_Selector, r), unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
		return "an invisible, default-ignorable character"
	case unicode.Is(unicode.Cf, r):
		return "an invisible format character"
	case unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
		return "a line or paragraph separator"
	case unicode.IsSpace(r), unicode.Is(unicode.Zs, r):
		return "white space other than a plain space"
	case !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z):
		// The other categories, Cc, Cf, Co and Cs, were refused above; Go's
		// unicode.C also holds the unassigned code points (Cn).
		return "an unassigned code point"
	}
	return ""
}

// mappedToNothing reports whether r is in RFC 3454 table B.1, the characters
// resourceprep and nodeprep delete from an address.
func mappedToNothing(r rune) bool {
	switch {
	case r == 0x00AD, r == 0x034F, r == 0x1806, r >= 0x180B && r <= 0x180D,
		r >= 0x200B && r <= 0x200D, r == 0x2060, r >= 0xFE00 && r <= 0xFE0F, r == 0xFEFF:
		return true
	}
	return false
}

// nameKey is what mids and nicks are compared by: what an XMPP server makes
// of s as a resource (table B.1 deleted, then NFKC). For a value that
// NormalizeMID or NormalizeNick accepted it is the value itself; for one
// stored before they existed it is the form the server knew it by. It never
// fails, so that old events stay readable and old members findable.
func nameKey(s string) string {
	if strings.IndexFunc(s, mappedToNothing) >= 0 {
		s = strings.Map(func(r rune) rune {
			if mappedToNothing(r) {
				return -1
			}
			return r
		}, s)
	}
	return norm.NFKC.String(s)
}
