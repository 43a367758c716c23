package presence

import (
	"slices"
	"sort"
	"sync"

	"github.com/uuchat/groupchat/xmpp/address"
)

// Limits bound the resources a Tracker keeps; when one is reached the least
// recently seen resource is forgotten (it catches up when it comes back).
type Limits struct {
	// PerUser is the most resources kept for one bare JID.
	PerUser int
	// Total is the most resources kept of users who are members of a group.
	Total int
	// Candidates is the most resources kept of users in no group.
	Candidates int
}

// DefaultLimits are the limits of NewTracker.
func DefaultLimits() Limits {
	return Limits{PerUser: 32, Total: 100_000, Candidates: 10_000}
}

// Tracker is the set of online resources, keyed by bare JID. Only members'
// resources are online for broadcasts and saved across restarts; resources
// of users in no group are kept apart as candidates, so that a user added
// to a group while online gets the broadcast that adds it. It is safe for
// concurrent use.
type Tracker struct {
	mu         sync.RWMutex
	lim        Limits
	members    resourceSet
	candidates resourceSet
	// groups counts the groups each bare JID is a member of, unless
	// isMember is set: then the read model is asked instead, when a
	// user's first resource is seen and when the user leaves a group, so
	// that nothing about every member is held or loaded at start.
	groups   map[string]int
	isMember func(bare string) bool
	// tick orders the sightings of resources, for least-recently-seen
	// eviction.
	tick    uint64
	changes uint64
}

// resource is one full JID, in its set's list from least to most recently
// seen.
type resource struct {
	full, bare string
	seen       uint64
	prev, next *resource
}

// resourceSet is a bounded set of resources.
type resourceSet struct {
	max    int
	byFull map[string]*resource
	// byBare holds each bare JID's full JIDs, sorted: every broadcast
	// reads them once per member, far more often than they change, so a
	// read copies a short slice (under the read lock).
	byBare map[string][]string
	// oldest and newest are the least and the most recently seen.
	oldest, newest *resource
}

func newSet(max int) resourceSet {
	return resourceSet{max: max, byFull: map[string]*resource{}, byBare: map[string][]string{}}
}

func (s *resourceSet) add(r *resource) {
	s.byFull[r.full] = r
	fulls := s.byBare[r.bare]
	i, _ := slices.BinarySearch(fulls, r.full)
	s.byBare[r.bare] = slices.Insert(fulls, i, r.full)
	s.link(r)
}

func (s *resourceSet) remove(r *resource) {
	delete(s.byFull, r.full)
	fulls := s.byBare[r.bare]
	if i, ok := slices.BinarySearch(fulls, r.full); ok {
		fulls = slices.Delete(fulls, i, i+1)
	}
	if len(fulls) == 0 {
		delete(s.byBare, r.bare)
	} else {
		s.byBare[r.bare] = fulls
	}
	s.unlink(r)
}

// link appends r as the most recently seen.
func (s *resourceSet) link(r *resource) {
	r.prev, r.next = s.newest, nil
	if s.newest != nil {
		s.newest.next = r
	} else {
		s.oldest = r
	}
	s.newest = r
}

func (s *resourceSet) unlink(r *resource) {
	if r.prev != nil {
		r.prev.next = r.next
	} else {
		s.oldest = r.next
	}
	if r.next != nil {
		r.next.prev = r.prev
	} else {
		s.newest = r.prev
	}
	r.prev, r.next = nil, nil
}

// oldestOf is the least recently seen resource of a bare JID.
func (s *resourceSet) oldestOf(bare string) *resource {
	var old *resource
	for _, f := range s.byBare[bare] {
		if r := s.byFull[f]; old == nil || r.seen < old.seen {
			old = r
		}
	}
	return old
}

// NewTracker returns an empty tracker with the default limits.
func NewTracker() *Tracker { return NewTrackerWithLimits(DefaultLimits()) }

// NewTrackerWithLimits returns an empty tracker; a limit that is not
// positive takes its default.
func NewTrackerWithLimits(lim Limits) *Tracker {
	def := DefaultLimits()
	if lim.PerUser <= 0 {
		lim.PerUser = def.PerUser
	}
	if lim.Total <= 0 {
		lim.Total = def.Total
	}
	if lim.Candidates <= 0 {
		lim.Candidates = def.Candidates
	}
	return &Tracker{lim: lim, members: newSet(lim.Total), candidates: newSet(lim.Candidates), groups: map[string]int{}}
}

// AskMembership makes the tracker ask isMember whether a user is a member
// of some group instead of counting the groups from Join and Leave: call
// it before anything else. isMember should answer true when it cannot
// tell (a member's resources must not miss broadcasts; the online set is
// bounded either way).
func (t *Tracker) AskMembership(isMember func(bare string) bool) {
	t.isMember = isMember
}

// setOf is the set a bare JID's resources belong to; member is the
// answer to whether it is a member of some group, if the resources are
// in neither set yet and the read model is asked.
func (t *Tracker) setOf(bare string, member bool) *resourceSet {
	switch {
	case len(t.members.byBare[bare]) > 0:
		return &t.members
	case len(t.candidates.byBare[bare]) > 0:
		return &t.candidates
	case t.isMember != nil && member, t.isMember == nil && t.groups[bare] > 0:
		return &t.members
	}
	return &t.candidates
}

// known reports whether a bare JID has resources in either set.
func (t *Tracker) known(bare string) bool {
	return len(t.members.byBare[bare]) > 0 || len(t.candidates.byBare[bare]) > 0
}

// Online marks a full JID as seen online: among the online resources if
// its user is a member of a group, else among the candidates. Bare JIDs
// are ignored: only a resource can receive groupchat messages.
func (t *Tracker) Online(full address.JID) {
	if full.Resourcepart() == "" {
		return
	}
	bare, f := full.Bare().String(), full.String()
	t.mu.RLock()
	latest := t.members.newest != nil && t.members.newest.full == f || t.candidates.newest != nil && t.candidates.newest.full == f
	known := t.known(bare)
	t.mu.RUnlock()
	if latest {
		return
	}
	// The read model is asked outside the lock, for a user not seen yet.
	member := false
	if !known && t.isMember != nil {
		member = t.isMember(bare)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tick++
	set := t.setOf(bare, member)
	if r := set.byFull[f]; r != nil {
		r.seen = t.tick
		set.unlink(r)
		set.link(r)
		return
	}
	t.insert(set, &resource{full: f, bare: bare, seen: t.tick})
}

// insert adds r to set, forgetting first the least recently seen resource
// of its user, or of the whole set, when a limit is reached.
func (t *Tracker) insert(set *resourceSet, r *resource) {
	if len(set.byBare[r.bare]) >= t.lim.PerUser {
		set.remove(set.oldestOf(r.bare))
	} else if len(set.byFull) >= set.max {
		set.remove(set.oldest)
	}
	set.add(r)
	if set == &t.members {
		t.changes++
	}
}

// Offline forgets a full JID; for a bare JID it forgets all its resources.
func (t *Tracker) Offline(j address.JID) {
	bare := j.Bare().String()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, set := range []*resourceSet{&t.members, &t.candidates} {
		var gone []*resource
		if j.Resourcepart() == "" {
			for _, f := range set.byBare[bare] {
				gone = append(gone, set.byFull[f])
			}
		} else if r := set.byFull[j.String()]; r != nil {
			gone = append(gone, r)
		}
		for _, r := range gone {
			set.remove(r)
		}
		if len(gone) > 0 && set == &t.members {
			t.changes++
		}
	}
}

// Join counts a group a bare JID became a member of. When it is its first,
// its candidate resources become online ones: call it before the event
// that adds the member is broadcast.
func (t *Tracker) Join(bare string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.isMember != nil {
		t.move(bare, &t.candidates, &t.members)
		return
	}
	t.groups[bare]++
	if t.groups[bare] == 1 {
		t.move(bare, &t.candidates, &t.members)
	}
}

// Leave counts a group a bare JID is no longer a member of. When it was its
// last, its online resources become candidates: call it after the event
// that removes the member is broadcast.
func (t *Tracker) Leave(bare string) {
	if t.isMember != nil {
		// The read model holds the removal already: it says whether
		// another group still counts the user in.
		if t.isMember(bare) {
			return
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		t.move(bare, &t.members, &t.candidates)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch n := t.groups[bare]; n {
	case 0:
		return
	case 1:
		delete(t.groups, bare)
		t.move(bare, &t.members, &t.candidates)
	default:
		t.groups[bare] = n - 1
	}
}

// move moves a bare JID's resources from one set to the other, least
// recently seen first.
func (t *Tracker) move(bare string, from, to *resourceSet) {
	var rs []*resource
	for _, f := range from.byBare[bare] {
		rs = append(rs, from.byFull[f])
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].seen < rs[j].seen })
	for _, r := range rs {
		from.remove(r)
		t.insert(to, r)
	}
	if len(rs) > 0 && from == &t.members {
		t.changes++
	}
}

// Resources appends the online full JIDs of a bare JID to dst, sorted.
func (t *Tracker) Resources(dst []string, bare string) []string {
	t.mu.RLock()
	dst = append(dst, t.members.byBare[bare]...)
	t.mu.RUnlock()
	return dst
}

// IsOnline reports whether a bare JID has any online resource.
func (t *Tracker) IsOnline(bare string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.members.byBare[bare]) > 0
}

// Count is the number of online resources.
func (t *Tracker) Count() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.members.byFull)
}

// Reset forgets everyone: after the server link is re-established no
// unavailable presence arrives for resources that left meanwhile.
func (t *Tracker) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.members, t.candidates = newSet(t.lim.Total), newSet(t.lim.Candidates)
	t.changes++
}

// Snapshot lists every online full JID, sorted, and the tracker's change
// count at that moment (to tell whether a later snapshot would differ).
// Candidates are left out: they are not worth keeping across a restart.
func (t *Tracker) Snapshot() (fulls []string, changes uint64) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, set := range t.members.byBare {
		fulls = append(fulls, set...)
	}
	sort.Strings(fulls)
	return fulls, t.changes
}

// Changes counts the changes so far.
func (t *Tracker) Changes() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.changes
}

// Restore marks full JIDs online, as saved by Snapshot before a restart:
// those that left meanwhile bounce the next delivery and are forgotten.
// Asking the read model (AskMembership), it is asked once per user;
// counting the groups, call it once the memberships are counted (Join),
// or every one of them is a candidate.
func (t *Tracker) Restore(fulls []string) {
	for _, f := range fulls {
		if j, err := address.Parse(f); err == nil {
			t.Online(j)
		}
	}
}
