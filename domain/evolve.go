package domain

// DefaultDedupWindow is used by groups built without limits.
const DefaultDedupWindow = 256

// NewGroup returns the state of a group with no events, remembering up to
// lim.DedupWindow recent messages for resend detection.
func NewGroup(lim Limits) *Group {
	return &Group{dedupLimit: lim.DedupWindow}
}

// Evolve applies an event to g and returns it. It never fails: an event was
// decided against the same state, so it is valid by construction.
func Evolve(g *Group, e Event) *Group {
	if g == nil {
		g = &Group{}
	}
	g.Apply(e)
	return g
}

// Apply applies one event to the group's state.
func (g *Group) Apply(e Event) {
	version := g.version
	g.version++
	switch e := eventValue(e).(type) {
	case GroupCreated:
		g.id, g.name, g.typ, g.deleted = e.GroupID, e.Name, e.Type, false
		g.members, g.byJID, g.byMID = nil, map[string]int{}, map[string]int{}
		g.addMembers(e.Members)
	case GroupUpdated:
		if e.Name != "" {
			g.name = e.Name
		}
		if e.NewOwner != "" {
			for i := range g.members {
				switch {
				case g.members[i].JID == e.NewOwner:
					g.members[i].Role = RoleOwner
				case g.members[i].Role == RoleOwner:
					g.members[i].Role = RoleAdmin
				}
			}
		}
	case GroupDeleted:
		g.deleted = true
	case MemberAdded:
		g.addMembers(e.Members)
	case MemberRemoved:
		g.removeMembers(e.Members)
	case MemberRoleChanged:
		if i, ok := g.byJID[e.Member.JID]; ok {
			g.members[i].Role = e.Member.Role
		}
	case MessagePosted:
		g.last, g.hasLast = MessageRef{ID: e.ID, Version: version, Sender: e.Sender}, true
		if key := dedupID(e.OriginID, e.ID); key != "" {
			g.remember(dedupKey{e.Sender, key}, MessageRef{ID: e.ID, Version: version, Sender: e.Sender})
		}
	case MessageRead, MessageRetracted:
	}
}

func (g *Group) addMembers(ms []Member) {
	if g.byJID == nil {
		g.byJID, g.byMID = map[string]int{}, map[string]int{}
	}
	for _, m := range ms {
		g.byJID[m.JID] = len(g.members)
		g.indexMID(m.MID, len(g.members))
		g.members = append(g.members, m)
	}
}

func (g *Group) removeMembers(ms []Member) {
	gone := make(map[string]bool, len(ms))
	for _, m := range ms {
		gone[m.JID] = true
	}
	kept := g.members[:0]
	for _, m := range g.members {
		if !gone[m.JID] {
			kept = append(kept, m)
		}
	}
	g.members = kept
	g.byJID, g.byMID = make(map[string]int, len(kept)), make(map[string]int, len(kept))
	for i, m := range kept {
		g.byJID[m.JID] = i
		g.indexMID(m.MID, i)
	}
}

// indexMID makes mid find the member at i, unless an earlier member holds a
// mid of the same normal form: only events stored before mids were
// normalized can hold two, and the one who joined first keeps the key.
func (g *Group) indexMID(mid string, i int) {
	k := nameKey(mid)
	if _, ok := g.byMID[k]; !ok {
		g.byMID[k] = i
	}
}

func (g *Group) remember(k dedupKey, ref MessageRef) {
	limit := g.dedupLimit
	if limit <= 0 {
		limit = DefaultDedupWindow
	}
	if g.recent == nil {
		g.recent = make(map[dedupKey]MessageRef)
	}
	if len(g.ring) < limit {
		g.ring = append(g.ring, k)
	} else {
		old := g.ring[g.ringNext]
		if ref, ok := g.recent[old]; ok && ref.Version+1 > g.forgotten {
			g.forgotten = ref.Version + 1
		}
		delete(g.recent, old)
		g.ring[g.ringNext] = k
		g.ringNext = (g.ringNext + 1) % limit
	}
	g.recent[k] = ref
}

// eventValue turns a pointer to an event into the event, so that a caller
// holding *MemberAdded evolves the group like one holding MemberAdded; a nil
// pointer yields nil, which changes nothing but the version.
func eventValue(e Event) Event {
	switch e := e.(type) {
	case *GroupCreated:
		return derefEvent(e)
	case *GroupUpdated:
		return derefEvent(e)
	case *GroupDeleted:
		return derefEvent(e)
	case *MemberAdded:
		return derefEvent(e)
	case *MemberRemoved:
		return derefEvent(e)
	case *MessagePosted:
		return derefEvent(e)
	case *MessageRead:
		return derefEvent(e)
	case *MessageRetracted:
		return derefEvent(e)
	case *MemberRoleChanged:
		return derefEvent(e)
	case *PushEnabled:
		return derefEvent(e)
	case *PushDisabled:
		return derefEvent(e)
	case *NotifyLevelSet:
		return derefEvent(e)
	}
	return e
}

func derefEvent[T Event](p *T) Event {
	if p == nil {
		return nil
	}
	return *p
}

// ResendKey is what recognises a resend of a message with these ids.
func ResendKey(originID, id string) string { return dedupID(originID, id) }

// dedupID is what recognises a resend: the XEP-0359 origin-id, which a
// client keeps across resends by design, or else the stanza id.
func dedupID(originID, id string) string {
	if originID != "" {
		return originID
	}
	return id
}
