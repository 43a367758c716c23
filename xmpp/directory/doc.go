// Package directory answers what groups there are and what they offer:
// XEP-0030 disco#info and disco#items of the service and of a group, and
// the queries #items (the user's groups with their counters), #groupinfo
// (of a group, or of the group with a name), #members and #memberinfo.
//
// A group's answers come from the deciding state the caller holds, so they
// follow every command received before them; the service-wide ones read
// the projections (ReadModel), which the caller first lets catch up. The
// answers are IQ result payloads, or errors for protocol.ErrorFor: the
// package neither schedules nor sends.
package directory
