package domain

import (
	"encoding/json"
	"fmt"
)

// snapshotFormat is the version of a group snapshot's stored form; a
// snapshot of another version is not read (the stream is folded instead).
const snapshotFormat = 1

// groupSnapshot is a group's state as stored: everything Apply built,
// the deduplication window oldest first.
type groupSnapshot struct {
	Format    int            `json:"format"`
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Type      GroupType      `json:"type"`
	Deleted   bool           `json:"deleted,omitempty"`
	Version   uint64         `json:"version"`
	Members   []Member       `json:"members"`
	Recent    []snapshotSeen `json:"recent,omitempty"`
	Forgotten uint64         `json:"forgotten,omitempty"`
	Last      *MessageRef    `json:"last,omitempty"`
}

// snapshotSeen is one message of the deduplication window.
type snapshotSeen struct {
	Sender string     `json:"sender"`
	Key    string     `json:"key"`
	Ref    MessageRef `json:"ref"`
}

// Snapshot is the group's state in a stored form, to be restored by
// RestoreGroup instead of folding the group's stream up to its version.
func (g *Group) Snapshot() ([]byte, error) {
	g = g.view()
	s := groupSnapshot{
		Format: snapshotFormat, ID: g.id, Name: g.name, Type: g.typ, Deleted: g.deleted,
		Version: g.version, Members: g.members, Forgotten: g.forgotten,
	}
	if g.hasLast {
		last := g.last
		s.Last = &last
	}
	// The ring's oldest slot is ringNext once it is full.
	for i := range g.ring {
		k := g.ring[(g.ringNext+i)%len(g.ring)]
		if ref, ok := g.recent[k]; ok {
			s.Recent = append(s.Recent, snapshotSeen{Sender: k.sender, Key: k.id, Ref: ref})
		}
	}
	return json.Marshal(s)
}

// RestoreGroup returns the group a Snapshot stored, remembering up to
// lim.DedupWindow of its recent messages (fewer than the snapshot holds
// when the window was made smaller since).
func RestoreGroup(lim Limits, data []byte) (*Group, error) {
	var s groupSnapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("domain: group snapshot: %w", err)
	}
	if s.Format != snapshotFormat {
		return nil, fmt.Errorf("domain: group snapshot of format %d, not %d", s.Format, snapshotFormat)
	}
	g := NewGroup(lim)
	g.id, g.name, g.typ, g.deleted, g.version, g.forgotten = s.ID, s.Name, s.Type, s.Deleted, s.Version, s.Forgotten
	g.byJID, g.byMID = map[string]int{}, map[string]int{}
	g.addMembers(s.Members)
	for _, r := range s.Recent {
		g.remember(dedupKey{r.Sender, r.Key}, r.Ref)
	}
	if s.Last != nil {
		g.last, g.hasLast = *s.Last, true
	}
	return g, nil
}
