// Package aggregate keeps the in-memory state of event-sourced aggregates
// (a group, a user's push settings) and changes it the one way the log
// allows: decide on the state, append what was decided with the state's
// version as the expected version, and apply it only once it is stored.
//
// It sits at the module root, between domain (the states and their rules)
// and eventstore (the log), because more than one consumer needs it: the
// service's shards for groups and xmpp/push for push settings. It knows
// nothing of XMPP.
//
// A Repository owns the states it holds; which ones it holds is its cache
// policy. Today it keeps every state it loaded until an append fails;
// bounding it (issue 18) only changes what Get and the applying methods
// keep, not how callers use it.
package aggregate
