package push

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
)

// Appender is the part of the event store the settings write to.
type Appender interface {
	Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error)
}

// Settings holds every user's push settings, folded from their streams.
// Reads are safe from any goroutine; changes go through Do, one at a time.
type Settings struct {
	store Appender
	lim   domain.PushLimits
	now   func() time.Time

	// wmu serializes Do, so that deciding, appending and applying cannot
	// interleave for one stream; mu guards users for the readers.
	wmu   sync.Mutex
	mu    sync.RWMutex
	users map[string]*domain.PushSettings
}

// NewSettings returns empty settings writing to store.
func NewSettings(store Appender, lim domain.PushLimits) *Settings {
	return &Settings{store: store, lim: lim, now: time.Now, users: map[string]*domain.PushSettings{}}
}

// Load applies one stored event of a push stream, at start, before any Do.
func (s *Settings) Load(stream string, e domain.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userLocked(stream[len(domain.PushStream("")):]).Apply(e)
}

func (s *Settings) userLocked(user string) *domain.PushSettings {
	p := s.users[user]
	if p == nil {
		p = domain.NewPushSettings(user)
		s.users[user] = p
	}
	return p
}

// Do decides a command against the user's settings, appends what it
// decided to the user's stream and applies it. A refusal is a *domain.Error.
func (s *Settings) Do(ctx context.Context, c domain.PushCommand) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	user := domain.PushUser(c)
	s.mu.RLock()
	p := s.users[user]
	s.mu.RUnlock()
	if p == nil {
		p = domain.NewPushSettings(user)
	}
	evs, err := domain.DecidePush(p, c, s.now(), s.lim)
	if err != nil || len(evs) == 0 {
		return err
	}
	data := make([]eventstore.EventData, 0, len(evs))
	for _, e := range evs {
		typ, b, err := domain.EncodeEvent(e)
		if err != nil {
			return err
		}
		data = append(data, eventstore.EventData{ID: newEventID(), Type: typ, Data: b})
	}
	expected := eventstore.NoStream()
	if v := p.Version(); v > 0 {
		expected = eventstore.Exact(v - 1)
	}
	if _, err := s.store.Append(ctx, domain.PushStream(user), expected, data...); err != nil {
		return fmt.Errorf("push: append to %s: %w", domain.PushStream(user), err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p = s.userLocked(user)
	for _, e := range evs {
		p.Apply(e)
	}
	return nil
}

// Level is the user's notification level in a group.
func (s *Settings) Level(user, group string) domain.NotifyLevel {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p := s.users[user]; p != nil {
		return p.Level(group)
	}
	return domain.NotifyAll
}

// wantsLocked reports whether a message of group (mentioning the user or
// not) is to wake the user's devices: the user has a registration and the
// group's level lets the message through. The caller holds mu for reading
// (once for all the members of a message: a lock per member would cost
// more than the check).
func (s *Settings) wantsLocked(user, group string, mentioned bool) bool {
	p := s.users[user]
	if p == nil || !p.HasRegistrations() {
		return false
	}
	switch p.Level(group) {
	case domain.NotifyNone:
		return false
	case domain.NotifyMentions:
		return mentioned
	}
	return true
}

// Registrations lists the user's push targets.
func (s *Settings) Registrations(user string) []domain.PushRegistration {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p := s.users[user]; p != nil {
		return p.Registrations()
	}
	return nil
}

func newEventID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
