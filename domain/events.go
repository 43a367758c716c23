package domain

import "time"

// Event is something that happened to a group (or, for the push events in
// push.go, to a user's push settings). Each type has a stable name
// (EventType) that is stored with it and never changes.
type Event interface {
	EventType() string
	// OccurredAt is when the service decided the event.
	OccurredAt() time.Time
}

// The stored event type names. Never rename one: they are the schema.
const (
	TypeGroupCreated  = "GroupCreated"
	TypeGroupUpdated  = "GroupUpdated"
	TypeGroupDeleted  = "GroupDeleted"
	TypeMemberAdded   = "MemberAdded"
	TypeMemberRemoved = "MemberRemoved"
	TypeMessagePosted = "MessagePosted"
	TypeMessageRead   = "MessageRead"
)

// GroupCreated: a user (or an administrator, for system groups) made a group.
// Members lists everyone, the owner first.
type GroupCreated struct {
	GroupID string    `json:"group"`
	Name    string    `json:"name"`
	Type    GroupType `json:"type"`
	Members []Member  `json:"members"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// GroupUpdated: the group's name changed, or its ownership was handed over
// (NewOwner names the new owner; the old one becomes an admin).
type GroupUpdated struct {
	Name     string    `json:"name,omitempty"`
	NewOwner string    `json:"new_owner,omitempty"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

// GroupDeleted: the owner deleted the group. Its stream stays for audit.
type GroupDeleted struct {
	// Members are those the group had when it was deleted.
	Members []Member  `json:"members"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	// Reason and Venue are the owner's explanation and where to go
	// instead, when it gave them.
	Reason string `json:"reason,omitempty"`
	Venue  string `json:"venue,omitempty"`
}

// MemberAdded: one or more members joined.
type MemberAdded struct {
	Members []Member  `json:"members"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// MemberRemoved: one or more members were removed, or one left (By is the
// member itself).
type MemberRemoved struct {
	Members []Member  `json:"members"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// MessagePosted: a member posted a message to the group. Its archive id is
// the event's version in the group's stream.
type MessagePosted struct {
	// ID is the id the sender's client gave the stanza; members receive the
	// message with the same id.
	ID string `json:"id,omitempty"`
	// OriginID is the sender's XEP-0359 origin-id, if it gave one.
	OriginID string `json:"origin_id,omitempty"`
	Sender   string `json:"sender"`
	MID      string `json:"mid"`
	Body     string `json:"body,omitempty"`
	// Payload is the message's other child elements as XML, passed through
	// to members unchanged (replies, receipts requests, reactions, ...).
	Payload string `json:"payload,omitempty"`
	// Mentions are the bare JIDs of the members the message mentions.
	Mentions []string  `json:"mentions,omitempty"`
	At       time.Time `json:"at"`
	// Kind says whether the message is one of its own or amends another.
	Kind MessageKind `json:"kind,omitempty"`
}

// MessageKind says what a posted message is to its readers. Every kind is
// stored, archived and delivered alike; only a plain message is new to its
// readers: it counts as unread, its mentions count, and it is pushed.
type MessageKind string

const (
	// PlainMessage is a message of its own (the zero value: every message
	// stored before kinds existed).
	PlainMessage MessageKind = ""
	// Correction replaces an earlier message (XEP-0308).
	Correction MessageKind = "correction"
	// Reaction reacts to an earlier message (XEP-0444).
	Reaction MessageKind = "reaction"
	// StoredSignal is a chat state, receipt or marker a client asked to
	// store (XEP-0334 <store/>).
	StoredSignal MessageKind = "signal"
)

// Counted reports whether the message is new to its readers: counted as
// unread and as a mention, and pushed. Corrections, reactions and stored
// signals amend or annotate messages that were counted already.
func (e MessagePosted) Counted() bool { return e.Kind == PlainMessage }

// MessageRead: a member read the group up to a message (Upto, an archive
// version), or everything so far (Message empty, Upto the last version).
type MessageRead struct {
	Reader string `json:"reader"`
	MID    string `json:"mid"`
	// Message is the message named by the receipt, if one was named.
	Message *MessageRef `json:"message,omitempty"`
	// Upto is the archive version up to which the reader has read.
	Upto uint64    `json:"upto"`
	At   time.Time `json:"at"`
}

// EventType implements Event.
func (GroupCreated) EventType() string  { return TypeGroupCreated }
func (GroupUpdated) EventType() string  { return TypeGroupUpdated }
func (GroupDeleted) EventType() string  { return TypeGroupDeleted }
func (MemberAdded) EventType() string   { return TypeMemberAdded }
func (MemberRemoved) EventType() string { return TypeMemberRemoved }
func (MessagePosted) EventType() string { return TypeMessagePosted }
func (MessageRead) EventType() string   { return TypeMessageRead }

// OccurredAt implements Event.
func (e GroupCreated) OccurredAt() time.Time  { return e.At }
func (e GroupUpdated) OccurredAt() time.Time  { return e.At }
func (e GroupDeleted) OccurredAt() time.Time  { return e.At }
func (e MemberAdded) OccurredAt() time.Time   { return e.At }
func (e MemberRemoved) OccurredAt() time.Time { return e.At }
func (e MessagePosted) OccurredAt() time.Time { return e.At }
func (e MessageRead) OccurredAt() time.Time   { return e.At }
