package domain_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/uuchat/groupchat/domain"
)

func TestPushStreamsNeverLookLikeGroups(t *testing.T) {
	s := domain.PushStream(alice)
	if !domain.IsPushStream(s) {
		t.Fatalf("IsPushStream(%q) = false", s)
	}
	for _, group := range []string{"team", "push", "push-1", "pushers"} {
		if domain.IsPushStream(group) {
			t.Errorf("group stream %q is taken for a push stream", group)
		}
	}
}

func TestDecidePush(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	lim := domain.PushLimits{MaxRegistrations: 2, MaxPublishOptionsBytes: 16}
	type step struct {
		cmd      domain.PushCommand
		want     []domain.Event
		wantKind domain.Kind
	}
	cases := []struct {
		name      string
		steps     []step
		wantRegs  []domain.PushRegistration
		wantLevel domain.NotifyLevel
	}{
		{
			name: "enable registers a device",
			steps: []step{{cmd: domain.EnablePush{User: alice, JID: "push.x", Node: "n1", IncludeBody: true},
				want: []domain.Event{domain.PushEnabled{User: alice, JID: "push.x", Node: "n1", IncludeBody: true, At: now}}}},
			wantRegs: []domain.PushRegistration{{JID: "push.x", Node: "n1", IncludeBody: true}},
		},
		{
			name: "enabling the same node again replaces its options and counts once",
			steps: []step{
				{cmd: domain.EnablePush{User: alice, JID: "push.x", Node: "n1"}, want: []domain.Event{domain.PushEnabled{User: alice, JID: "push.x", Node: "n1", At: now}}},
				{cmd: domain.EnablePush{User: alice, JID: "push.x", Node: "n2"}, want: []domain.Event{domain.PushEnabled{User: alice, JID: "push.x", Node: "n2", At: now}}},
				{cmd: domain.EnablePush{User: alice, JID: "push.x", Node: "n1", PublishOptions: "<x/>"}, want: []domain.Event{domain.PushEnabled{User: alice, JID: "push.x", Node: "n1", PublishOptions: "<x/>", At: now}}},
			},
			wantRegs: []domain.PushRegistration{{JID: "push.x", Node: "n1", PublishOptions: "<x/>"}, {JID: "push.x", Node: "n2"}},
		},
		{
			name: "one device too many is refused",
			steps: []step{
				{cmd: domain.EnablePush{User: alice, JID: "push.x", Node: "n1"}, want: []domain.Event{domain.PushEnabled{User: alice, JID: "push.x", Node: "n1", At: now}}},
				{cmd: domain.EnablePush{User: alice, JID: "push.y", Node: "n1"}, want: []domain.Event{domain.PushEnabled{User: alice, JID: "push.y", Node: "n1", At: now}}},
				{cmd: domain.EnablePush{User: alice, JID: "push.z", Node: "n1"}, wantKind: domain.KindLimit},
			},
			wantRegs: []domain.PushRegistration{{JID: "push.x", Node: "n1"}, {JID: "push.y", Node: "n1"}},
		},
		{
			name: "enable without jid or node, or with a large form, is refused",
			steps: []step{
				{cmd: domain.EnablePush{User: alice, Node: "n1"}, wantKind: domain.KindBadRequest},
				{cmd: domain.EnablePush{User: alice, JID: "push.x"}, wantKind: domain.KindBadRequest},
				{cmd: domain.EnablePush{User: alice, JID: "push.x", Node: "n", PublishOptions: "<x>0123456789abcdef</x>"}, wantKind: domain.KindLimit},
				{cmd: domain.EnablePush{User: bob, JID: "push.x", Node: "n"}, wantKind: domain.KindBadRequest},
			},
		},
		{
			name: "disable without node removes every node of the jid",
			steps: []step{
				{cmd: domain.EnablePush{User: alice, JID: "push.x", Node: "n1"}, want: []domain.Event{domain.PushEnabled{User: alice, JID: "push.x", Node: "n1", At: now}}},
				{cmd: domain.EnablePush{User: alice, JID: "push.x", Node: "n2"}, want: []domain.Event{domain.PushEnabled{User: alice, JID: "push.x", Node: "n2", At: now}}},
				{cmd: domain.DisablePush{User: alice, JID: "push.x"}, want: []domain.Event{domain.PushDisabled{User: alice, JID: "push.x", Reason: domain.DisabledByUser, At: now}}},
			},
		},
		{
			name: "disable with a node removes that node only; disabling it again changes nothing",
			steps: []step{
				{cmd: domain.EnablePush{User: alice, JID: "push.x", Node: "n1"}, want: []domain.Event{domain.PushEnabled{User: alice, JID: "push.x", Node: "n1", At: now}}},
				{cmd: domain.EnablePush{User: alice, JID: "push.x", Node: "n2"}, want: []domain.Event{domain.PushEnabled{User: alice, JID: "push.x", Node: "n2", At: now}}},
				{cmd: domain.DisablePush{User: alice, JID: "push.x", Node: "n1", Reason: domain.DisabledFailing}, want: []domain.Event{domain.PushDisabled{User: alice, JID: "push.x", Node: "n1", Reason: domain.DisabledFailing, At: now}}},
				{cmd: domain.DisablePush{User: alice, JID: "push.x", Node: "n1"}},
				{cmd: domain.DisablePush{User: alice}, wantKind: domain.KindBadRequest},
			},
			wantRegs: []domain.PushRegistration{{JID: "push.x", Node: "n2"}},
		},
		{
			name: "levels: set, unchanged, back to all, unknown",
			steps: []step{
				{cmd: domain.SetNotifyLevel{User: alice, Group: "team", Level: domain.NotifyNone}, want: []domain.Event{domain.NotifyLevelSet{User: alice, Group: "team", Level: domain.NotifyNone, At: now}}},
				{cmd: domain.SetNotifyLevel{User: alice, Group: "team", Level: domain.NotifyNone}},
				{cmd: domain.SetNotifyLevel{User: alice, Group: "team", Level: domain.NotifyMentions}, want: []domain.Event{domain.NotifyLevelSet{User: alice, Group: "team", Level: domain.NotifyMentions, At: now}}},
				{cmd: domain.SetNotifyLevel{User: alice, Group: "team", Level: "loud"}, wantKind: domain.KindBadRequest},
				{cmd: domain.SetNotifyLevel{User: alice, Level: domain.NotifyNone}, wantKind: domain.KindBadRequest},
			},
			wantLevel: domain.NotifyMentions,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := domain.NewPushSettings(alice)
			for i, s := range tc.steps {
				evs, err := domain.DecidePush(p, s.cmd, now, lim)
				if s.wantKind != 0 {
					var de *domain.Error
					if !errors.As(err, &de) || de.Kind != s.wantKind {
						t.Fatalf("step %d %+v: err = %v, want a %v refusal", i, s.cmd, err, s.wantKind)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d %+v: %v", i, s.cmd, err)
				}
				if !reflect.DeepEqual(evs, s.want) {
					t.Fatalf("step %d %+v decided %#v, want %#v", i, s.cmd, evs, s.want)
				}
				for _, e := range evs {
					p.Apply(e)
				}
			}
			if got := p.Registrations(); len(got)+len(tc.wantRegs) > 0 && !reflect.DeepEqual(got, tc.wantRegs) {
				t.Errorf("registrations = %+v, want %+v", got, tc.wantRegs)
			}
			want := tc.wantLevel
			if want == "" {
				want = domain.NotifyAll
			}
			if got := p.Level("team"); got != want {
				t.Errorf("level of team = %q, want %q", got, want)
			}
		})
	}
}

func TestPushEventsAreTold(t *testing.T) {
	for _, e := range []domain.Event{domain.PushEnabled{}, &domain.PushDisabled{}, domain.NotifyLevelSet{}} {
		if !domain.IsPushEvent(e) {
			t.Errorf("IsPushEvent(%T) = false", e)
		}
	}
	for _, e := range []domain.Event{domain.MessagePosted{}, domain.GroupCreated{}} {
		if domain.IsPushEvent(e) {
			t.Errorf("IsPushEvent(%T) = true", e)
		}
	}
}
