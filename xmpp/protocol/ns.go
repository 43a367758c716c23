package protocol

// Namespaces of the seed protocol.
const (
	NSGroupchat  = "http://jabber.org/protocol/groupchat"
	NSItems      = NSGroupchat + "#items"
	NSGroupInfo  = NSGroupchat + "#groupinfo"
	NSMembers    = NSGroupchat + "#members"
	NSMemberInfo = NSGroupchat + "#memberinfo"
	NSCreate     = NSGroupchat + "#creategroup"
	NSUpdate     = NSGroupchat + "#updategroup"
	NSDelete     = NSGroupchat + "#deletegroup"
	NSAdd        = NSGroupchat + "#addmember"
	NSRemove     = NSGroupchat + "#removemember"
	// NSCatchUp and NSReaders are the service's additions for phones:
	// catch-up in one round trip, and who read a message.
	NSCatchUp = NSGroupchat + "#catchup"
	NSReaders = NSGroupchat + "#readers"
)

// Namespaces of the standards the service speaks.
const (
	NSChatStates   = "http://jabber.org/protocol/chatstates"
	NSDataForms    = "jabber:x:data"
	NSStanzas      = "urn:ietf:params:xml:ns:xmpp-stanzas"
	NSSID          = "urn:xmpp:sid:0"
	NSDiscoInfo    = "http://jabber.org/protocol/disco#info"
	NSDiscoItems   = "http://jabber.org/protocol/disco#items"
	NSPing         = "urn:xmpp:ping"
	NSMAM          = "urn:xmpp:mam:2"
	NSMUCUser      = "http://jabber.org/protocol/muc#user"
	NSMAMExtended  = "urn:xmpp:mam:2#extended"
	NSDataValidate = "http://jabber.org/protocol/xdata-validate"
	NSRSM          = "http://jabber.org/protocol/rsm"
	NSForward      = "urn:xmpp:forward:0"
	NSDelay        = "urn:xmpp:delay"
	NSHints        = "urn:xmpp:hints"
	NSMarkers      = "urn:xmpp:chat-markers:0"
	NSReference    = "urn:xmpp:reference:0"
	NSCorrect      = "urn:xmpp:message-correct:0"
	NSReactions    = "urn:xmpp:reactions:0"
	NSClient       = "jabber:client"
	NSComponent    = "jabber:component:accept"
)

// Features lists what disco#info on the service announces.
var Features = []string{
	NSGroupchat,
	NSItems, NSGroupInfo, NSMembers, NSMemberInfo,
	NSCreate, NSUpdate, NSDelete, NSAdd, NSRemove,
	NSCatchUp, NSReaders,
	NSDiscoInfo, NSDiscoItems, NSPing, NSSID, NSChatStates, NSRSM,
	NSPush, NSGroupPush,
}

// GroupFeatures lists what disco#info on a group announces.
// Each group hosts its own archive (XEP-0313 §8: the archiving JID
// advertises MAM), so the service's address does not.
var GroupFeatures = []string{NSGroupchat, NSDiscoInfo, NSSID, NSChatStates, NSMAM, NSMAMExtended, NSReaders, NSGroupPush,
	NSRetract, NSRetractTombstone, NSModerate}
