package shard

import (
	"context"

	"github.com/uuchat/groupchat/aggregate"
	"log/slog"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/xmpp/address"
	"github.com/uuchat/groupchat/xmpp/history"
	"github.com/uuchat/groupchat/xmpp/muc"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// Deps is what the shards work with: the log and the read model, where
// answers and broadcasts go, and the service's other parts they hand
// requests to. All must be set.
type Deps struct {
	Store eventstore.Store
	Reads Reads
	// Limits are the groups' limits; Now is the clock decisions are
	// stamped with.
	Limits domain.Limits
	Now    func() time.Time
	Addr   protocol.Addresses
	Log    *slog.Logger
	// Reply sends one stanza to one requester (an answer too large for
	// the server becomes an error).
	Reply       func(ctx context.Context, o protocol.Outbound)
	Broadcaster Broadcaster
	Directory   Directory
	History     RoomHistory
	Rooms       *muc.Rooms
	Online      Online
	// CatchUp waits until the projections hold every committed event.
	CatchUp func(ctx context.Context) error
	// Queries are the query workers' queue, for what reads the
	// projections after a decision (a room's history).
	Queries chan<- func(context.Context)
	// CacheBytes bounds the memory of each shard's group states (0: no
	// bound); the least recently used are folded again when next needed.
	CacheBytes int
	// Snapshots, if set, keeps the states of groups with long streams.
	Snapshots aggregate.Snapshots
}

// Reads is what the shards read of the projections: how far they are, and
// the message an id names.
type Reads interface {
	WaitFor(ctx context.Context, pos uint64) error
	history.MessageFinder
	// MessageResent finds the newest message sender posted to a group
	// with a resend key (domain.ResendKey), for a resend the group's
	// window no longer holds.
	MessageResent(ctx context.Context, group, sender, key string) (domain.MessageRef, bool, error)
	// HoldsMessage reports whether the projections hold a group's message
	// at version, and so every message before it.
	HoldsMessage(ctx context.Context, group string, version uint64) (bool, error)
}

// Broadcaster delivers live-only signals and renders stored messages.
type Broadcaster interface {
	FanOut(ctx context.Context, group string, o protocol.Outbound, members []domain.Member)
	Stored(ctx context.Context, group string, version uint64) (protocol.Outbound, error)
}

// Directory answers a query about one group from its state.
type Directory interface {
	Group(g *domain.Group, st protocol.Stanza, req protocol.Request) ([]byte, error)
}

// RoomHistory is the history a MUC client entering a room asks for.
type RoomHistory interface {
	RoomHistory(ctx context.Context, group, user string, q protocol.RoomHistory, now time.Time) ([]protocol.Outbound, error)
}

// Online is the set of native clients' resources: a MUC client entering a
// room leaves it.
type Online interface {
	Offline(full address.JID)
}
