package xmlnode

import (
	"encoding/xml"
	"strconv"
	"strings"
)

// xmlNS is the namespace bound to the reserved prefix "xml".
const xmlNS = "http://www.w3.org/XML/1998/namespace"

// AppendXML appends n's serialization to buf. parentNS is the default
// namespace in effect where n is written: n declares xmlns only when its own
// namespace differs, so elements of the stanza's namespace inherit it.
func AppendXML(buf []byte, n *Node, parentNS string) []byte {
	if n.IsText() {
		return AppendText(buf, n.Text)
	}
	buf = append(buf, '<')
	buf = append(buf, n.Name.Local...)
	if n.Name.Space != parentNS {
		buf = appendAttr(buf, "xmlns", n.Name.Space)
	}
	prefixes := 0
	for _, a := range n.Attrs {
		switch a.Name.Space {
		case "":
			buf = appendAttr(buf, a.Name.Local, a.Value)
		case xmlNS, "xml":
			buf = appendAttr(buf, "xml:"+a.Name.Local, a.Value)
		default:
			// A namespaced attribute needs a prefix of its own.
			prefixes++
			p := "ns" + strconv.Itoa(prefixes)
			buf = appendAttr(buf, "xmlns:"+p, a.Name.Space)
			buf = appendAttr(buf, p+":"+a.Name.Local, a.Value)
		}
	}
	if len(n.Children) == 0 && n.Text == "" {
		return append(buf, "/>"...)
	}
	buf = append(buf, '>')
	if len(n.Children) == 0 {
		buf = AppendText(buf, n.Text)
	}
	for _, c := range n.Children {
		if c.IsText() {
			buf = AppendText(buf, c.Text)
			continue
		}
		buf = AppendXML(buf, c, n.Name.Space)
	}
	buf = append(buf, "</"...)
	buf = append(buf, n.Name.Local...)
	return append(buf, '>')
}

// String serializes n as a standalone element (its namespace declared).
func (n *Node) String() string { return string(AppendXML(nil, n, "")) }

func appendAttr(buf []byte, name, value string) []byte {
	buf = append(buf, ' ')
	buf = append(buf, name...)
	buf = append(buf, `="`...)
	buf = AppendAttrValue(buf, value)
	return append(buf, '"')
}

// AppendAttrValue appends s escaped for a double-quoted attribute value.
func AppendAttrValue(buf []byte, s string) []byte {
	if !strings.ContainsAny(s, "<>&\"'\r\n\t") {
		return append(buf, s...)
	}
	return appendEscaped(buf, s, true)
}

// AppendText appends s escaped as character data.
func AppendText(buf []byte, s string) []byte {
	if !strings.ContainsAny(s, "<>&\r") {
		return append(buf, s...)
	}
	return appendEscaped(buf, s, false)
}

func appendEscaped(buf []byte, s string, attr bool) []byte {
	var b strings.Builder
	if attr {
		_ = xml.EscapeText(&b, []byte(s))
	} else {
		for _, r := range s {
			switch r {
			case '<':
				b.WriteString("&lt;")
			case '>':
				b.WriteString("&gt;")
			case '&':
				b.WriteString("&amp;")
			case '\r':
				b.WriteString("&#xD;")
			default:
				b.WriteRune(r)
			}
		}
	}
	return append(buf, b.String()...)
}

// AttrValueLen is the length of AppendAttrValue's output for s.
func AttrValueLen(s string) int {
	if !strings.ContainsAny(s, "<>&\"'\r\n\t") {
		return len(s)
	}
	return len(appendEscaped(nil, s, true))
}

// TextLen is the length of AppendText's output for s.
func TextLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<', '>':
			n += 3
		case '&', '\r':
			n += 4
		}
	}
	return n
}
