package domain

import (
	"strings"
	"time"
)

// Push settings are a user's, not a group's: each user with any has one
// stream of its own (PushStream), holding its push registrations
// (XEP-0357) and its notification level per group. Group streams never hold
// these events, nor push streams group events.

// The stored push event type names. Never rename one: they are the schema.
const (
	TypePushEnabled    = "PushEnabled"
	TypePushDisabled   = "PushDisabled"
	TypeNotifyLevelSet = "NotifyLevelSet"
)

// pushStreamPrefix starts every push stream's name. Group ids are JID
// localparts, which can hold neither ':' nor '@', so no group stream can
// start like this.
const pushStreamPrefix = "push:"

// PushStream is the name of the stream holding a user's push settings.
func PushStream(user string) string { return pushStreamPrefix + user }

// IsPushStream reports whether a stream holds push settings rather than a
// group.
func IsPushStream(stream string) bool { return strings.HasPrefix(stream, pushStreamPrefix) }

// IsPushEvent reports whether e is a push settings event.
func IsPushEvent(e Event) bool {
	switch eventValue(e).(type) {
	case PushEnabled, PushDisabled, NotifyLevelSet:
		return true
	}
	return false
}

// NotifyLevel says which messages of a group wake a user's devices.
type NotifyLevel string

// The notification levels. The zero value means NotifyAll.
const (
	NotifyAll      NotifyLevel = "all"
	NotifyMentions NotifyLevel = "mentions"
	NotifyNone     NotifyLevel = "none"
)

// Valid reports whether l is one of the defined levels.
func (l NotifyLevel) Valid() bool {
	return l == NotifyAll || l == NotifyMentions || l == NotifyNone
}

// PushEnabled: a user registered (or re-registered) a push target: an
// XEP-0357 app server JID and node, one per device.
type PushEnabled struct {
	User string `json:"user"`
	JID  string `json:"jid"`
	Node string `json:"node"`
	// PublishOptions is the jabber:x:data form the client gave, as XML,
	// sent back with every publish as XEP-0357 says; empty if none.
	PublishOptions string `json:"publish_options,omitempty"`
	// IncludeBody is the user's opt-in to carry message bodies to the app
	// server.
	IncludeBody bool      `json:"include_body,omitempty"`
	At          time.Time `json:"at"`
}

// PushDisabled: push targets were removed: the one at JID and Node, or
// every node of JID when Node is empty.
type PushDisabled struct {
	User string `json:"user"`
	JID  string `json:"jid"`
	Node string `json:"node,omitempty"`
	// Reason is why: DisabledByUser or DisabledFailing.
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// The reasons a push target is disabled.
const (
	DisabledByUser  = "user"
	DisabledFailing = "failing"
)

// NotifyLevelSet: a user chose which messages of a group notify it.
type NotifyLevelSet struct {
	User  string      `json:"user"`
	Group string      `json:"group"`
	Level NotifyLevel `json:"level"`
	At    time.Time   `json:"at"`
}

// EventType implements Event.
func (PushEnabled) EventType() string    { return TypePushEnabled }
func (PushDisabled) EventType() string   { return TypePushDisabled }
func (NotifyLevelSet) EventType() string { return TypeNotifyLevelSet }

// OccurredAt implements Event.
func (e PushEnabled) OccurredAt() time.Time    { return e.At }
func (e PushDisabled) OccurredAt() time.Time   { return e.At }
func (e NotifyLevelSet) OccurredAt() time.Time { return e.At }

// PushRegistration is one push target of a user.
type PushRegistration struct {
	JID, Node      string
	PublishOptions string
	IncludeBody    bool
}

// PushSettings is the state of one user's push stream.
type PushSettings struct {
	user    string
	regs    []PushRegistration
	levels  map[string]NotifyLevel
	version uint64
}

// NewPushSettings returns the settings of a user with no events.
func NewPushSettings(user string) *PushSettings {
	return &PushSettings{user: user}
}

// User is whose settings these are.
func (p *PushSettings) User() string { return p.user }

// Version is the number of events applied: the stream's next version.
func (p *PushSettings) Version() uint64 { return p.version }

// Registrations returns a copy of the user's push targets, oldest first.
func (p *PushSettings) Registrations() []PushRegistration {
	return append([]PushRegistration(nil), p.regs...)
}

// HasRegistrations reports whether the user has any push target.
func (p *PushSettings) HasRegistrations() bool { return len(p.regs) > 0 }

// Level is the user's notification level for a group (NotifyAll unless
// set).
func (p *PushSettings) Level(group string) NotifyLevel {
	if l, ok := p.levels[group]; ok {
		return l
	}
	return NotifyAll
}

// Apply applies one event of the user's push stream. It never fails.
func (p *PushSettings) Apply(e Event) {
	p.version++
	switch e := eventValue(e).(type) {
	case PushEnabled:
		r := PushRegistration{JID: e.JID, Node: e.Node, PublishOptions: e.PublishOptions, IncludeBody: e.IncludeBody}
		for i := range p.regs {
			if p.regs[i].JID == e.JID && p.regs[i].Node == e.Node {
				p.regs[i] = r
				return
			}
		}
		p.regs = append(p.regs, r)
	case PushDisabled:
		kept := p.regs[:0]
		for _, r := range p.regs {
			if r.JID == e.JID && (e.Node == "" || r.Node == e.Node) {
				continue
			}
			kept = append(kept, r)
		}
		p.regs = kept
	case NotifyLevelSet:
		if p.levels == nil {
			p.levels = map[string]NotifyLevel{}
		}
		if e.Level == NotifyAll {
			delete(p.levels, e.Group)
			return
		}
		p.levels[e.Group] = e.Level
	}
}

// PushCommand is a request to change a user's push settings.
type PushCommand interface{ pushUser() string }

// EnablePush registers a push target (XEP-0357 enable).
type EnablePush struct {
	User, JID, Node string
	PublishOptions  string
	IncludeBody     bool
}

// DisablePush removes the push target at JID and Node, or every node of
// JID when Node is empty (XEP-0357 disable).
type DisablePush struct {
	User, JID, Node string
	// Reason is DisabledByUser or DisabledFailing.
	Reason string
}

// SetNotifyLevel chooses which messages of a group notify the user. The
// caller checks that the user is a member of the group: the group's state
// is not in this stream.
type SetNotifyLevel struct {
	User, Group string
	Level       NotifyLevel
}

// PushUser is the user whose settings a push command changes.
func PushUser(c PushCommand) string { return c.pushUser() }

func (c EnablePush) pushUser() string     { return c.User }
func (c DisablePush) pushUser() string    { return c.User }
func (c SetNotifyLevel) pushUser() string { return c.User }

// PushLimits bound a user's push settings.
type PushLimits struct {
	// MaxRegistrations is how many push targets one user may have.
	MaxRegistrations int
	// MaxPublishOptionsBytes bounds the stored publish-options form.
	MaxPublishOptionsBytes int
}

// DefaultPushLimits are the push limits a fresh deployment starts with.
func DefaultPushLimits() PushLimits {
	return PushLimits{MaxRegistrations: 16, MaxPublishOptionsBytes: 4096}
}

// DecidePush decides a push command against a user's settings. A command
// that changes nothing (disabling what is not registered, setting the level
// a group already has) decides no events and no error.
func DecidePush(p *PushSettings, c PushCommand, now time.Time, lim PushLimits) ([]Event, error) {
	if c.pushUser() == "" || c.pushUser() != p.user {
		return nil, refuse(KindBadRequest, "the command names another user's settings")
	}
	now = now.UTC()
	switch c := c.(type) {
	case EnablePush:
		if c.JID == "" {
			return nil, refuse(KindBadRequest, "the push service jid is missing")
		}
		if c.Node == "" {
			return nil, refuse(KindBadRequest, "the push node is missing")
		}
		if lim.MaxPublishOptionsBytes > 0 && len(c.PublishOptions) > lim.MaxPublishOptionsBytes {
			return nil, refuse(KindLimit, "the publish-options form is larger than %d bytes", lim.MaxPublishOptionsBytes)
		}
		known := false
		for _, r := range p.regs {
			if r.JID == c.JID && r.Node == c.Node {
				known = true
			}
		}
		if !known && lim.MaxRegistrations > 0 && len(p.regs) >= lim.MaxRegistrations {
			return nil, refuse(KindLimit, "a user may register at most %d push targets", lim.MaxRegistrations)
		}
		return []Event{PushEnabled{User: c.User, JID: c.JID, Node: c.Node, PublishOptions: c.PublishOptions, IncludeBody: c.IncludeBody, At: now}}, nil
	case DisablePush:
		if c.JID == "" {
			return nil, refuse(KindBadRequest, "the push service jid is missing")
		}
		reason := c.Reason
		if reason == "" {
			reason = DisabledByUser
		}
		for _, r := range p.regs {
			if r.JID == c.JID && (c.Node == "" || r.Node == c.Node) {
				return []Event{PushDisabled{User: c.User, JID: c.JID, Node: c.Node, Reason: reason, At: now}}, nil
			}
		}
		return nil, nil
	case SetNotifyLevel:
		if c.Group == "" {
			return nil, refuse(KindBadRequest, "no group named")
		}
		if !c.Level.Valid() {
			return nil, refuse(KindBadRequest, "unknown notification level %q: use all, mentions or none", c.Level)
		}
		if p.Level(c.Group) == c.Level {
			return nil, nil
		}
		return []Event{NotifyLevelSet{User: c.User, Group: c.Group, Level: c.Level, At: now}}, nil
	}
	return nil, refuse(KindBadRequest, "unknown push command")
}
