package muc

import (
	"slices"
	"sync"
)

// Rooms is which resources are in which group through the front door. A
// resource in a room receives that room's traffic, shaped for MUC, and
// nothing of groups it did not enter. It is safe for concurrent use.
type Rooms struct {
	mu  sync.RWMutex
	max int
	// byGroup holds each group's occupants: bare JID → its full JIDs,
	// sorted.
	byGroup map[string]map[string][]string
	// byFull holds the groups each resource is in.
	byFull map[string][]string
	count  int
}

// NewRooms returns an empty registry holding at most max (resource,
// room) pairs; 0 is no limit.
func NewRooms(max int) *Rooms {
	return &Rooms{max: max, byGroup: map[string]map[string][]string{}, byFull: map[string][]string{}}
}

// Enter puts full (of user bare) in group's room. It reports false, and
// changes nothing, when the registry is full.
func (r *Rooms) Enter(full, bare, group string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.byFull[full], group) {
		return true
	}
	if r.max > 0 && r.count >= r.max {
		return false
	}
	r.byFull[full] = append(r.byFull[full], group)
	occ := r.byGroup[group]
	if occ == nil {
		occ = map[string][]string{}
		r.byGroup[group] = occ
	}
	fulls := occ[bare]
	i, _ := slices.BinarySearch(fulls, full)
	occ[bare] = slices.Insert(fulls, i, full)
	r.count++
	return true
}

// Exit takes full out of group's room.
func (r *Rooms) Exit(full, bare, group string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exitLocked(full, bare, group)
}

func (r *Rooms) exitLocked(full, bare, group string) {
	groups := r.byFull[full]
	i := slices.Index(groups, group)
	if i < 0 {
		return
	}
	if groups = slices.Delete(groups, i, i+1); len(groups) == 0 {
		delete(r.byFull, full)
	} else {
		r.byFull[full] = groups
	}
	occ := r.byGroup[group]
	fulls := occ[bare]
	if j, ok := slices.BinarySearch(fulls, full); ok {
		fulls = slices.Delete(fulls, j, j+1)
	}
	switch {
	case len(fulls) > 0:
		occ[bare] = fulls
	case len(occ) > 1:
		delete(occ, bare)
	default:
		delete(r.byGroup, group)
	}
	r.count--
}

// Forget takes full out of every room: it bounced a delivery, or its
// session ended.
func (r *Rooms) Forget(full, bare string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range slices.Clone(r.byFull[full]) {
		r.exitLocked(full, bare, g)
	}
}

// ExitGroup empties a room: the group is gone, or the user is no longer a
// member (bare "" for everyone).
func (r *Rooms) ExitGroup(group, bare string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for b, fulls := range r.byGroup[group] {
		if bare != "" && b != bare {
			continue
		}
		for _, f := range slices.Clone(fulls) {
			r.exitLocked(f, b, group)
		}
	}
}

// InAny reports whether full is in some room: such a resource is a MUC
// client, which gets only its rooms' traffic.
func (r *Rooms) InAny(full string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.byFull[full]) > 0
}

// In reports whether full is in group's room.
func (r *Rooms) In(full, group string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Contains(r.byFull[full], group)
}

// Occupants appends to dst the resources of user bare in group's room.
func (r *Rooms) Occupants(dst []string, group, bare string) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append(dst, r.byGroup[group][bare]...)
}

// Present reports whether user bare has a resource in group's room.
func (r *Rooms) Present(group, bare string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.byGroup[group][bare]) > 0
}

// Count is the number of (resource, room) pairs.
func (r *Rooms) Count() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.count
}
