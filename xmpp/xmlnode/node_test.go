package xmlnode_test

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

func mustParse(t *testing.T, s string) *xmlnode.Node {
	t.Helper()
	n, err := parse(s, xmlnode.DefaultLimits())
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return n
}

// TestPrettyPrinted: whitespace between child elements is text like any
// other (clients and the seed's examples indent their stanzas); reading it
// must neither fail nor panic, and the whitespace is kept in order.
func TestPrettyPrinted(t *testing.T) {
	tests := []struct{ name, in, texts string }{
		{"indented stanza", "<presence to=\"g@s\">\n  <x xmlns=\"urn:x\"/>\n  <properties>\n    <property name=\"name\">n</property>\n  </properties>\n</presence>",
			`"\n  " <x> "\n  " <properties> "\n"`},
		{"text around a child", "<p>one <b>two</b> three</p>", `"one " <b> " three"`},
		{"text around a nested child", "<a><b>one <c/> two</b></a>", `<b>`},
		{"text around many children", "<a> <b/> <c/> <d/> <e/> <f/> </a>", `" " <b> " " <c> " " <d> " " <e> " " <f> " "`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := mustParse(t, tt.in)
			kinds := make([]string, 0, len(n.Children))
			for _, c := range n.Children {
				if c.IsText() {
					kinds = append(kinds, fmt.Sprintf("%q", c.Text))
				} else {
					kinds = append(kinds, "<"+c.Name.Local+">")
				}
			}
			if got := strings.Join(kinds, " "); got != tt.texts {
				t.Errorf("children = %s, want %s", got, tt.texts)
			}
			if got := n.String(); got != tt.in {
				t.Errorf("String()\n got %s\nwant %s", got, tt.in)
			}
		})
	}
}

// TestRoundTripNamespaces reads an element, writes it back with String, and
// checks the exact bytes, that they are namespace-well-formed, and that
// reading them again gives the same tree.
func TestRoundTripNamespaces(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{{
		name: "child in the parent namespace is written without xmlns",
		in:   `<message xmlns="jabber:client" to="a@b"><body>hi</body><thread>t1</thread></message>`,
		want: `<message xmlns="jabber:client" to="a@b"><body>hi</body><thread>t1</thread></message>`,
	}, {
		name: "child in a new namespace declares it",
		in:   `<message xmlns="jabber:client"><x xmlns="jabber:x:data" type="at" id="a@b"/></message>`,
		want: `<message xmlns="jabber:client"><x xmlns="jabber:x:data" type="at" id="a@b"/></message>`,
	}, {
		name: "grandchild back in the outer namespace declares it again",
		in:   `<a xmlns="urn:one"><b xmlns="urn:two"><c xmlns="urn:one"><d/></c></b></a>`,
		want: `<a xmlns="urn:one"><b xmlns="urn:two"><c xmlns="urn:one"><d/></c></b></a>`,
	}, {
		name: "child in no namespace undeclares the default",
		in:   `<a xmlns="urn:one"><b xmlns=""/></a>`,
		want: `<a xmlns="urn:one"><b xmlns=""/></a>`,
	}, {
		name: "element without namespace at the top",
		in:   `<a><b/></a>`,
		want: `<a><b/></a>`,
	}, {
		name: "prefixed elements become default-namespace elements",
		in:   `<p:a xmlns:p="urn:one"><p:b/><c/></p:a>`,
		want: `<a xmlns="urn:one"><b/><c xmlns=""/></a>`,
	}, {
		name: "xml:lang",
		in:   `<message xmlns="jabber:client"><body xml:lang="en">hi</body><body xml:lang="de">hallo</body></message>`,
		want: `<message xmlns="jabber:client"><body xml:lang="en">hi</body><body xml:lang="de">hallo</body></message>`,
	}, {
		name: "prefixed attribute in another namespace",
		in:   `<a xmlns="urn:one" xmlns:p="urn:two" p:x="1" y="2"><b p:z="3"/></a>`,
		want: `<a xmlns="urn:one" xmlns:ns1="urn:two" ns1:x="1" y="2"><b xmlns:ns1="urn:two" ns1:z="3"/></a>`,
	}, {
		name: "two prefixed attributes in two namespaces",
		in:   `<a xmlns:p="urn:two" xmlns:q="urn:three" p:x="1" q:x="2"/>`,
		want: `<a xmlns:ns1="urn:two" ns1:x="1" xmlns:ns2="urn:three" ns2:x="2"/>`,
	}, {
		name: "prefixed attribute in the element's own namespace",
		in:   `<p:a xmlns:p="urn:one" p:x="1"/>`,
		want: `<a xmlns="urn:one" xmlns:ns1="urn:one" ns1:x="1"/>`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := mustParse(t, tt.in)
			got := n.String()
			if got != tt.want {
				t.Errorf("String()\n got %s\nwant %s", got, tt.want)
			}
			if err := checkNamespaceWellFormed(got); err != nil {
				t.Errorf("written XML is not namespace-well-formed: %v\n%s", err, got)
			}
			if d := diffTree(n, mustParse(t, got)); d != "" {
				t.Errorf("read back differs: %s", d)
			}
		})
	}
}

func TestReadNamespaces(t *testing.T) {
	n := mustParse(t, `<message xmlns="jabber:client" xmlns:p="urn:two" p:x="1" xml:lang="en" to="a@b">`+
		`<body>hi</body><x xmlns="jabber:x:data"/></message>`)
	if want := (xml.Name{Space: "jabber:client", Local: "message"}); n.Name != want {
		t.Errorf("name = %v, want %v", n.Name, want)
	}
	wantAttrs := []xml.Attr{
		{Name: xml.Name{Space: "urn:two", Local: "x"}, Value: "1"},
		{Name: xml.Name{Space: xmlURL, Local: "lang"}, Value: "en"},
		{Name: xml.Name{Local: "to"}, Value: "a@b"},
	}
	if fmt.Sprint(n.Attrs) != fmt.Sprint(wantAttrs) {
		t.Errorf("attrs = %v, want %v (namespace declarations dropped)", n.Attrs, wantAttrs)
	}
	if got := n.Child("", "body").Name.Space; got != "jabber:client" {
		t.Errorf("body inherits the default namespace: got %q", got)
	}
	if got := n.Child("", "x").Name.Space; got != "jabber:x:data" {
		t.Errorf("x namespace = %q", got)
	}
}

// TestAppendXMLParentNamespace: AppendXML declares the element's namespace
// only when it differs from the namespace in effect where it is written.
func TestAppendXMLParentNamespace(t *testing.T) {
	n := &xmlnode.Node{Name: xml.Name{Space: "jabber:client", Local: "thread"}, Children: []*xmlnode.Node{{Text: "t1"}}, Text: "t1"}
	if got, want := string(xmlnode.AppendXML(nil, n, "jabber:client")), `<thread>t1</thread>`; got != want {
		t.Errorf("same namespace: got %s, want %s", got, want)
	}
	if got, want := string(xmlnode.AppendXML([]byte("x"), n, "jabber:server")), `x<thread xmlns="jabber:client">t1</thread>`; got != want {
		t.Errorf("other namespace: got %s, want %s", got, want)
	}
	empty := &xmlnode.Node{Name: xml.Name{Local: "e"}}
	if got, want := string(xmlnode.AppendXML(nil, empty, "jabber:client")), `<e xmlns=""/>`; got != want {
		t.Errorf("no namespace under a default: got %s, want %s", got, want)
	}
	textOnly := &xmlnode.Node{Name: xml.Name{Local: "t"}, Text: "a<b"}
	if got, want := textOnly.String(), `<t>a&lt;b</t>`; got != want {
		t.Errorf("text without text children: got %s, want %s", got, want)
	}
}

// TestManyNamespacedAttributes: every namespaced attribute gets a prefix of
// its own; with more than nine of them on one element the prefixes must
// still be distinct, or the output declares one prefix twice (not
// well-formed) and reads back with the wrong namespaces.
func TestManyNamespacedAttributes(t *testing.T) {
	for _, count := range []int{9, 10, 11, 12, 25} {
		t.Run(fmt.Sprint(count), func(t *testing.T) {
			var b strings.Builder
			b.WriteString(`<a xmlns="urn:top"`)
			for i := range count {
				fmt.Fprintf(&b, ` xmlns:p%d="urn:attr:%d" p%d:k="%d"`, i, i, i, i)
			}
			b.WriteString(`/>`)
			n := mustParse(t, b.String())
			if len(n.Attrs) != count {
				t.Fatalf("read %d attributes, want %d", len(n.Attrs), count)
			}
			out := n.String()
			if err := checkNamespaceWellFormed(out); err != nil {
				t.Errorf("written XML is not namespace-well-formed: %v\n%s", err, out)
			}
			back, err := parse(out, xmlnode.Limits{})
			if err != nil {
				t.Fatalf("read back: %v\n%s", err, out)
			}
			if d := diffTree(n, back); d != "" {
				t.Errorf("read back differs: %s\n%s", d, out)
			}
		})
	}
}

// TestOddNames: encoding/xml splits a name at its colon without checking
// that the local part is itself a name ("p:0" gives local "0"), and lets a
// prefix be bound to the empty namespace. Whatever Read accepts, AppendXML
// must write so that it reads back to the same tree.
func TestOddNames(t *testing.T) {
	for _, in := range []string{
		`<A00000000:0/>`,
		`<a><p:0 xmlns:p="urn:p"/></a>`,
		`<a xmlns:p="urn:p" p:0="1"/>`,
		`<p:a xmlns:p="" p:0=""></p:a>`,
		`<a xmlns:p="" p:x="1" x="2"/>`,
		`<a:/>`,
		`<:a/>`,
		`<a b:="1"/>`,
	} {
		t.Run(in, func(t *testing.T) {
			n, err := parse(in, xmlnode.DefaultLimits())
			if err != nil {
				var pe *panicError
				if errors.As(err, &pe) {
					t.Fatalf("Read panics: %v", err)
				}
				return // refused: fine
			}
			out := n.String()
			back, err := parse(out, xmlnode.Limits{})
			if err != nil {
				t.Fatalf("accepted, then written as XML that does not read back: %v\nout: %s", err, out)
			}
			if d := diffTree(n, back); d != "" {
				t.Errorf("read back differs: %s\nout: %s", d, out)
			}
		})
	}
}

func TestEscaping(t *testing.T) {
	const nasty = "<a href=\"x\">&amp; 'q' \r\n\t]]> é 🙂"
	n := &xmlnode.Node{
		Name:     xml.Name{Local: "e"},
		Attrs:    []xml.Attr{{Name: xml.Name{Local: "v"}, Value: nasty}},
		Children: []*xmlnode.Node{{Text: nasty}},
		Text:     nasty,
	}
	got := n.String()
	want := `<e v="&lt;a href=&#34;x&#34;&gt;&amp;amp; &#39;q&#39; &#xD;&#xA;&#x9;]]&gt; é 🙂">` +
		"&lt;a href=\"x\"&gt;&amp;amp; 'q' &#xD;\n\t]]&gt; é 🙂</e>"
	if got != want {
		t.Errorf("String()\n got %s\nwant %s", got, want)
	}
	back := mustParse(t, got)
	if back.Attr("v") != nasty {
		t.Errorf("attribute read back as %q, want %q", back.Attr("v"), nasty)
	}
	if back.Text != nasty {
		t.Errorf("text read back as %q, want %q", back.Text, nasty)
	}
	if d := diffTree(n, back); d != "" {
		t.Errorf("read back differs: %s", d)
	}

	plain := []struct{ in, text, attr string }{
		{"", "", ""},
		{"plain text", "plain text", "plain text"},
		{`say "hi"`, `say "hi"`, `say &#34;hi&#34;`},
		{"a\nb", "a\nb", "a&#xA;b"},
		{"a&b", "a&amp;b", "a&amp;b"},
		{"x>y", "x&gt;y", "x&gt;y"},
		{"日本語", "日本語", "日本語"},
	}
	for _, p := range plain {
		if got := string(xmlnode.AppendText([]byte("<"), p.in)); got != "<"+p.text {
			t.Errorf("AppendText(%q) = %q, want %q", p.in, got, "<"+p.text)
		}
		if got := string(xmlnode.AppendAttrValue(nil, p.in)); got != p.attr {
			t.Errorf("AppendAttrValue(%q) = %q, want %q", p.in, got, p.attr)
		}
	}
}

func TestMixedContent(t *testing.T) {
	const in = `<p xmlns="urn:x">one <b>two</b> three<i/>four<!-- gone --> five<?pi x?>&amp;<![CDATA[<six>]]></p>`
	n := mustParse(t, in)
	kinds := make([]string, 0, len(n.Children))
	for _, c := range n.Children {
		if c.IsText() {
			kinds = append(kinds, fmt.Sprintf("%q", c.Text))
		} else {
			kinds = append(kinds, "<"+c.Name.Local+">")
		}
	}
	if got, want := strings.Join(kinds, " "), `"one " <b> " three" <i> "four five&<six>"`; got != want {
		t.Errorf("children = %s, want %s", got, want)
	}
	if want := "one  threefour five&<six>"; n.Text != want {
		t.Errorf("Text = %q, want %q (all text children joined)", n.Text, want)
	}
	if got := n.Child("", "b").Text; got != "two" {
		t.Errorf("b text = %q", got)
	}
	out := n.String()
	if want := `<p xmlns="urn:x">one <b>two</b> three<i/>four five&amp;&lt;six&gt;</p>`; out != want {
		t.Errorf("String()\n got %s\nwant %s", out, want)
	}
	if d := diffTree(n, mustParse(t, out)); d != "" {
		t.Errorf("read back differs: %s", d)
	}
}

func TestAccessors(t *testing.T) {
	n := mustParse(t, `<iq xmlns="jabber:component:accept" xmlns:p="urn:p" type="get" p:type="other">`+
		` <query xmlns="urn:a" node="n1"><item id="1"/><item id="2"/><other/></query>`+
		`<query xmlns="urn:b"/></iq>`)
	if n.IsText() || !n.Children[0].IsText() {
		t.Fatalf("IsText: element %v, leading whitespace %v", n.IsText(), n.Children[0].IsText())
	}
	if got := n.Attr("type"); got != "get" {
		t.Errorf(`Attr("type") = %q, want "get" (not the namespaced one)`, got)
	}
	if got := n.Attr("missing"); got != "" {
		t.Errorf(`Attr("missing") = %q`, got)
	}
	if q := n.Child("", "query"); q == nil || q.Name.Space != "urn:a" {
		t.Errorf(`Child("", "query") = %v, want the first query`, q)
	}
	if q := n.Child("urn:b", "query"); q == nil || q.Name.Space != "urn:b" {
		t.Errorf(`Child("urn:b", "query") = %v`, q)
	}
	if q := n.Child("urn:c", "query"); q != nil {
		t.Errorf(`Child("urn:c", "query") = %v, want nil`, q)
	}
	if got := len(n.ChildrenNamed("", "query")); got != 2 {
		t.Errorf(`ChildrenNamed("", "query"): %d, want 2`, got)
	}
	items := n.ChildNS("urn:a").ChildrenNamed("urn:a", "item")
	if len(items) != 2 || items[1].Attr("id") != "2" {
		t.Errorf("items = %v", items)
	}
	if got := n.ChildNS("urn:b"); got == nil || got.Name.Local != "query" {
		t.Errorf(`ChildNS("urn:b") = %v`, got)
	}
	if got := n.ChildNS(""); got != nil {
		t.Errorf("ChildNS must skip text nodes (which have no namespace): got %v", got)
	}
	var nilNode *xmlnode.Node
	if nilNode.Attr("x") != "" || nilNode.Child("", "x") != nil || nilNode.ChildrenNamed("", "x") != nil || nilNode.ChildNS("x") != nil {
		t.Errorf("accessors on a nil node must return zero values")
	}
	if n.Child("", "nothing").Attr("x") != "" {
		t.Errorf("chained accessors on a missing child must return zero values")
	}
}

// readStream reads the element that follows the decoder's position.
func readNext(t *testing.T, d *xml.Decoder, lim xmlnode.Limits) (*xmlnode.Node, error) {
	t.Helper()
	start, err := firstStart(d)
	if err != nil {
		t.Fatalf("no next element: %v", err)
	}
	return read(d, start, lim)
}

func TestLimits(t *testing.T) {
	const streamHead = `<stream:stream xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:component:accept" id="s1">`
	const top = `<message xmlns:p="urn:p" from="a@b/c" to="g@groupchat.b" type="groupchat" id="m1" p:x="1">`
	wantAttrs := []xml.Attr{
		{Name: xml.Name{Local: "from"}, Value: "a@b/c"},
		{Name: xml.Name{Local: "to"}, Value: "g@groupchat.b"},
		{Name: xml.Name{Local: "type"}, Value: "groupchat"},
		{Name: xml.Name{Local: "id"}, Value: "m1"},
		{Name: xml.Name{Space: "urn:p", Local: "x"}, Value: "1"},
	}
	nested := func(depth int) string {
		return strings.Repeat("<d>", depth) + "deep" + strings.Repeat("</d>", depth)
	}
	siblings := func(count int) string { return strings.Repeat("<e/>", count) }
	tests := []struct {
		name string
		lim  xmlnode.Limits
		body string
		what string // "" when the element is within the limits
	}{
		// size: names (with namespace) + attribute names and values + text.
		{name: "size: text over the limit", lim: xmlnode.Limits{MaxBytes: 200}, body: strings.Repeat("x", 300), what: "size"},
		{name: "size: many small texts", lim: xmlnode.Limits{MaxBytes: 200}, body: strings.Repeat("<b>xxxxxxxxxx</b>", 30), what: "size"},
		{name: "size: attributes", lim: xmlnode.Limits{MaxBytes: 200}, body: `<b v="` + strings.Repeat("v", 250) + `"/>`, what: "size"},
		{name: "size: within", lim: xmlnode.Limits{MaxBytes: 400}, body: strings.Repeat("x", 100)},
		// depth: the top element is depth 1.
		{name: "depth: one over", lim: xmlnode.Limits{MaxDepth: 5}, body: nested(5), what: "nesting"},
		{name: "depth: far over", lim: xmlnode.Limits{MaxDepth: 5}, body: nested(500), what: "nesting"},
		{name: "depth: exactly at the limit", lim: xmlnode.Limits{MaxDepth: 5}, body: nested(4)},
		// breadth: elements below the top one.
		{name: "elements: one over", lim: xmlnode.Limits{MaxChildren: 10}, body: siblings(11), what: "number of elements"},
		{name: "elements: nested and flat", lim: xmlnode.Limits{MaxChildren: 10}, body: siblings(6) + nested(6), what: "number of elements"},
		{name: "elements: far over", lim: xmlnode.Limits{MaxChildren: 10}, body: siblings(5000), what: "number of elements"},
		{name: "elements: exactly at the limit", lim: xmlnode.Limits{MaxChildren: 10}, body: siblings(10)},
		{name: "zero limits mean none", lim: xmlnode.Limits{}, body: nested(100) + siblings(100) + strings.Repeat("x", 1<<16)},
		{name: "default limits: 33 deep", lim: xmlnode.DefaultLimits(), body: nested(32), what: "nesting"},
		{name: "default limits: 4097 elements", lim: xmlnode.DefaultLimits(), body: siblings(4097), what: "number of elements"},
		{name: "default limits: 300 KiB of text", lim: xmlnode.DefaultLimits(), body: strings.Repeat("x", 300<<10), what: "size"},
		{name: "default limits: a chat message", lim: xmlnode.DefaultLimits(), body: "<body>" + strings.Repeat("x", 64<<10) + "</body>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream := streamHead + top + tt.body + `</message>` +
				`<presence from="a@b/c" to="g@groupchat.b"><x xmlns="urn:next"/></presence>`
			d := xml.NewDecoder(strings.NewReader(stream))
			if _, err := firstStart(d); err != nil { // the stream header
				t.Fatal(err)
			}
			n, err := readNext(t, d, tt.lim)
			if tt.what == "" {
				if err != nil {
					t.Fatalf("within the limits: %v", err)
				}
				if n.Name.Local != "message" || len(n.Attrs) != len(wantAttrs) {
					t.Fatalf("read %v", n)
				}
			} else {
				if n != nil {
					t.Errorf("an element over a limit must not be returned")
				}
				var le *xmlnode.LimitError
				if !errors.As(err, &le) {
					t.Fatalf("err = %v (%T), want *LimitError", err, err)
				}
				if !errors.Is(err, xmlnode.ErrTooLarge) {
					t.Errorf("errors.Is(err, ErrTooLarge) = false")
				}
				if le.What != tt.what {
					t.Errorf("What = %q, want %q", le.What, tt.what)
				}
				if !strings.Contains(le.Error(), tt.what) {
					t.Errorf("Error() = %q does not name %q", le.Error(), tt.what)
				}
				p := le.Partial
				if p == nil {
					t.Fatalf("Partial is nil")
				}
				if want := (xml.Name{Space: "jabber:component:accept", Local: "message"}); p.Name != want {
					t.Errorf("Partial.Name = %v, want %v", p.Name, want)
				}
				if fmt.Sprint(p.Attrs) != fmt.Sprint(wantAttrs) {
					t.Errorf("Partial.Attrs = %v, want %v", p.Attrs, wantAttrs)
				}
				if len(p.Children) != 0 || p.Text != "" {
					t.Errorf("Partial holds only the top element: %d children, text %q", len(p.Children), p.Text)
				}
			}
			// The decoder is positioned after the element: the next one reads.
			next, err := readNext(t, d, tt.lim)
			if err != nil {
				t.Fatalf("reading the next element: %v", err)
			}
			if next.Name.Local != "presence" || next.Attr("from") != "a@b/c" || next.ChildNS("urn:next") == nil {
				t.Errorf("next element = %s", next)
			}
		})
	}
}

// TestSizeBoundary pins what the size estimate counts: the element's name
// and namespace, attribute names and values, and text.
func TestSizeBoundary(t *testing.T) {
	// <a> with 9 bytes of text: 1 + 9 = 10.
	if _, err := parse(`<a>123456789</a>`, xmlnode.Limits{MaxBytes: 10}); err != nil {
		t.Errorf("10 bytes under MaxBytes 10: %v", err)
	}
	if _, err := parse(`<a>1234567890</a>`, xmlnode.Limits{MaxBytes: 10}); !errors.Is(err, xmlnode.ErrTooLarge) {
		t.Errorf("11 bytes under MaxBytes 10: err = %v, want ErrTooLarge", err)
	}
	// <a xmlns="urn:x" k="v"/>: 1 + 5 + 1 + 1 = 8 (the declaration is not an attribute).
	if _, err := parse(`<a xmlns="urn:x" k="v"/>`, xmlnode.Limits{MaxBytes: 8}); err != nil {
		t.Errorf("8 bytes under MaxBytes 8: %v", err)
	}
	if _, err := parse(`<a xmlns="urn:x" k="vv"/>`, xmlnode.Limits{MaxBytes: 8}); !errors.Is(err, xmlnode.ErrTooLarge) {
		t.Errorf("9 bytes under MaxBytes 8: err = %v, want ErrTooLarge", err)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct{ name, in string }{
		{"truncated", `<a><b>text`},
		{"truncated after start", `<a>`},
		{"mismatched end", `<a><b></a>`},
		{"bad character reference", `<a>&#1;</a>`},
		{"undefined entity", `<a>&nbsp;</a>`},
		{"no element", `just text`},
		{"empty", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := parse(tt.in, xmlnode.DefaultLimits())
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", tt.in, n)
			}
			if errors.Is(err, xmlnode.ErrTooLarge) {
				t.Errorf("a syntax error is not a limit error: %v", err)
			}
		})
	}
}

// tokens is a TokenReader over a fixed list of tokens, then io.EOF.
type tokens []xml.Token

func (ts *tokens) Token() (xml.Token, error) {
	if len(*ts) == 0 {
		return nil, io.EOF
	}
	tok := (*ts)[0]
	*ts = (*ts)[1:]
	return tok, nil
}

// TestReadEOFInsideElement: a token stream that ends inside the element is
// an unexpected EOF, not a clean end.
func TestReadEOFInsideElement(t *testing.T) {
	start := xml.StartElement{Name: xml.Name{Local: "a"}}
	ts := tokens{xml.StartElement{Name: xml.Name{Local: "b"}}, xml.CharData("x")}
	n, err := read(&ts, start, xmlnode.DefaultLimits())
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Read = %v, %v; want io.ErrUnexpectedEOF", n, err)
	}
	// From the same kind of reader, a whole element reads.
	ts = tokens{xml.StartElement{Name: xml.Name{Local: "b"}}, xml.CharData("x"), xml.EndElement{Name: xml.Name{Local: "b"}}, xml.EndElement{Name: start.Name}}
	n, err = read(&ts, start, xmlnode.DefaultLimits())
	if err != nil || n.Child("", "b").Text != "x" {
		t.Errorf("Read = %v, %v; want <a><b>x</b></a>", n, err)
	}
}

// TestParseSkipsProlog: Parse reads the first element after a declaration
// and comments, and only that element.
func TestParseSkipsProlog(t *testing.T) {
	n := mustParse(t, "<?xml version='1.0'?>\n<!-- a comment -->\n<a x='1'><b/></a><ignored/>")
	if n.Name.Local != "a" || n.Attr("x") != "1" || len(n.Children) != 1 {
		t.Errorf("Parse = %s", n)
	}
}
