package protocol

import (
	"strings"

	"github.com/uuchat/groupchat/domain"
	"github.com/uuchat/groupchat/xmpp/address"
	"github.com/uuchat/groupchat/xmpp/xmlnode"
)

// The namespaces of a room's administration (XEP-0045 §9, §10).
const (
	NSMUCAdmin     = "http://jabber.org/protocol/muc#admin"
	NSMUCOwner     = "http://jabber.org/protocol/muc#owner"
	NSRoomConfig   = "http://jabber.org/protocol/muc#roomconfig"
	fieldRoomName  = "muc#roomconfig_roomname"
	fieldFormType  = "FORM_TYPE"
	dataFormSubmit = "submit"
	dataFormCancel = "cancel"
)

// The affiliations of XEP-0045 §5.2.
var affiliations = map[string]bool{"owner": true, "admin": true, "member": true, "outcast": true, "none": true}

// The roles of XEP-0045 §5.1.
var roles = map[string]bool{"moderator": true, "participant": true, "visitor": true, "none": true}

// AffiliationList asks for the members of a room with one affiliation, or
// the occupants with one role (XEP-0045 §9.5, §10.3–10.7); one of the two
// is set.
type AffiliationList struct {
	Group             string
	Affiliation, Role string
}

// AdminItem is one change of an IQ set in muc#admin: an affiliation for a
// bare JID (nick is the member id wished for a new member), or a role for
// an occupant's nick.
type AdminItem struct {
	JID, Nick         string
	Affiliation, Role string
	Reason            string
}

// AdminChange is an IQ set in muc#admin: affiliations or roles to change,
// all or none.
type AdminChange struct {
	Group string
	Items []AdminItem
}

// RoomConfigForm asks for a room's configuration form (XEP-0045 §10.2).
type RoomConfigForm struct{ Group string }

// RoomConfigSubmit is a submitted (or cancelled) configuration form;
// submitting an empty form accepts the room as it is (§10.1.2, the
// instant room). Fields holds each field's values by var.
type RoomConfigSubmit struct {
	Group  string
	Cancel bool
	Fields map[string][]string
}

// RoomDestroy asks to destroy a room (XEP-0045 §10.9).
type RoomDestroy struct {
	Group, Reason, AltVenue string
}

// Invitation is one <invite/> of a mediated invitation.
type Invitation struct{ JID, Reason string }

// RoomInvite is a mediated invitation (XEP-0045 §7.8.2): a message to the
// room asking it to invite others.
type RoomInvite struct {
	Group   string
	Invites []Invitation
}

// SubjectChange is a subject change (XEP-0045 §8.1): a groupchat message
// with a <subject/> and no body. The subject is the group's name.
type SubjectChange struct{ Group, Subject string }

func (SubjectChange) request()    {}
func (AffiliationList) request()  {}
func (AdminChange) request()      {}
func (RoomConfigForm) request()   {}
func (RoomConfigSubmit) request() {}
func (RoomDestroy) request()      {}
func (RoomInvite) request()       {}

// parseRoomAdminIQ recognises the IQs of a room's administration: muc#admin
// and muc#owner queries to a group; ok is false for others.
func parseRoomAdminIQ(s Stanza, q *xmlnode.Node) (r Request, err error, ok bool) {
	if q.Name.Local != "query" || (q.Name.Space != NSMUCAdmin && q.Name.Space != NSMUCOwner) {
		return nil, nil, false
	}
	group := s.Group()
	if group == "" {
		return nil, ErrServiceUnavailable.With("the service is no room; ask a group"), true
	}
	if q.Name.Space == NSMUCAdmin {
		r, err = parseAdminQuery(s, q, group)
		return r, err, true
	}
	r, err = parseOwnerQuery(s, q, group)
	return r, err, true
}

func parseAdminQuery(s Stanza, q *xmlnode.Node, group string) (Request, error) {
	items := q.ChildrenNamed(NSMUCAdmin, "item")
	if len(items) == 0 {
		return nil, ErrBadRequest.With("the query has no item")
	}
	if s.Type == "get" {
		it := items[0]
		aff, role := it.Attr("affiliation"), it.Attr("role")
		switch {
		case aff != "" && role == "" && affiliations[aff] && aff != "none":
			return AffiliationList{Group: group, Affiliation: aff}, nil
		case role != "" && aff == "" && roles[role]:
			return AffiliationList{Group: group, Role: role}, nil
		}
		return nil, ErrBadRequest.With("ask for one affiliation (owner, admin, member, outcast) or one role")
	}
	c := AdminChange{Group: group}
	for _, it := range items {
		ai := AdminItem{Affiliation: it.Attr("affiliation"), Role: it.Attr("role"), Nick: it.Attr("nick")}
		if r := it.Child(NSMUCAdmin, "reason"); r != nil {
			ai.Reason = strings.TrimSpace(r.Text)
		}
		switch {
		case ai.Affiliation != "" && ai.Role != "":
			// §17.1.5: an item changes an affiliation or a role, never both.
			return nil, ErrBadRequest.With("an item changes an affiliation or a role, not both")
		case ai.Affiliation != "":
			if !affiliations[ai.Affiliation] {
				return nil, ErrBadRequest.With("unknown affiliation " + ai.Affiliation)
			}
			a := it.Attr("jid")
			if a == "" {
				return nil, ErrBadRequest.With("an affiliation item names its user by jid")
			}
			j, err := address.Parse(a)
			if err != nil || j.Localpart() == "" {
				return nil, ErrJIDMalformed.With("an item's jid is not a valid user JID")
			}
			ai.JID = j.Bare().String()
		case ai.Role != "":
			if !roles[ai.Role] {
				return nil, ErrBadRequest.With("unknown role " + ai.Role)
			}
			if ai.Nick == "" && it.Attr("jid") == "" {
				return nil, ErrBadRequest.With("a role item names its occupant by nick")
			}
		default:
			return nil, ErrBadRequest.With("an item has neither an affiliation nor a role")
		}
		c.Items = append(c.Items, ai)
	}
	return c, nil
}

func parseOwnerQuery(s Stanza, q *xmlnode.Node, group string) (Request, error) {
	if s.Type == "get" {
		return RoomConfigForm{Group: group}, nil
	}
	if d := q.Child(NSMUCOwner, "destroy"); d != nil {
		r := RoomDestroy{Group: group}
		if v := d.Attr("jid"); v != "" {
			j, err := address.Parse(v)
			if err != nil {
				return nil, ErrJIDMalformed.With("the alternate venue is not a valid JID")
			}
			r.AltVenue = j.String()
		}
		if reason := d.Child(NSMUCOwner, "reason"); reason != nil {
			r.Reason = strings.TrimSpace(reason.Text)
		}
		return r, nil
	}
	x := q.Child(NSDataForms, "x")
	if x == nil {
		return nil, ErrBadRequest.With("submit a jabber:x:data form or a <destroy/>")
	}
	switch x.Attr("type") {
	case dataFormCancel:
		return RoomConfigSubmit{Group: group, Cancel: true}, nil
	case dataFormSubmit:
	default:
		return nil, ErrBadRequest.With("the form's type is neither submit nor cancel")
	}
	r := RoomConfigSubmit{Group: group, Fields: map[string][]string{}}
	for _, f := range x.ChildrenNamed(NSDataForms, "field") {
		v := f.Attr("var")
		if v == "" {
			continue
		}
		vals := []string{}
		for _, val := range f.ChildrenNamed(NSDataForms, "value") {
			vals = append(vals, val.Text)
		}
		r.Fields[v] = vals
	}
	if ft, ok := r.Fields[fieldFormType]; ok && (len(ft) != 1 || ft[0] != NSRoomConfig) {
		return nil, ErrBadRequest.With("the form's FORM_TYPE is not " + NSRoomConfig)
	}
	return r, nil
}

// parseRoomSubject recognises a subject change: a groupchat message to a
// group with a <subject/> and neither <body/> nor <thread/> (§8.1: with
// either it is a message); ok is false for others.
func parseRoomSubject(s Stanza) (r Request, err error, ok bool) {
	subj := s.Node.Child("", "subject")
	if subj == nil || s.Node.Child("", "body") != nil || s.Node.Child("", "thread") != nil {
		return nil, nil, false
	}
	name := strings.TrimSpace(subj.Text)
	if name == "" {
		// The subject is the group's name, which is never empty.
		return nil, ErrNotAcceptable.With("the subject is the group's name and cannot be empty"), true
	}
	return SubjectChange{Group: s.Group(), Subject: name}, nil, true
}

// parseRoomInvite recognises a mediated invitation: a message of type
// normal to a group's bare JID with <x xmlns="…muc#user"><invite/></x>;
// ok is false for others.
func parseRoomInvite(s Stanza) (r Request, err error, ok bool) {
	if (s.Type != "" && s.Type != "normal") || s.Group() == "" || s.To.Resourcepart() != "" {
		return nil, nil, false
	}
	x := s.Node.Child(NSMUCUser, "x")
	if x == nil {
		return nil, nil, false
	}
	invites := x.ChildrenNamed(NSMUCUser, "invite")
	if len(invites) == 0 {
		if x.Child(NSMUCUser, "decline") != nil {
			// The service adds whom it is told to: an invitee that does not
			// want to be a member leaves the group.
			return nil, ErrNotImplemented.With("declining is leaving: leave the group instead"), true
		}
		return nil, nil, false
	}
	inv := RoomInvite{Group: s.Group()}
	for _, it := range invites {
		j, err := address.Parse(it.Attr("to"))
		if err != nil || j.Localpart() == "" {
			return nil, ErrJIDMalformed.With("an invitation's to is not a valid user JID"), true
		}
		i := Invitation{JID: j.Bare().String()}
		if reason := it.Child(NSMUCUser, "reason"); reason != nil {
			i.Reason = strings.TrimSpace(reason.Text)
		}
		inv.Invites = append(inv.Invites, i)
	}
	return inv, nil, true
}

// RoomName is the room name a submitted form asks for, if it names one.
func (r RoomConfigSubmit) RoomName() (string, bool) {
	v, ok := r.Fields[fieldRoomName]
	if !ok {
		return "", false
	}
	return strings.TrimSpace(strings.Join(v, "\n")), true
}

// roomFacts are the configuration a group has as a room, whatever its
// owner submits: persistent, members-only, non-anonymous, hidden,
// unmoderated, without password (XEP-0045 §15.5.3's fields).
var roomFacts = []struct{ field, value string }{
	{"muc#roomconfig_persistentroom", "1"},
	{"muc#roomconfig_membersonly", "1"},
	{"muc#roomconfig_whois", "anyone"},
	{"muc#roomconfig_publicroom", "0"},
	{"muc#roomconfig_moderatedroom", "0"},
	{"muc#roomconfig_passwordprotectedroom", "0"},
}

// ChangedFact names the first fixed fact of a room the form asks to
// change, or "": those cannot be processed (XEP-0045 §10.1.3:
// not-acceptable).
func (r RoomConfigSubmit) ChangedFact() string {
	for _, f := range roomFacts {
		v, ok := r.Fields[f.field]
		if !ok {
			continue
		}
		got := strings.TrimSpace(strings.Join(v, ""))
		switch got {
		case "true":
			got = "1"
		case "false":
			got = "0"
		}
		if got != f.value {
			return f.field
		}
	}
	return ""
}

// RoomConfigFormResult renders a room's configuration form (XEP-0045
// §10.2): the name, the one field an owner changes, and the room's fixed
// facts as hidden fields, returned unchanged on submission.
func RoomConfigFormResult(group, name string) []byte {
	p := AppendStart(nil, "query", false, A("xmlns", NSMUCOwner))
	p = AppendStart(p, "x", false, A("xmlns", NSDataForms), A("type", "form"))
	p = AppendElementText(p, "title", `Configuration for "`+group+`"`)
	p = AppendElementText(p, "instructions", "The room's name is the group's name. The other settings are those of every group and cannot be changed.")
	p = appendFormField(p, "hidden", fieldFormType, "", NSRoomConfig)
	p = appendFormField(p, "text-single", fieldRoomName, "Natural-Language Room Name", name)
	for _, f := range roomFacts {
		p = appendFormField(p, "hidden", f.field, "", f.value)
	}
	p = AppendEnd(p, "x")
	return AppendEnd(p, "query")
}

func appendFormField(p []byte, typ, name, label, value string) []byte {
	attrs := []Attr{A("type", typ), A("var", name)}
	if label != "" {
		attrs = append(attrs, A("label", label))
	}
	p = AppendStart(p, "field", false, attrs...)
	p = AppendElementText(p, "value", value)
	return AppendEnd(p, "field")
}

// AdminListItem is one <item/> of an affiliation or role list.
type AdminListItem struct {
	Affiliation, JID, Nick, Role string
}

// AffiliationListResult renders a list of affiliations or roles (XEP-0045
// §9.5): affiliation and jid on each item, with the nick and role of the
// member, every member being an occupant.
func AffiliationListResult(items []AdminListItem) []byte {
	p := AppendStart(nil, "query", false, A("xmlns", NSMUCAdmin))
	for _, it := range items {
		p = AppendStart(p, "item", true, A("affiliation", it.Affiliation), A("jid", it.JID), A("nick", it.Nick), A("role", it.Role))
	}
	return AppendEnd(p, "query")
}

// InvitationMessage renders the invitation a room sends an invitee on
// behalf of the inviter (XEP-0045 §7.8.2), from the room's bare JID.
func InvitationMessage(groupJID, id, inviter, reason string) Outbound {
	tail := append(make([]byte, 0, 192+len(reason)), `">`...)
	tail = AppendStart(tail, "x", false, A("xmlns", NSMUCUser))
	tail = appendWithReason(tail, "invite", A("from", inviter), reason)
	tail = AppendEnd(tail, "x")
	tail = AppendEnd(tail, "message")
	return outbound("message", groupJID, id, "", "", tail)
}

// MessageRefusal renders the error answering a message to a room, which
// echoes the request's element that failed (XEP-0045 §8.1 and §9.5's
// examples: the <subject/>, the invitation's <x/>), if any.
func MessageRefusal(s Stanza, e *Error, echo *xmlnode.Node) Outbound {
	tail := append(make([]byte, 0, 512), `">`...)
	if echo != nil {
		tail = xmlnode.AppendXML(tail, echo, s.Node.Name.Space)
	}
	tail = AppendErrorElement(tail, e, s.To.Bare().String())
	tail = AppendEnd(tail, "message")
	return outbound("message", s.To.String(), s.ID, "error", s.From.String(), tail)
}

// NickMID is the member id a MUC nick stands for: the nick in the form the
// domain keeps member ids, when that form is an XMPP resource as the
// server prepares it (the member's occupant address).
func NickMID(nick string) (string, bool) {
	mid, err := domain.NormalizeMID(nick)
	if err != nil || mid == "" || checkMID(mid) != nil {
		return "", false
	}
	return mid, true
}
