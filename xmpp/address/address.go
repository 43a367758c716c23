package address

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/xdg-go/stringprep"
)

// MaxPartBytes is the longest a local, domain or resource part may be once
// prepared (RFC 6122 §2.1).
const MaxPartBytes = 1023

// JID is a prepared address: each part is in the form the server routes it
// by. The zero JID is the empty address.
type JID struct {
	local, domain, resource string
}

// Error says which part of an address is not acceptable, and why.
type Error struct {
	Part   string // "local", "domain", "resource" or "address"
	Reason string
}

func (e *Error) Error() string { return "address: " + e.Part + " part: " + e.Reason }

var errEmpty = &Error{Part: "address", Reason: "empty"}

// Parse splits s as RFC 6122 (and Prosody's util.jid.split) does, and
// prepares each part. The result's String is the prepared form, which may
// differ from s (upper case in the local part, compatibility characters).
func Parse(s string) (JID, error) {
	if s == "" {
		return JID{}, errEmpty
	}
	local, domain, resource, err := split(s)
	if err != nil {
		return JID{}, err
	}
	return New(local, domain, resource)
}

// split separates the parts: the resource is everything after the first
// '/', the local part what precedes an '@' before it.
func split(s string) (local, domain, resource string, err error) {
	rest := s
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest, resource = s[:i], s[i+1:]
		if resource == "" {
			return "", "", "", &Error{Part: "resource", Reason: "empty"}
		}
	}
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		local, rest = rest[:i], rest[i+1:]
		if local == "" {
			return "", "", "", &Error{Part: "local", Reason: "empty"}
		}
	}
	if strings.IndexByte(rest, '@') >= 0 {
		return "", "", "", &Error{Part: "domain", Reason: "more than one '@'"}
	}
	return local, rest, resource, nil
}

// New prepares the parts of an address; local and resource may be empty.
func New(local, domain, resource string) (JID, error) {
	var j JID
	var err error
	if j.domain, err = Nameprep(domain); err != nil {
		return JID{}, err
	}
	if local != "" {
		if j.local, err = Nodeprep(local); err != nil {
			return JID{}, err
		}
	}
	if resource != "" {
		if j.resource, err = Resourceprep(resource); err != nil {
			return JID{}, err
		}
	}
	return j, nil
}

// MustParse is Parse for addresses known to be valid (tests, constants).
func MustParse(s string) JID {
	j, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return j
}

// Check reports why s cannot be written as it is in a stanza the server
// accepts: it must parse, and be already in its prepared form, so that the
// server neither refuses it nor rewrites it into another address.
func Check(s string) error {
	if s == "" {
		return errEmpty
	}
	local, domain, resource, err := split(s)
	if err != nil {
		return err
	}
	// Each part is compared with its prepared form in place: the check
	// runs for every stanza the component writes, and allocates nothing
	// for the common, already prepared ASCII address.
	for _, p := range [...]struct {
		name, raw string
		prep      func(string) (string, error)
	}{{"domain", domain, Nameprep}, {"local", local, Nodeprep}, {"resource", resource, Resourceprep}} {
		if p.raw == "" && p.name != "domain" {
			continue
		}
		out, err := p.prep(p.raw)
		if err != nil {
			return err
		}
		if out != p.raw {
			return &Error{Part: p.name, Reason: "not in prepared form (" + out + ")"}
		}
	}
	return nil
}

// Valid reports whether Check(s) is nil.
func Valid(s string) bool { return Check(s) == nil }

// Localpart is the prepared local part ("" for a domain).
func (j JID) Localpart() string { return j.local }

// Domainpart is the prepared domain.
func (j JID) Domainpart() string { return j.domain }

// Resourcepart is the prepared resource ("" for a bare JID).
func (j JID) Resourcepart() string { return j.resource }

// Bare is the address without its resource.
func (j JID) Bare() JID { j.resource = ""; return j }

// IsZero reports whether j is the empty address.
func (j JID) IsZero() bool { return j.domain == "" }

// WithResource returns j with another resource, prepared.
func (j JID) WithResource(resource string) (JID, error) {
	return New(j.local, j.domain, resource)
}

// String is the address as written on the wire.
func (j JID) String() string {
	if j.domain == "" {
		return ""
	}
	n := len(j.domain)
	if j.local != "" {
		n += len(j.local) + 1
	}
	if j.resource != "" {
		n += len(j.resource) + 1
	}
	var b strings.Builder
	b.Grow(n)
	if j.local != "" {
		b.WriteString(j.local)
		b.WriteByte('@')
	}
	b.WriteString(j.domain)
	if j.resource != "" {
		b.WriteByte('/')
		b.WriteString(j.resource)
	}
	return b.String()
}

// The stringprep profiles of RFC 3920 (nodeprep, resourceprep) and RFC 3491
// (nameprep), for queries: code points unassigned in Unicode 3.2 are
// allowed, as Prosody (util.jid without strict) and ejabberd allow them.
var (
	nodeprep = stringprep.Profile{
		Mappings:  []stringprep.Mapping{stringprep.TableB1, stringprep.TableB2},
		Normalize: true,
		Prohibits: []stringprep.Set{
			stringprep.TableC1_1, stringprep.TableC1_2, stringprep.TableC2_1, stringprep.TableC2_2,
			stringprep.TableC3, stringprep.TableC4, stringprep.TableC5, stringprep.TableC6,
			stringprep.TableC7, stringprep.TableC8, stringprep.TableC9, nodeprepASCII,
		},
		CheckBiDi: true,
	}
	resourceprep = stringprep.Profile{
		Mappings:  []stringprep.Mapping{stringprep.TableB1},
		Normalize: true,
		Prohibits: []stringprep.Set{
			stringprep.TableC1_2, stringprep.TableC2_1, stringprep.TableC2_2,
			stringprep.TableC3, stringprep.TableC4, stringprep.TableC5, stringprep.TableC6,
			stringprep.TableC7, stringprep.TableC8, stringprep.TableC9,
		},
		CheckBiDi: true,
	}
	nameprep = stringprep.Profile{
		Mappings:  []stringprep.Mapping{stringprep.TableB1, stringprep.TableB2},
		Normalize: true,
		Prohibits: []stringprep.Set{
			stringprep.TableC1_2, stringprep.TableC2_2,
			stringprep.TableC3, stringprep.TableC4, stringprep.TableC5, stringprep.TableC6,
			stringprep.TableC7, stringprep.TableC8, stringprep.TableC9,
		},
		CheckBiDi: true,
	}
	// nodeprepASCII are the characters nodeprep prohibits beyond the
	// common tables (RFC 3920 appendix A.5).
	nodeprepASCII = stringprep.Set{{'"', '"'}, {'&', '\''}, {'/', '/'}, {':', ':'}, {'<', '<'}, {'>', '>'}, {'@', '@'}}
)

// Nodeprep prepares a local part.
func Nodeprep(s string) (string, error) {
	return prepare("local", s, nodeprep, asciiNode)
}

// Resourceprep prepares a resource part.
func Resourceprep(s string) (string, error) {
	return prepare("resource", s, resourceprep, asciiResource)
}

// Nameprep prepares a domain part. Beyond nameprep it holds ASCII to the
// host name rules (letters, digits, '-', '.', or a bracketed IP literal),
// which servers apply to domains they route to: stricter, never looser.
func Nameprep(s string) (string, error) {
	s = strings.TrimSuffix(s, ".")
	out, err := prepare("domain", s, nameprep, asciiDomain)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(out, "[") {
		if !strings.HasSuffix(out, "]") || strings.Trim(out[1:len(out)-1], "0123456789abcdef:.") != "" {
			return "", &Error{Part: "domain", Reason: "not an IP literal"}
		}
		return out, nil
	}
	label := 0 // length of the current label
	for i := 0; i < len(out); i++ {
		switch c := out[i]; {
		case c == '.':
			if label == 0 {
				return "", &Error{Part: "domain", Reason: "empty label"}
			}
			label = 0
			continue
		case c < utf8.RuneSelf && !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'):
			return "", &Error{Part: "domain", Reason: "character " + quoteRune(rune(c)) + " is not allowed in a host name"}
		}
		label++
	}
	if label == 0 {
		return "", &Error{Part: "domain", Reason: "empty label"}
	}
	return out, nil
}

// asciiRule prepares ASCII text as a profile's tables would: no
// character is mapped to nothing or normalized, so only case folding
// (fold), controls and the profile's prohibited characters matter.
func asciiRule(s string, fold bool, prohibited string) (string, string, bool) {
	lower := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			return "", "", false
		case c < ' ' || c == 0x7f:
			return "", "control character " + quoteRune(rune(c)), true
		case strings.IndexByte(prohibited, c) >= 0:
			return "", "character " + quoteRune(rune(c)) + " is not allowed", true
		case fold && c >= 'A' && c <= 'Z':
			lower = false
		}
	}
	if lower {
		return s, "", true
	}
	return strings.ToLower(s), "", true
}

// nodeprep prohibits the space (table C.1.1) and RFC 3920's eight ASCII
// characters; resourceprep keeps case and allows both; nameprep folds case.
func asciiNode(s string) (string, string, bool)     { return asciiRule(s, true, ` "&'/:<>@`) }
func asciiResource(s string) (string, string, bool) { return asciiRule(s, false, "") }
func asciiDomain(s string) (string, string, bool)   { return asciiRule(s, true, "") }

func prepare(part, s string, p stringprep.Profile, ascii func(string) (string, string, bool)) (string, error) {
	if s == "" {
		return "", &Error{Part: part, Reason: "empty"}
	}
	if !utf8.ValidString(s) {
		return "", &Error{Part: part, Reason: "not UTF-8"}
	}
	out, reason, ok := ascii(s)
	if !ok {
		var err error
		out, err = p.Prepare(s)
		if err != nil {
			var se stringprep.Error
			if errors.As(err, &se) {
				return "", &Error{Part: part, Reason: se.Msg + " " + quoteRune(se.Rune)}
			}
			return "", &Error{Part: part, Reason: err.Error()}
		}
	} else if reason != "" {
		return "", &Error{Part: part, Reason: reason}
	}
	if out == "" {
		return "", &Error{Part: part, Reason: "empty once prepared"}
	}
	if len(out) > MaxPartBytes {
		return "", &Error{Part: part, Reason: "longer than 1023 bytes"}
	}
	return out, nil
}

func quoteRune(r rune) string {
	const hex = "0123456789ABCDEF"
	b := []byte("U+")
	digits := 4
	if r > 0xFFFF {
		digits = 6
	}
	for i := digits - 1; i >= 0; i-- {
		b = append(b, hex[(r>>(4*uint(i)))&0xF])
	}
	return string(b)
}
