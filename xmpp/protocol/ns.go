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
)

// Namespaces of the standards the service speaks.
const (
	NSChatStates = "http://jabber.org/protocol/chatstates"
	NSDataForms  = "jabber:x:data"
	NSStanzas    = "urn:ietf:params:xml:ns:xmpp-stanzas"
	NSSID        = "urn:xmpp:sid:0"
	NSDiscoInfo  = "http://jabber.org/protocol/disco#info"
	NSDiscoItems = "http://jabber.org/protocol/disco#items"
	NSPing       = "urn:xmpp:ping"
	NSClient     = "jabber:client"
	NSComponent  = "jabber:component:accept"
)

// Features lists what disco#info on the service announces.
var Features = []string{
	NSGroupchat,
	NSItems, NSGroupInfo, NSMembers, NSMemberInfo,
	NSCreate, NSUpdate, NSDelete, NSAdd, NSRemove,
	NSDiscoInfo, NSDiscoItems, NSPing, NSSID, NSChatStates,
}
