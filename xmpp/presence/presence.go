package presence

import (
	"sort"
	"sync"

	"mellium.im/xmpp/jid"
)

// Tracker is the set of online resources, keyed by bare JID. It is safe for
// concurrent use.
type Tracker struct {
	mu        sync.RWMutex
	resources map[string]map[string]struct{}
	count     int
	changes   uint64
}

// NewTracker returns an empty tracker.
func NewTracker() *Tracker {
	return &Tracker{resources: make(map[string]map[string]struct{})}
}

// Online marks a full JID online. Bare JIDs are ignored: only a resource
// can receive groupchat messages.
func (t *Tracker) Online(full jid.JID) {
	if full.Resourcepart() == "" {
		return
	}
	bare, f := full.Bare().String(), full.String()
	t.mu.RLock()
	_, known := t.resources[bare][f]
	t.mu.RUnlock()
	if known {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	set := t.resources[bare]
	if set == nil {
		set = make(map[string]struct{}, 1)
		t.resources[bare] = set
	}
	if _, ok := set[f]; !ok {
		set[f] = struct{}{}
		t.count++
		t.changes++
	}
}

// Offline forgets a full JID; for a bare JID it forgets all its resources.
func (t *Tracker) Offline(j jid.JID) {
	bare := j.Bare().String()
	t.mu.Lock()
	defer t.mu.Unlock()
	set := t.resources[bare]
	if set == nil {
		return
	}
	t.changes++
	if j.Resourcepart() == "" {
		t.count -= len(set)
		delete(t.resources, bare)
		return
	}
	if _, ok := set[j.String()]; ok {
		delete(set, j.String())
		t.count--
	}
	if len(set) == 0 {
		delete(t.resources, bare)
	}
}

// Resources appends the online full JIDs of a bare JID to dst, sorted.
func (t *Tracker) Resources(dst []string, bare string) []string {
	t.mu.RLock()
	start := len(dst)
	for f := range t.resources[bare] {
		dst = append(dst, f)
	}
	t.mu.RUnlock()
	sort.Strings(dst[start:])
	return dst
}

// IsOnline reports whether a bare JID has any online resource.
func (t *Tracker) IsOnline(bare string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.resources[bare]) > 0
}

// Count is the number of online resources.
func (t *Tracker) Count() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.count
}

// Reset forgets everyone: after the server link is re-established no
// unavailable presence arrives for resources that left meanwhile.
func (t *Tracker) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.resources = make(map[string]map[string]struct{})
	t.count = 0
	t.changes++
}

// Snapshot lists every online full JID, sorted, and the tracker's change
// count at that moment (to tell whether a later snapshot would differ).
func (t *Tracker) Snapshot() (fulls []string, changes uint64) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, set := range t.resources {
		for f := range set {
			fulls = append(fulls, f)
		}
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
func (t *Tracker) Restore(fulls []string) {
	for _, f := range fulls {
		if j, err := jid.Parse(f); err == nil {
			t.Online(j)
		}
	}
}
