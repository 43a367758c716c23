package domain

import "time"

// TypeMessageRetracted is the stored name of MessageRetracted.
const TypeMessageRetracted = "MessageRetracted"

// RetractMessage withdraws a message: the sender's own (XEP-0424), or any
// member's when Moderate is set, by the owner or an admin (XEP-0425).
type RetractMessage struct {
	By string
	// Message is the message to withdraw, as the adapter found it by the
	// id the request named (Target); nil if it found none.
	Message *MessageRef
	// ID is the request's own stanza id; Target the id it named the
	// message by.
	ID, Target string
	Moderate   bool
	// Reason is a moderator's explanation; Body the fallback text of a
	// sender's retraction message, for clients without XEP-0424.
	Reason, Body string
}

func (c RetractMessage) requester() string { return c.By }

// MessageRetracted: a message was withdrawn by its sender, or moderated by
// the owner or an admin. The message stays in the log for audit; history
// shows a tombstone in its place.
type MessageRetracted struct {
	Message MessageRef `json:"message"`
	// ID is the retraction request's stanza id, Target the id it named the
	// message by (members receive both, to match the retraction).
	ID     string `json:"id,omitempty"`
	Target string `json:"target,omitempty"`
	// By and MID are who withdrew it.
	By        string    `json:"by"`
	MID       string    `json:"mid"`
	Moderated bool      `json:"moderated,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Body      string    `json:"body,omitempty"`
	At        time.Time `json:"at"`
}

// EventType implements Event.
func (MessageRetracted) EventType() string { return TypeMessageRetracted }

// OccurredAt implements Event.
func (e MessageRetracted) OccurredAt() time.Time { return e.At }

func decideRetract(g *Group, me Member, c RetractMessage, at time.Time, lim Limits) (Event, error) {
	if c.Message == nil || c.Message.Version >= g.version {
		return nil, refuse(KindNotFound, "no such message in the group")
	}
	if c.Moderate {
		if me.Role != RoleOwner && me.Role != RoleAdmin {
			return nil, refuse(KindNotAllowed, "only the owner and admins may moderate messages")
		}
	} else if c.Message.Sender != me.JID {
		return nil, refuse(KindNotAllowed, "only its sender may retract a message; the owner and admins moderate")
	}
	if lim.MaxBodyBytes > 0 && (len(c.Reason) > lim.MaxBodyBytes || len(c.Body) > lim.MaxBodyBytes) {
		return nil, refuse(KindLimit, "the reason or fallback text is larger than %d bytes", lim.MaxBodyBytes)
	}
	return MessageRetracted{Message: *c.Message, ID: c.ID, Target: c.Target, By: me.JID, MID: me.MID,
		Moderated: c.Moderate, Reason: c.Reason, Body: c.Body, At: at}, nil
}
