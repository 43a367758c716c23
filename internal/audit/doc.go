// Package audit reads the audit trail of groups from the event log: who
// created, renamed, handed over, deleted, added, removed and made admin or
// member whom, and when.
// Messages and reads are not changes and are left out. The `audit` and
// admin commands and the daemon's web view all read it through here.
package audit
