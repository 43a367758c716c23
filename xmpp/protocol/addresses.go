package protocol

import "github.com/uuchat/groupchat/xmpp/address"

// Addresses names a service's groups and their members on the wire.
type Addresses struct {
	// Domain is the service's domain, e.g. groupchat.example.org.
	Domain string
}

// Group is the bare address of a group.
func (a Addresses) Group(group string) string { return group + "@" + a.Domain }

// Occupant is the address of a member inside a group. A member id that is
// not a prepared resource (stored before ids were normalized) would be
// refused, or rewritten into another member's address, by the server: such
// a member speaks from the group's bare address.
func (a Addresses) Occupant(group, mid string) string {
	j := a.Group(group) + "/" + mid
	if mid == "" || address.Check(j) != nil {
		return a.Group(group)
	}
	return j
}
