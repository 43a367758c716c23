//go:build !linux

package ejabberd

// procID identifies a helper process; outside Linux none are tracked.
type procID struct{}

// descendants is not implemented outside Linux: Stop waits for the VM only.
func descendants(int) []procID { return nil }

func (procID) alive() bool { return false }
func (procID) kill()       {}
