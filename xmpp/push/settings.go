package push

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/uuchat/groupchat/aggregate"
	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
)

// Store is the part of the event store the settings use: they append
// changes to a user's stream and read it again after a failed append.
type Store = aggregate.Store

// Settings holds every user's push settings, folded from their streams.
// Reads are safe from any goroutine; changes go through Do, one at a time.
type Settings struct {
	lim domain.PushLimits
	now func() time.Time

	// wmu serializes Do, so that deciding, appending and applying cannot
	// interleave for one stream; mu guards the users' states for the
	// readers (the repository holds it while it changes them).
	wmu   sync.Mutex
	mu    sync.RWMutex
	users *aggregate.Repository[*domain.PushSettings]
}

// NewSettings returns empty settings writing to store.
func NewSettings(store Store, lim domain.PushLimits) *Settings {
	s := &Settings{lim: lim, now: time.Now}
	s.users = aggregate.New(store, aggregate.Config[*domain.PushSettings]{
		New:    domain.NewPushSettings,
		Stream: domain.PushStream,
		Lock:   &s.mu,
	})
	return s
}

// Load reads the settings of the user whose push stream is stream, at
// start, before any Do: the notifier then knows everyone who registered.
func (s *Settings) Load(ctx context.Context, stream string) error {
	_, err := s.users.Get(ctx, strings.TrimPrefix(stream, domain.PushStream("")))
	return err
}

// Do decides a command against the user's settings, appends what it
// decided to the user's stream and applies it. A refusal is a *domain.Error.
func (s *Settings) Do(ctx context.Context, c domain.PushCommand) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	user := domain.PushUser(c)
	var refused error
	_, err := s.users.Update(ctx, user, eventstore.Meta{}, func(p *domain.PushSettings) ([]domain.Event, error) {
		var evs []domain.Event
		evs, refused = domain.DecidePush(p, c, s.now(), s.lim)
		return evs, refused
	})
	if err == nil || refused != nil {
		return err
	}
	// The append failed and the user's settings were dropped from memory:
	// read them again at once, so that the readers see what is stored
	// rather than no settings until the next change.
	if _, rerr := s.users.Get(ctx, user); rerr != nil {
		return fmt.Errorf("push: %s: %w (reading it again: %v)", domain.PushStream(user), err, rerr)
	}
	return fmt.Errorf("push: %s: %w", domain.PushStream(user), err)
}

// Level is the user's notification level in a group.
func (s *Settings) Level(user, group string) domain.NotifyLevel {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p, ok := s.users.Cached(user); ok {
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
	p, ok := s.users.Cached(user)
	if !ok || !p.HasRegistrations() {
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
	if p, ok := s.users.Cached(user); ok {
		return p.Registrations()
	}
	return nil
}
