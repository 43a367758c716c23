package service

import (
	"context"
	"reflect"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/protocol"
)

// route is where one kind of request is handled. The table below is the
// one place that says it: protocol.Parse turns a stanza into a request by
// its kind and namespace, and the request's type picks its route.
type route struct {
	// stanza and ns are what a client sends, for the reader of the table.
	stanza, ns string
	req        protocol.Request
	// online is true when the request shows that its sender's resource is
	// online (every request but availability and bounces, which say so
	// themselves).
	online bool
	handle func(s *Service, ctx context.Context, st protocol.Stanza, r protocol.Request)
}

var routeTable = []route{
	// Being online (PROTOCOL.md §2).
	{"presence (available, unavailable)", "", protocol.Availability{}, false, (*Service).availability},
	{"message or presence of type error", "", protocol.Bounce{}, false, (*Service).bounce},
	// Discovery and ping (§3).
	{"iq get", protocol.NSDiscoInfo, protocol.DiscoInfo{}, true, (*Service).discoInfo},
	{"iq get", protocol.NSDiscoItems, protocol.DiscoItems{}, true, (*Service).discoItems},
	{"iq get", protocol.NSPing, protocol.Ping{}, true, (*Service).ping},
	// Queries (§4): across groups on a query worker, one group's on its shard.
	{"iq get to the service", protocol.NSItems, protocol.ItemsQuery{}, true, (*Service).serviceQuery},
	{"iq get to the service, name property", protocol.NSGroupInfo, protocol.FindByName{}, true, (*Service).serviceQuery},
	{"iq get to a group", protocol.NSGroupInfo, protocol.GroupInfoQuery{}, true, (*Service).toShard},
	{"iq get to a group", protocol.NSMembers, protocol.MembersQuery{}, true, (*Service).toShard},
	{"iq get to a group", protocol.NSMemberInfo, protocol.MemberInfoQuery{}, true, (*Service).toShard},
	// Managing groups (§5).
	{"presence with <x/>", "#creategroup #updategroup #deletegroup #addmember #removemember", protocol.GroupCommand{}, true, (*Service).groupCommand},
	// Messages (§6).
	{"message type groupchat with a body or a payload", "", protocol.Post{}, true, (*Service).message},
	{"message type groupchat", protocol.NSChatStates + " <read/>, " + protocol.NSMarkers + " <displayed/>", protocol.Read{}, true, (*Service).message},
	{"message type groupchat, signals only, or marked no-store", "chat states, receipts, markers; " + protocol.NSHints, protocol.Transient{}, true, (*Service).message},
	{"message type groupchat with <retract/>", protocol.NSRetract, protocol.Retract{}, true, (*Service).message},
	{"iq set to a group", protocol.NSModerate + " <moderate/>", protocol.Moderate{}, true, (*Service).toShard},
	// History and catch-up (§7).
	{"iq get to the service", protocol.NSCatchUp, protocol.CatchUp{}, true, (*Service).serviceQuery},
	{"iq get to a group", protocol.NSReaders, protocol.Readers{}, true, (*Service).serviceQuery},
	{"iq get to a group", protocol.NSMAM, protocol.ArchiveForm{}, true, (*Service).archiveForm},
	{"iq set to a group", protocol.NSMAM, protocol.ArchiveQuery{}, true, (*Service).archiveQueryRoute},
	{"iq get to a group", protocol.NSMAM + " <metadata/>", protocol.ArchiveMetadata{}, true, (*Service).archiveMetadata},
	// The XEP-0045 front door (§11): groups as members-only rooms.
	{"presence with <x/> to an occupant JID", protocol.NSMUC, protocol.RoomJoin{}, false, (*Service).toShard},
	{"presence without <x/> to an occupant JID", protocol.NSMUC, protocol.NickChange{}, false, (*Service).toShard},
	{"iq get to a group, node x-roomuser-item", protocol.NSDiscoInfo, protocol.ReservedNick{}, true, (*Service).toShard},
	{"presence unavailable to an occupant JID", protocol.NSMUC, protocol.RoomLeave{}, false, (*Service).toShard},
	{"message type chat or normal to an occupant JID", "", protocol.PrivateMessage{}, false, (*Service).privateMessage},
	{"iq get to a group", protocol.NSMUCAdmin + " <item affiliation|role/>", protocol.AffiliationList{}, false, (*Service).toShard},
	{"iq set to a group", protocol.NSMUCAdmin + " <item affiliation|role/>…", protocol.AdminChange{}, false, (*Service).toShard},
	{"iq get to a group", protocol.NSMUCOwner, protocol.RoomConfigForm{}, false, (*Service).toShard},
	{"iq set to a group", protocol.NSMUCOwner + " <x xmlns=jabber:x:data type=submit|cancel/>", protocol.RoomConfigSubmit{}, false, (*Service).toShard},
	{"iq set to a group", protocol.NSMUCOwner + " <destroy/>", protocol.RoomDestroy{}, false, (*Service).toShard},
	{"message type normal to a group", protocol.NSMUCUser + " <invite/>", protocol.RoomInvite{}, false, (*Service).toShard},
	{"message type groupchat with <subject/> and no <body/>", "", protocol.SubjectChange{}, false, (*Service).toShard},
	// Push (§7.4).
	{"iq set to the service", protocol.NSPush + " <enable/>", protocol.PushEnable{}, true, (*Service).pushRequest},
	{"iq set to the service", protocol.NSPush + " <disable/>", protocol.PushDisable{}, true, (*Service).pushRequest},
	{"iq get or set to a group", protocol.NSGroupPush + " <notify/>", protocol.NotifyLevel{}, true, (*Service).pushRequest},
}

// routes indexes routeTable by request type.
var routes = func() map[reflect.Type]route {
	m := make(map[reflect.Type]route, len(routeTable))
	for _, r := range routeTable {
		m[reflect.TypeOf(r.req)] = r
	}
	return m
}()

// dispatch hands a parsed request to its route; a request without one is
// service-unavailable (a test keeps every request type routed).
func (s *Service) dispatch(ctx context.Context, st protocol.Stanza, req protocol.Request) {
	r, ok := routes[reflect.TypeOf(req)]
	if !ok {
		s.refuse(ctx, st, protocol.ErrServiceUnavailable.With(""))
		return
	}
	if r.online && !s.rooms.InAny(st.From.String()) {
		// Any request shows that its sender's resource is online now; if
		// it leaves without telling us, the next delivery bounces and
		// prunes it. A MUC client in a room stays one: it gets its rooms'
		// traffic only.
		s.online.Online(st.From)
	}
	r.handle(s, ctx, st, req)
}

func (s *Service) availability(_ context.Context, st protocol.Stanza, r protocol.Request) {
	if r.(protocol.Availability).Online {
		s.online.Online(st.From)
	} else {
		s.online.Offline(st.From)
	}
}

// bounce: a delivery error tells that the resource is gone; like any
// error, it gets no answer.
func (s *Service) bounce(_ context.Context, st protocol.Stanza, _ protocol.Request) {
	s.online.Offline(st.From)
	s.rooms.Forget(st.From.String(), st.Requester())
}

// privateMessage refuses a private message through a group's room, as a
// MUC room that does not allow them answers (Prosody's restrict_pm).
func (s *Service) privateMessage(ctx context.Context, st protocol.Stanza, _ protocol.Request) {
	s.refuse(ctx, st, protocol.ErrPolicyViolation.With("private messages are not offered in groups"))
}

func (s *Service) ping(ctx context.Context, st protocol.Stanza, _ protocol.Request) {
	s.reply(ctx, protocol.IQResult(st, nil))
}

func (s *Service) discoInfo(ctx context.Context, st protocol.Stanza, r protocol.Request) {
	if d := r.(protocol.DiscoInfo); d.Group == "" {
		s.reply(ctx, protocol.IQResult(st, s.directory.ServiceInfo()))
		return
	}
	s.toShard(ctx, st, r)
}

func (s *Service) discoItems(ctx context.Context, st protocol.Stanza, r protocol.Request) {
	if r.(protocol.DiscoItems).Group == "" {
		s.serviceQuery(ctx, st, r)
		return
	}
	s.toShard(ctx, st, r)
}

// toShard hands a request about one group to the shard that owns it.
func (s *Service) toShard(ctx context.Context, st protocol.Stanza, r protocol.Request) {
	s.shardOf(st.Group()).Enqueue(ctx, st, r)
}

func (s *Service) archiveForm(ctx context.Context, st protocol.Stanza, _ protocol.Request) {
	s.reply(ctx, protocol.IQResult(st, protocol.ArchiveFormResult()))
}

func (s *Service) archiveQueryRoute(ctx context.Context, st protocol.Stanza, r protocol.Request) {
	s.archiveQuery(ctx, st, r.(protocol.ArchiveQuery))
}

// archiveMetadata answers, on a query worker, where a group's archive
// starts and ends.
func (s *Service) archiveMetadata(ctx context.Context, st protocol.Stanza, r protocol.Request) {
	s.answerOnQueryWorker(ctx, st, func(ctx context.Context) ([]byte, error) {
		if err := s.catchUpProjections(ctx); err != nil {
			return nil, err
		}
		return s.history.ArchiveMetadata(ctx, st, r.(protocol.ArchiveMetadata))
	})
}

// message takes posts, read receipts and live-only signals: each within
// the sender's rate, a post only if it can be delivered under the
// server's stanza limit.
func (s *Service) message(ctx context.Context, st protocol.Stanza, r protocol.Request) {
	deliver := r
	if rd, ok := r.(protocol.Read); ok && rd.Marker != nil {
		deliver = rd.Marker
	}
	switch d := deliver.(type) {
	case protocol.Post:
		if n := protocol.PostBytes(d.Command) + protocol.MessageReserve; s.cfg.MaxOutboundBytes > 0 && n > s.cfg.MaxOutboundBytes {
			s.refuse(ctx, st, protocol.ErrPolicyViolation.With("the message would be larger than the XMPP server accepts from the service"))
			return
		}
	case protocol.Transient:
		// A message not to be stored (XEP-0334) is relayed with its body:
		// it keeps within what a stored one may carry.
		if lim := s.cfg.Limits; lim.MaxBodyBytes > 0 && lim.MaxPayloadBytes > 0 && len(d.Payload) > lim.MaxBodyBytes+lim.MaxPayloadBytes {
			s.refuse(ctx, st, protocol.ErrPolicyViolation.With("the message is larger than the group relays"))
			return
		}
	}
	if !s.limiter.Allow(st.Requester(), s.now()) {
		s.reply(ctx, protocol.ErrorReply(st, protocol.ErrRateLimited.With("too many messages; slow down")))
		return
	}
	s.toShard(ctx, st, r)
}

// groupCommand checks who may make system groups and names a group
// created at the service's address, then hands the command to its shard.
func (s *Service) groupCommand(ctx context.Context, st protocol.Stanza, req protocol.Request) {
	r := req.(protocol.GroupCommand)
	if r.SystemType {
		if err := domain.RequireSystemAdmin(s.admins[st.Requester()]); err != nil {
			s.reply(ctx, protocol.ErrorReply(st, protocol.ErrorFor(err)))
			return
		}
	}
	if c, ok := r.Command.(domain.CreateGroup); ok {
		if r.Group == "" {
			r.Group = newGroupID()
			c.GroupID = r.Group
		}
		// Groups made by the service's administrators are system groups
		// unless they ask otherwise.
		if !r.TypeGiven && s.admins[st.Requester()] {
			c.Type = domain.TypeSystem
		}
		r.Command = c
	}
	s.shardOf(r.Group).Enqueue(ctx, st, r)
}
