// Package projectionstest writes event logs for the tests and benchmarks of
// packages projections and replay: commands are decided by the domain
// against the state of their group, exactly as the service decides them,
// and the resulting events are recorded with stream versions and global
// positions as a store would record them.
package projectionstest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
)

// Log is an event log under construction. Events holds what was recorded,
// in position order (positions start at 1).
type Log struct {
	Events []eventstore.RecordedEvent
	// Now is the time the next command is decided at; every command moves
	// it on by a millisecond.
	Now    time.Time
	Limits domain.Limits
	groups map[string]*domain.Group
	order  []string
	// slots maps Random's group names to the group now using the name,
	// which changes when a group is deleted.
	slots map[string]string
	// flushed counts the events Drop took out of Events.
	flushed int
}

// Len is how many events the log has decided, dropped or not.
func (l *Log) Len() int { return l.flushed + len(l.Events) }

// Drop forgets the events in memory once they are written elsewhere,
// keeping the groups' states: a long log is built in chunks of bounded
// memory.
func (l *Log) Drop() {
	l.flushed += len(l.Events)
	l.Events = nil
}

// NewLog returns an empty log whose clock starts at a fixed time.
func NewLog() *Log {
	return &Log{
		Now:    time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Limits: domain.DefaultLimits(),
		groups: map[string]*domain.Group{},
		slots:  map[string]string{},
	}
}

// Group returns a group's current state (an empty state if never created).
func (l *Log) Group(id string) *domain.Group {
	if g, ok := l.groups[id]; ok {
		return g
	}
	return domain.NewGroup(l.Limits)
}

// Groups lists the group ids used so far, in order of first use.
func (l *Log) Groups() []string { return slices.Clone(l.order) }

// Do decides cmd against the group and records the events it yields. A
// refused command records nothing and returns the domain's error; a resend
// returns no events and no error.
func (l *Log) Do(group string, cmd domain.Command) ([]eventstore.RecordedEvent, error) {
	g, ok := l.groups[group]
	if !ok {
		g = domain.NewGroup(l.Limits)
	}
	l.Now = l.Now.Add(time.Millisecond)
	d, err := domain.Decide(g, cmd, l.Now, l.Limits)
	if err != nil {
		return nil, err
	}
	if !ok {
		l.groups[group] = g
		l.order = append(l.order, group)
	}
	first := len(l.Events)
	for _, e := range d.Events {
		typ, data, err := domain.EncodeEvent(e)
		if err != nil {
			return nil, err
		}
		pos := uint64(l.Len() + 1)
		l.Events = append(l.Events, eventstore.RecordedEvent{
			ID:       group + "/" + strconv.FormatUint(g.Version(), 10),
			Stream:   group,
			Version:  g.Version(),
			Position: pos,
			Type:     typ,
			Data:     data,
			Recorded: l.Now,
		})
		domain.Evolve(g, e)
	}
	return l.Events[first:], nil
}

// Must is Do for a command that has to succeed.
func (l *Log) Must(t interface {
	Helper()
	Fatalf(string, ...any)
}, group string, cmd domain.Command) []eventstore.RecordedEvent {
	t.Helper()
	evs, err := l.Do(group, cmd)
	if err != nil {
		t.Fatalf("%s %T: %v", group, cmd, err)
	}
	return evs
}

// Mix weighs the kinds of command Random gives. Zero weights leave a kind
// out.
type Mix struct {
	Post, Mention, Resend, ReadAll, ReadSome, Add, Remove, Leave, Rename, HandOver, Delete, Retract int
}

// Churn exercises every rule: many membership changes, reads and mentions.
var Churn = Mix{Post: 30, Mention: 10, Resend: 4, ReadAll: 8, ReadSome: 10, Add: 10, Remove: 6, Leave: 4, Rename: 3, HandOver: 3, Delete: 1, Retract: 3}

// Chat is a busy service: mostly messages, some reads, a few membership
// changes, no deletions.
var Chat = Mix{Post: 870, Mention: 30, ReadAll: 40, ReadSome: 20, Add: 16, Remove: 8, Leave: 4, Rename: 1}

// Random appends commands to l until it holds n events: groups named
// g0..g(groups-1) created at first use by a random user, commands given by
// users u0..u(users-1)@example.org, mostly by members; a deleted group's
// name passes to a new group (g1.123). Refused commands are skipped. The same r state gives the same log.
func (l *Log) Random(r *rand.Rand, n, groups, users int, mix Mix) {
	weights := []int{mix.Post, mix.Mention, mix.Resend, mix.ReadAll, mix.ReadSome, mix.Add, mix.Remove, mix.Leave, mix.Rename, mix.HandOver, mix.Delete, mix.Retract}
	total := 0
	for _, w := range weights {
		total += w
	}
	user := func() string { return "u" + strconv.Itoa(r.IntN(users)) + "@example.org" }
	for l.Len() < n {
		slot := "g" + strconv.Itoa(r.IntN(groups))
		id := slot
		if l.slots[slot] != "" {
			id = l.slots[slot]
		}
		g := l.Group(id)
		if g.Deleted() {
			// A deleted group's id stays taken: the slot gets a new group.
			id = slot + "." + strconv.Itoa(l.Len())
			l.slots[slot] = id
			g = l.Group(id)
		}
		if !g.Created() {
			creator := user()
			var others []domain.Member
			for range r.IntN(4) {
				if u := user(); u != creator && !slices.ContainsFunc(others, func(m domain.Member) bool { return m.JID == u }) {
					others = append(others, domain.Member{JID: u})
				}
			}
			l.Do(id, domain.CreateGroup{GroupID: id, Name: "group " + id, Creator: domain.Member{JID: creator}, Members: others})
			continue
		}
		members := g.Members()
		actor := user()
		if len(members) > 0 && r.IntN(10) > 0 {
			actor = members[r.IntN(len(members))].JID
		}
		member := func() string {
			if len(members) == 0 {
				return user()
			}
			return members[r.IntN(len(members))].JID
		}
		k, w := 0, r.IntN(max(total, 1))
		for k < len(weights) && w >= weights[k] {
			w -= weights[k]
			k++
		}
		// Most changes to a group come from its owner, who may make them.
		if o, ok := g.Owner(); ok && k >= 5 && k != 7 && r.IntN(5) > 0 {
			actor = o.JID
		}
		var cmd domain.Command
		switch k {
		case 0:
			cmd = domain.PostMessage{Sender: actor, ID: "m" + strconv.Itoa(l.Len()), Body: "hello"}
		case 1:
			c := domain.PostMessage{Sender: actor, ID: "m" + strconv.Itoa(l.Len()), Body: "hey", Mentions: []string{member(), member()}}
			if r.IntN(4) == 0 {
				// A correction's mentions are stored but never counted.
				c.Kind = domain.Correction
			}
			cmd = c
		case 2:
			// A resend of a recent id: the domain answers with the original.
			cmd = domain.PostMessage{Sender: actor, ID: "m" + strconv.Itoa(max(0, l.Len()-r.IntN(20))), Body: "again"}
		case 3:
			cmd = domain.MarkRead{Reader: actor}
		case 4:
			if g.Version() == 0 {
				continue
			}
			cmd = domain.MarkRead{Reader: actor, Message: &domain.MessageRef{Version: r.Uint64N(g.Version())}}
		case 5:
			add := []domain.Member{{JID: user()}}
			if r.IntN(3) == 0 {
				add = append(add, domain.Member{JID: user(), Role: domain.RoleAdmin})
			}
			cmd = domain.AddMembers{By: actor, Members: add}
		case 6:
			cmd = domain.RemoveMembers{By: actor, Members: []domain.MemberSelector{{JID: member()}}}
		case 7:
			cmd = domain.RemoveMembers{By: actor, Members: []domain.MemberSelector{{JID: actor}}}
		case 8:
			cmd = domain.UpdateGroup{By: actor, Name: "renamed " + strconv.Itoa(l.Len())}
		case 9:
			cmd = domain.UpdateGroup{By: actor, NewOwner: member()}
		case 10:
			cmd = domain.DeleteGroup{By: actor}
		case 11:
			// A sender withdraws a message of the group (now and then one
			// already withdrawn), or the owner moderates it.
			ref, ok := l.randomMessage(r, id)
			if !ok {
				continue
			}
			cmd = domain.RetractMessage{By: ref.Sender, Message: &ref, ID: "r" + strconv.Itoa(l.Len()), Target: ref.ID}
			if o, ok := g.Owner(); ok && r.IntN(3) == 0 {
				cmd = domain.RetractMessage{By: o.JID, Message: &ref, Moderate: true, Reason: "moderated"}
			}
		default:
			continue
		}
		l.Do(id, cmd)
	}
}

// randomMessage picks one of the group's messages.
func (l *Log) randomMessage(r *rand.Rand, group string) (domain.MessageRef, bool) {
	var refs []domain.MessageRef
	for _, e := range l.Events {
		if e.Stream != group || e.Type != domain.TypeMessagePosted {
			continue
		}
		if m, err := domain.DecodeEvent(e.Type, e.Data); err == nil {
			refs = append(refs, domain.MessageRef{ID: m.(domain.MessagePosted).ID, Version: e.Version, Sender: m.(domain.MessagePosted).Sender})
		}
	}
	if len(refs) == 0 {
		return domain.MessageRef{}, false
	}
	return refs[r.IntN(len(refs))], true
}

// AppendTo appends the log's events to store in position order, one
// Append per run of consecutive events of a stream, each with the exact
// expected version, so the store records the same stream versions (and,
// if it was empty and numbers positions densely, the same positions).
func (l *Log) AppendTo(ctx context.Context, store eventstore.Store) error {
	for i := 0; i < len(l.Events); {
		j := i + 1
		for j < len(l.Events) && l.Events[j].Stream == l.Events[i].Stream {
			j++
		}
		if err := appendRun(ctx, store, l.Events[i:j]); err != nil {
			return err
		}
		i = j
	}
	return nil
}

func appendRun(ctx context.Context, store eventstore.Store, run []eventstore.RecordedEvent) error {
	data := make([]eventstore.EventData, len(run))
	for k, e := range run {
		data[k] = eventstore.EventData{ID: e.ID, Type: e.Type, Data: e.Data, Metadata: e.Metadata}
	}
	expected := eventstore.NoStream()
	if run[0].Version > 0 {
		expected = eventstore.Exact(run[0].Version - 1)
	}
	if _, err := store.Append(ctx, run[0].Stream, expected, data...); err != nil {
		return fmt.Errorf("append %s from version %d: %w", run[0].Stream, run[0].Version, err)
	}
	return nil
}
