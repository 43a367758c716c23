package presence

import (
	"slices"
	"sort"
	"sync"

	"github.com/uuchat/groupchat/xmpp/address"
)

// Tracker is the set of online resources, keyed by bare JID. It is safe for
// concurrent use.
type Tracker struct {
	mu sync.RWMutex
	// resources holds each bare JID's online full JIDs, sorted: every
	// broadcast reads them once per member, far more often than they
	// change, so a read copies a short slice (under the read lock).
	resources map[string][]string
	count     int
	changes   uint64
}

// NewTracker returns an empty tracker.
func NewTracker() *Tracker {
	return &Tracker{resources: make(map[string][]string)}
}

// Online marks a full JID online. Bare JIDs are ignored: only a resource
// can receive groupchat messages.
func (t *Tracker) Online(full address.JID) {
	if full.Resourcepart() == "" {
		return
	}
	bare, f := full.Bare().String(), full.String()
	t.mu.RLock()
	_, known := slices.BinarySearch(t.resources[bare], f)
	t.mu.RUnlock()
	if known {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fulls := t.resources[bare]
	if i, ok := slices.BinarySearch(fulls, f); !ok {
		t.resources[bare] = slices.Insert(fulls, i, f)
		t.count++
		t.changes++
	}
}

// Offline forgets a full JID; for a bare JID it forgets all its resources.
func (t *Tracker) Offline(j address.JID) {
	bare := j.Bare().String()
	t.mu.Lock()
	defer t.mu.Unlock()
	fulls := t.resources[bare]
	if fulls == nil {
		return
	}
	t.changes++
	if j.Resourcepart() == "" {
		t.count -= len(fulls)
		delete(t.resources, bare)
		return
	}
	if i, ok := slices.BinarySearch(fulls, j.String()); ok {
		fulls = slices.Delete(fulls, i, i+1)
		t.count--
	}
	if len(fulls) == 0 {
		delete(t.resources, bare)
		return
	}
	t.resources[bare] = fulls
}

// Resources appends the online full JIDs of a bare JID to dst, sorted.
func (t *Tracker) Resources(dst []string, bare string) []string {
	t.mu.RLock()
	dst = append(dst, t.resources[bare]...)
	t.mu.RUnlock()
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
	t.resources = make(map[string][]string)
	t.count = 0
	t.changes++
}

// Snapshot lists every online full JID, sorted, and the tracker's change
// count at that moment (to tell whether a later snapshot would differ).
func (t *Tracker) Snapshot() (fulls []string, changes uint64) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, set := range t.resources {
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
func (t *Tracker) Restore(fulls []string) {
	for _, f := range fulls {
		if j, err := address.Parse(f); err == nil {
			t.Online(j)
		}
	}
}
