package audit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/xmpp/address"
)

// Entry is one group change.
type Entry struct {
	Time     time.Time `json:"time"`
	Group    string    `json:"group"`
	Position uint64    `json:"position"`
	// Actor is the bare JID that made the change; Resource the resource it
	// used, when the log recorded it.
	Actor    string `json:"actor"`
	Resource string `json:"resource,omitempty"`
	// Action is created, renamed, handed over, updated, deleted, added,
	// removed, left, made admin, made member, retracted or moderated.
	Action  string          `json:"action"`
	Name    string          `json:"name,omitempty"`
	Owner   string          `json:"owner,omitempty"`
	Members []domain.Member `json:"members,omitempty"`
	// Message names a withdrawn message: its sender, its id and its
	// version in the group's stream; Reason is a moderator's, or the owner's
	// for a deletion.
	Message *domain.MessageRef `json:"message,omitempty"`
	Reason  string             `json:"reason,omitempty"`
}

// Involves reports whether the change was made by or affects a bare JID.
func (e Entry) Involves(user string) bool {
	if e.Actor == user || e.Owner == user || e.Message != nil && e.Message.Sender == user {
		return true
	}
	for _, m := range e.Members {
		if m.JID == user {
			return true
		}
	}
	return false
}

// Details is the change's particulars as one line of text.
func (e Entry) Details() string {
	var parts []string
	if e.Name != "" {
		parts = append(parts, fmt.Sprintf("name=%q", e.Name))
	}
	if e.Owner != "" {
		parts = append(parts, "new owner="+e.Owner)
	}
	for _, m := range e.Members {
		parts = append(parts, fmt.Sprintf("%s (mid %s, %s)", m.JID, m.MID, m.Role))
	}
	if m := e.Message; m != nil {
		parts = append(parts, fmt.Sprintf("message of %s (id %q, version %d)", m.Sender, m.ID, m.Version))
	}
	if e.Reason != "" {
		parts = append(parts, fmt.Sprintf("reason=%q", e.Reason))
	}
	return strings.Join(parts, "; ")
}

// Of turns a stored event into an audit entry; ok is false for messages and
// reads, which are not changes (a withdrawn message is).
func Of(re eventstore.RecordedEvent, e domain.Event) (entry Entry, ok bool) {
	// Unreadable metadata leaves the resource blank; the entry stands.
	meta, _ := eventstore.DecodeMeta(re.Metadata)
	entry = Entry{Time: e.OccurredAt(), Group: re.Stream, Position: re.Position}
	if j, err := address.Parse(meta.From); err == nil {
		entry.Resource = j.Resourcepart()
	}
	switch e := e.(type) {
	case domain.GroupCreated:
		entry.Actor, entry.Action, entry.Name, entry.Members = e.By, "created", e.Name, e.Members
	case domain.GroupUpdated:
		entry.Actor, entry.Name, entry.Owner = e.By, e.Name, e.NewOwner
		entry.Action = "updated"
		if e.Name != "" && e.NewOwner == "" {
			entry.Action = "renamed"
		} else if e.Name == "" {
			entry.Action = "handed over"
		}
	case domain.GroupDeleted:
		entry.Actor, entry.Action, entry.Reason = e.By, "deleted", e.Reason
	case domain.MemberAdded:
		entry.Actor, entry.Action, entry.Members = e.By, "added", e.Members
	case domain.MemberRoleChanged:
		entry.Actor, entry.Action, entry.Members = e.By, "made "+string(e.Member.Role), []domain.Member{e.Member}
	case domain.MemberRemoved:
		entry.Actor, entry.Action, entry.Members = e.By, "removed", e.Members
		if len(e.Members) == 1 && e.Members[0].JID == e.By {
			entry.Action = "left"
		}
	case domain.MessageRetracted:
		ref := e.Message
		entry.Actor, entry.Action, entry.Message, entry.Reason = e.By, "retracted", &ref, e.Reason
		if e.Moderated {
			entry.Action = "moderated"
		}
	default:
		return Entry{}, false
	}
	return entry, true
}

// Each calls f with every change of group in order, or of every group when
// group is empty; it stops at f's first error.
func Each(ctx context.Context, store eventstore.Store, group string, f func(Entry) error) error {
	keep := func(re eventstore.RecordedEvent) error {
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			return fmt.Errorf("event at position %d: %w", re.Position, err)
		}
		if entry, ok := Of(re, e); ok {
			return f(entry)
		}
		return nil
	}
	if group != "" {
		return eventstore.ForEachInStream(ctx, store, group, keep)
	}
	return eventstore.ForEach(ctx, store, 0, keep)
}

// Trail lists the changes of one group, oldest first.
func Trail(ctx context.Context, store eventstore.Store, group string) ([]Entry, error) {
	var out []Entry
	err := Each(ctx, store, group, func(e Entry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}
