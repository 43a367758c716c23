package protocol_test

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/xmpp/protocol"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
	"github.com/uuchat/groupchat/xmpp/xmlnode/xmlnodetest"
)

// The repository's testdata, shared by the packages' tests.
var (
	seedDir   = filepath.Join("..", "..", "testdata", "seed")
	goldenDir = filepath.Join("..", "..", "testdata", "golden")
)

// Addresses of the test domain.
const (
	service  = "groupchat.shakespeare.lit"
	groupJID = "groupid@" + service
	hag      = "hag66@shakespeare.lit"
	hagPDA   = hag + "/pda"
	crone    = "crone1@shakespeare.lit"
	croneDT  = crone + "/desktop"
)

func readSeed(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(seedDir, name))
	if err != nil {
		t.Fatalf("seed example: %v", err)
	}
	return string(b)
}

var betweenTags = regexp.MustCompile(`>\s+<`)

// compact drops the whitespace between tags (the seed's indentation), the
// form an XMPP server usually forwards.
func compact(s string) string { return strings.TrimSpace(betweenTags.ReplaceAllString(s, "><")) }

// panicError is a panic of the code under test, turned into an error so
// that one input that makes it panic fails its own test only.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

func catch(err *error) {
	if r := recover(); r != nil {
		*err = &panicError{r, debug.Stack()}
	}
}

// parseNode is xmlnode.Parse with the default limits, a panic turned into
// a *panicError.
func parseNode(s string) (n *xmlnode.Node, err error) {
	defer catch(&err)
	return xmlnode.Parse(s, xmlnode.DefaultLimits())
}

// parseRequest runs an incoming stanza through the whole parsing path:
// xmlnode.Parse, protocol.ParseStanza, protocol.Parse. A panic on the way
// comes back as a *panicError.
func parseRequest(s string) (st protocol.Stanza, req protocol.Request, err error) {
	defer catch(&err)
	n, err := xmlnode.Parse(s, xmlnode.DefaultLimits())
	if err != nil {
		return st, nil, fmt.Errorf("xmlnode.Parse: %w", err)
	}
	if st, err = protocol.ParseStanza(n); err != nil {
		return st, nil, err
	}
	req, err = protocol.Parse(st)
	return st, req, err
}

// mustStanza parses a stanza that the test needs as input for rendering.
func mustStanza(t testing.TB, s string) protocol.Stanza {
	t.Helper()
	n, err := parseNode(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	st, err := protocol.ParseStanza(n)
	if err != nil {
		t.Fatalf("ParseStanza(%q): %v", s, err)
	}
	return st
}

// mustRequest parses a request that must be accepted.
func mustRequest(t testing.TB, s string) (protocol.Stanza, protocol.Request) {
	t.Helper()
	st, req, err := parseRequest(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return st, req
}

// stanzaError is the *protocol.Error in err, or nil.
func stanzaError(err error) *protocol.Error {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// checkGolden compares got with the golden file name (got plus a final
// newline); with -update it rewrites the file instead.
func checkGolden(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file (run go test -update to create it): %v", err)
	}
	if got+"\n" != string(want) {
		t.Errorf("rendered bytes differ from %s\n got: %s\nwant: %s", path, got, strings.TrimSuffix(string(want), "\n"))
	}
}

// elem is an element tree decoded with encoding/xml alone, independent of
// xmlnode, for structural and semantic checks of rendered XML: text is
// trimmed, whitespace-only text dropped, namespace declarations dropped.
type elem struct {
	Name     xml.Name
	Attrs    []xml.Attr
	Children []*elem
	Text     string
	// Raw is the element's own character data, untrimmed.
	Raw string
}

func decodeXML(s string) (*elem, error) {
	d := xml.NewDecoder(strings.NewReader(s))
	var stack []*elem
	var root *elem
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if root == nil || len(stack) > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			e := &elem{Name: t.Name}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				e.Attrs = append(e.Attrs, a)
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, e)
			} else if root == nil {
				root = e
			} else {
				return nil, fmt.Errorf("a second top-level element <%s>", t.Name.Local)
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Raw += string(t)
				if txt := strings.TrimSpace(string(t)); txt != "" {
					p := stack[len(stack)-1]
					if p.Text != "" {
						p.Text += " "
					}
					p.Text += txt
				}
			}
		}
	}
}

func mustDecode(t testing.TB, s string) *elem {
	t.Helper()
	e, err := decodeXML(s)
	if err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return e
}

func (e *elem) attr(local string) string {
	if e == nil {
		return ""
	}
	for _, a := range e.Attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func (e *elem) hasAttr(local string) bool {
	for _, a := range e.Attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return true
		}
	}
	return false
}

func (e *elem) child(space, local string) *elem {
	if e == nil {
		return nil
	}
	for _, c := range e.Children {
		if c.Name.Space == space && c.Name.Local == local {
			return c
		}
	}
	return nil
}

// canon is e in a canonical text form: namespaces expanded, attributes
// sorted, children in order, text trimmed. Two elements with the same
// canon form are the same XML for the protocol (attribute order and
// indentation aside).
func canon(e *elem) string {
	var b strings.Builder
	canonTo(&b, e, 0)
	return b.String()
}

func canonTo(b *strings.Builder, e *elem, depth int) {
	b.WriteString(strings.Repeat("  ", depth))
	fmt.Fprintf(b, "{%s}%s", e.Name.Space, e.Name.Local)
	attrs := append([]xml.Attr(nil), e.Attrs...)
	sort.Slice(attrs, func(i, j int) bool {
		if attrs[i].Name.Space != attrs[j].Name.Space {
			return attrs[i].Name.Space < attrs[j].Name.Space
		}
		return attrs[i].Name.Local < attrs[j].Name.Local
	})
	for _, a := range attrs {
		if a.Name.Space != "" {
			fmt.Fprintf(b, " {%s}%s=%q", a.Name.Space, a.Name.Local, a.Value)
		} else {
			fmt.Fprintf(b, " %s=%q", a.Name.Local, a.Value)
		}
	}
	if e.Text != "" {
		fmt.Fprintf(b, " text=%q", e.Text)
	}
	b.WriteByte('\n')
	for _, c := range e.Children {
		canonTo(b, c, depth+1)
	}
}

// sameXML fails the test when got and want (XML texts) differ in more than
// attribute order and indentation.
func sameXML(t *testing.T, got, want string) {
	t.Helper()
	g, w := canon(mustDecode(t, got)), canon(mustDecode(t, want))
	if g != w {
		t.Errorf("XML differs\n got:\n%s\nwant:\n%s", g, w)
	}
}

// diffTree reports the first difference between two xmlnode trees (names,
// attributes in order, children in order, text), or "".
func diffTree(a, b *xmlnode.Node) string { return xmlnodetest.Diff(a, b) }

func checkNamespaceWellFormed(s string) error { return xmlnodetest.WellFormed(s) }
