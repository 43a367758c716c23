package xmlnode_test

import (
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// FuzzRead: Read never panics, and whatever it accepts AppendXML writes so
// that reading it again gives an equal tree. When the input is
// namespace-well-formed, so is the output.
func FuzzRead(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "seed", "*.xml"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{
		`<a/>`,
		`<a xmlns="urn:one"><b xmlns="urn:two"><c xmlns="urn:one"/></b><d xmlns=""/></a>`,
		`<p:a xmlns:p="urn:p" xmlns:q="urn:q" p:x="1" q:x="2" xml:lang="en"><q:b/></p:a>`,
		`<a>one <b>two</b> three<![CDATA[<four>]]>&amp;&#xD;&#x1F642;</a>`,
		`<a v="&lt;&#9;&#10;&#13;&quot;&apos;"/>`,
		`<a x="1" x="2"/>`,
		`<u:a v:b="c"/>`,
		`<a xmlns:p="" p:x="1"/>`,
		`<a:/>`,
		`<xmlns:a/>`,
		`<a><!-- c --><?pi?><!DOCTYPE x></a>`,
		strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40),
		`<a>` + strings.Repeat(`<b/>`, 5000) + `</a>`,
		`<a><b>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d := xml.NewDecoder(strings.NewReader(in))
		start, err := firstStart(d)
		if err != nil {
			return
		}
		n, err := read(d, start, xmlnode.DefaultLimits())
		var pe *panicError
		if errors.As(err, &pe) {
			t.Fatalf("Read panics on %q: %v\n%s", in, err, pe.stack)
		}
		if err != nil {
			var le *xmlnode.LimitError
			if errors.As(err, &le) {
				if le.Partial == nil || le.Partial.Name != start.Name {
					t.Fatalf("LimitError.Partial = %v, want the top element %v", le.Partial, start.Name)
				}
			}
			return
		}
		out := n.String()
		back, err := parse(out, xmlnode.Limits{})
		if err != nil {
			t.Fatalf("written XML does not read back: %v\n in: %q\nout: %q", err, in, out)
		}
		if diff := diffTree(n, back); diff != "" {
			t.Fatalf("read back differs: %s\n in: %q\nout: %q", diff, in, out)
		}
		if checkNamespaceWellFormed(in) == nil {
			if err := checkNamespaceWellFormed(out); err != nil {
				t.Fatalf("namespace-well-formed input written as malformed XML: %v\n in: %q\nout: %q", err, in, out)
			}
		}
	})
}
