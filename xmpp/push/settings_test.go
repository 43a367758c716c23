package push

import (
	"context"
	"errors"
	"testing"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/eventstore"
)

// TestSettingsAfterAnotherWriter: when another instance changed a user's
// settings, Do is refused with a version conflict, the readers then see
// the settings as stored, and the next Do is decided on them.
func TestSettingsAfterAnotherWriter(t *testing.T) {
	const (
		alice = "alice@example.test"
		app   = "push.example.test"
		group = "coven"
	)
	tests := []struct {
		name string
		// elsewhere is what the other instance does; level is the level
		// of group the readers see afterwards.
		elsewhere domain.PushCommand
		level     domain.NotifyLevel
		regs      int
	}{
		{"a level set elsewhere", domain.SetNotifyLevel{User: alice, Group: group, Level: domain.NotifyNone}, domain.NotifyNone, 1},
		{"a registration added elsewhere", domain.EnablePush{User: alice, JID: app, Node: "other"}, domain.NotifyAll, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			store := &memStore{}
			s := NewSettings(store, domain.DefaultPushLimits())
			must(t, s.Do(ctx, domain.EnablePush{User: alice, JID: app, Node: "a"}))

			other := NewSettings(store, domain.DefaultPushLimits())
			// The other instance loaded the stream at its start.
			must(t, other.Load(ctx, domain.PushStream(alice)))
			must(t, other.Do(ctx, tt.elsewhere))

			err := s.Do(ctx, domain.SetNotifyLevel{User: alice, Group: "other", Level: domain.NotifyMentions})
			if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
				t.Fatalf("Do after another writer: %v, want ErrWrongExpectedVersion", err)
			}
			if got := s.Level(alice, group); got != tt.level {
				t.Errorf("the level after the conflict is %q, want the stored %q", got, tt.level)
			}
			if got := len(s.Registrations(alice)); got != tt.regs {
				t.Errorf("%d registrations after the conflict, want %d", got, tt.regs)
			}
			must(t, s.Do(ctx, domain.SetNotifyLevel{User: alice, Group: "other", Level: domain.NotifyMentions}))
			if got := s.Level(alice, "other"); got != domain.NotifyMentions {
				t.Errorf("decided again, the level is %q", got)
			}
			if n := len(store.streams[domain.PushStream(alice)]); n != 3 {
				t.Errorf("the stream holds %d events, want 3", n)
			}
		})
	}
}

// TestSettingsRefusalChangesNothing: a refused command appends nothing
// and returns the domain's refusal as it is.
func TestSettingsRefusalChangesNothing(t *testing.T) {
	ctx := context.Background()
	store := &memStore{}
	s := NewSettings(store, domain.DefaultPushLimits())
	err := s.Do(ctx, domain.SetNotifyLevel{User: "alice@example.test", Group: "coven", Level: "loud"})
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("an unknown level: %v, want a *domain.Error", err)
	}
	if len(store.streams) != 0 {
		t.Errorf("a refusal appended: %v", store.streams)
	}
}
