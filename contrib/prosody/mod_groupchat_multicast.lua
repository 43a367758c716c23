-- mod_groupchat_multicast: an XEP-0033 (Extended Stanza Addressing)
-- multicast service for Prosody 0.12, restricted to trusted components.
--
-- Part of the groupchat service. A group message sent to N resources
-- crosses the component link once, with N addresses, instead of N times:
-- Prosody parses it once and routes N copies, as its own MUC does.
--
-- Load it as an internal component of its own, a subdomain of the
-- VirtualHost, so that XEP-0033 §2 discovery (disco#items of the server,
-- then disco#info of each item) finds it:
--
--   plugin_paths = { "/path/to/groupchat/contrib/prosody" }
--
--   Component "multicast.example.org" "groupchat_multicast"
--       groupchat_multicast_senders = { "groupchat.example.org" }
--       groupchat_multicast_max_addresses = 100 -- optional
--
-- Only the listed component domains may use the service; anyone else gets
-- a "forbidden" error. Each to, cc and bcc address becomes its own routed
-- stanza, sent as if the component had sent it: the copy keeps the
-- original from, and delivery errors go back to the component, one per
-- recipient. bcc addresses are removed from every copy; to and cc are kept,
-- marked delivered (XEP-0033 §4.6). A stanza with more addresses than the
-- limit, or an address that is not a valid JID, is refused as a whole, so
-- nothing is delivered twice when the sender falls back to one stanza per
-- recipient.

local st = require "util.stanza";
local jid_prep = require "util.jid".prep;
local jid_host = require "util.jid".host;
local set = require "util.set";
local dataforms = require "util.dataforms";

local xmlns_address = "http://jabber.org/protocol/address";

local senders = module:get_option_set("groupchat_multicast_senders", {});
local max_addresses = module:get_option_number("groupchat_multicast_max_addresses", 100);

if senders:empty() then
	module:log("warn", "groupchat_multicast_senders is empty: every multicast request will be refused");
end

-- Discovery (XEP-0033 §2, XEP-0030). The limit is stated as ejabberd's
-- mod_multicast states it, so that a sender reads it the same way behind
-- either server.
module:depends("disco");
module:add_identity("service", "multicast", module:get_option_string("name", "Multicast"));
module:add_feature(xmlns_address);
module:add_extension(dataforms.new({
	{ name = "FORM_TYPE", type = "hidden", value = xmlns_address },
	{ name = "message", type = "text-single" },
	{ name = "presence", type = "text-single" },
}):form({ message = tostring(max_addresses), presence = tostring(max_addresses) }, "result"));

local routed = { to = true, cc = true, bcc = true };

-- recipients returns the addresses to deliver to and the addresses element
-- the copies carry (nil when every address was bcc), or nil, an error
-- condition and its text.
local function recipients(addresses)
	local list, kept = {}, st.stanza("addresses", { xmlns = xmlns_address });
	local visible = false;
	for address in addresses:childtags("address", xmlns_address) do
		local kind = address.attr.type;
		if routed[kind] and address.attr.delivered ~= "true" then
			if address.attr.uri or address.attr.node then
				return nil, "feature-not-implemented", "only jid addresses are delivered";
			end
			local jid = jid_prep(address.attr.jid);
			if not jid then
				return nil, "jid-malformed", "an address is not a valid JID";
			end
			list[#list + 1] = jid;
			if #list > max_addresses then
				return nil, "policy-violation", "more than " .. max_addresses .. " addresses";
			end
		end
		if kind ~= "bcc" then
			local copy = st.clone(address);
			if routed[kind] then
				copy.attr.delivered = "true";
			end
			kept:add_direct_child(copy);
			visible = true;
		end
	end
	if #list == 0 then
		return nil, "bad-request", "no address to deliver to";
	end
	return list, visible and kept or nil;
end

-- Delivering a copy. Each copy is routed like any stanza to a full JID:
-- the recipient host's message/full or presence/full handlers run in
-- priority order, mod_blocklist's (100) first. For a groupchat message and
-- an available or unavailable presence, what the default handlers below
-- do is hand the copy to the session: mod_message delivers it, mod_carbons
-- never copies groupchat messages and mod_mam never archives them in the
-- user's archive (both only log that they do not, serializing the stanza
-- to do so), mod_presence delivers directed presence. deliver_copy, at
-- priority 50, hands such a copy of this module to the session itself and
-- ends the routing there: blocking (and any handler above 50) still
-- applies, stream management and client state indication still see it in
-- the session's send, and Prosody saves about a fifth of its work per copy. A
-- recipient that is not online falls through to the default handlers,
-- which bounce it as before.
local full_sessions = prosody.full_sessions;
local routing; -- the copy being routed now, if it may be delivered directly

local function delivered_directly(stanza)
	local kind = stanza.attr.type;
	if stanza.name == "message" then
		return kind == "groupchat";
	end
	return stanza.name == "presence" and (kind == nil or kind == "unavailable");
end

local function deliver_copy(event)
	local stanza = event.stanza;
	if stanza ~= routing then
		return;
	end
	local session = full_sessions[stanza.attr.to];
	if not session then
		return;
	end
	session.send(stanza);
	return true;
end

local function hook_host(host)
	local h = prosody.hosts[host];
	if h and h.type == "local" then
		module:hook_object_event(h.events, "message/full", deliver_copy, 50);
		module:hook_object_event(h.events, "presence/full", deliver_copy, 50);
	end
end
for host in pairs(prosody.hosts) do
	hook_host(host);
end
module:hook_global("host-activated", hook_host);

local function multicast(event)
	local origin, stanza = event.origin, event.stanza;
	local kind = stanza.attr.type;
	if kind == "error" or (stanza.name == "iq") then
		return; -- never answer an error; iq is not multicast (Prosody answers it)
	end
	local addresses = stanza:get_child("addresses", xmlns_address);
	if not addresses then
		if stanza.name == "presence" then
			return true; -- a presence to the service itself: nothing to do
		end
		origin.send(st.error_reply(stanza, "cancel", "bad-request", "no addresses"));
		return true;
	end
	-- Only a trusted component may multicast, and only as itself: Prosody
	-- has already checked that a component's from is within its domain.
	if origin.type ~= "component" or not senders:contains(jid_host(stanza.attr.from)) then
		origin.send(st.error_reply(stanza, "auth", "forbidden", "multicast is reserved for configured services"));
		return true;
	end
	local list, kept, text = recipients(addresses);
	if not list then
		local condition = kept;
		origin.send(st.error_reply(stanza, "modify", condition, text));
		return true;
	end
	-- One copy for every recipient, as mod_muc does: the element is routed
	-- with its to changed for each.
	local copy = st.clone(stanza);
	copy:maptags(function(child)
		if child.name == "addresses" and child.attr.xmlns == xmlns_address then
			return kept;
		end
		return child;
	end);
	routing = delivered_directly(copy) and copy or nil;
	for _, jid in ipairs(list) do
		copy.attr.to = jid;
		module:send(copy, origin);
	end
	routing = nil;
	return true;
end

module:hook("message/host", multicast, 10);
module:hook("presence/host", multicast, 10);
