// Package xmlnode is a small, namespace-aware XML element tree for stanzas:
// it reads one element from an xml.TokenReader with bounds on size, depth
// and breadth (hostile input never grows without limit), and writes elements
// back as bytes, declaring each namespace once where it changes so that
// extension payloads reach members exactly as their sender meant them.
package xmlnode
