"""A group member as slixmpp sees the service: what every scenario shares.

A scenario script defines ``async def scenario(member, args)`` returning a
dict and ends with ``member.run(scenario)``. ``run`` logs in over c2s with
the settings the Go test passes in the environment, sends the directed
presence that makes the resource online for the service (PROTOCOL.md §2)
unless the script is a MUC client (``run(scenario, native=False)``: a MUC
client never sends it, it enters rooms), runs the scenario and prints what
it returns as one JSON object on stdout. Any exception ends the script with
a traceback on stderr and exit status 1.

A scenario that needs the Go side to act while it runs talks to the Go
clients one to one, through the XMPP server and not the service: ``tell``
sends a chat message to a user, ``heard`` waits for one from a user.

Environment:
  GC_HOST, GC_PORT   the XMPP server's c2s listener
  GC_JID             the full JID to log in as
  GC_PASSWORD        its password
  GC_SERVICE         the service JID
  GC_ARGS            a JSON object of the scenario's own arguments
"""

import asyncio
import json
import logging
import os
import sys
import traceback
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

# How long a scenario waits for one stanza it expects, and for all of it: a
# guard against hanging, not a speed assertion.
WAIT = 20
SCENARIO_TIMEOUT = 90

NS_SID = 'urn:xmpp:sid:0'

# slixmpp's own implementations of the XEPs the scenarios exercise.
PLUGINS = (
    'xep_0030',  # service discovery
    'xep_0045',  # multi-user chat
    'xep_0059',  # result set management
    'xep_0085',  # chat states
    'xep_0199',  # ping
    'xep_0203',  # delayed delivery
    'xep_0297',  # forwarding
    'xep_0308',  # last message correction
    'xep_0313',  # message archive management
    'xep_0333',  # chat markers
    'xep_0334',  # message processing hints
    'xep_0359',  # unique and stable stanza ids
    'xep_0444',  # message reactions
)

NS_ITEMS = 'http://jabber.org/protocol/groupchat#items'


class Member(slixmpp.ClientXMPP):
    """A logged-in member that keeps every message and presence it receives."""

    def __init__(self, jid, password, service):
        super().__init__(jid, password)
        self.service = service
        # Every message this client sends with an id carries the same id as
        # XEP-0359 origin-id, as Monal and Conversations do.
        self.use_origin_id = True
        for plugin in PLUGINS:
            self.register_plugin(plugin)
        # The test servers offer no TLS on loopback (see the launchers in
        # internal/testenv); PLAIN and SCRAM go over the plain stream.
        self['feature_mechanisms'].unencrypted_plain = True
        self.inbox = []
        self.presences = []
        self._arrived = asyncio.Event()
        self.register_handler(Callback(
            'every message',
            MatchXPath('{%s}message' % self.default_ns),
            lambda msg: self._keep(self.inbox, msg)))
        self.register_handler(Callback(
            'every presence',
            MatchXPath('{%s}presence' % self.default_ns),
            lambda pres: self._keep(self.presences, pres)))

    def _keep(self, kept, stanza):
        kept.append(stanza)
        self._arrived.set()

    async def expect(self, what, match, timeout=WAIT):
        """Waits for, removes and returns the first kept message matching."""
        return await self._expect(self.inbox, what, match, timeout)

    async def expect_presence(self, what, match, timeout=WAIT):
        """Waits for, removes and returns the first kept presence matching."""
        return await self._expect(self.presences, what, match, timeout)

    async def _expect(self, kept, what, match, timeout):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for i, stanza in enumerate(kept):
                if match(stanza):
                    return kept.pop(i)
            self._arrived.clear()
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError('expected %s within %ss' % (what, timeout))
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def sync(self):
        """Round-trips a ping through the service: everything it sent this
        client before answering has arrived when sync returns."""
        await self['xep_0199'].send_ping(self.service, timeout=WAIT)

    def tell(self, user, text):
        """Sends text to user one to one, past the service. user is a full
        JID: a resource that sent no broadcast presence (the Go clients
        send only the directed one) gets nothing sent to its bare JID."""
        self.make_message(mto=user, mbody=text, mtype='chat').send()

    async def heard(self, user, text, timeout=WAIT):
        """Waits for the chat message text from user (a bare JID)."""
        await self.expect('%r from %s' % (text, user), lambda msg: (
            msg['type'] == 'chat' and msg['from'].bare == user
            and msg['body'] == text), timeout)

    async def items(self):
        """The service's #items answer (PROTOCOL.md §4.1): each group's
        item attributes by group id."""
        iq = self.make_iq_get(ito=self.service)
        iq.append(ET.Element('{%s}query' % NS_ITEMS))
        res = await iq.send(timeout=WAIT)
        query = res.xml.find('{%s}query' % NS_ITEMS)
        return {it.get('id'): dict(it.attrib)
                for it in query.findall('{%s}item' % NS_ITEMS)}

    def take(self, match):
        """Removes and returns every kept message matching, in arrival order."""
        taken = [m for m in self.inbox if match(m)]
        self.inbox = [m for m in self.inbox if not match(m)]
        return taken


def bare(jid):
    """The bare JID of a JID given as a string."""
    return str(slixmpp.JID(jid).bare)


def origin_id(msg):
    """The XEP-0359 origin-id of a received message, or ''.

    Reading msg['origin_id'] on a message without one would add an empty
    element to it, so look first."""
    if msg.xml.find('{%s}origin-id' % NS_SID) is None:
        return ''
    return msg['origin_id']['id']


def stanza_ids(msg):
    """Every XEP-0359 stanza-id of a message, as {by, id}."""
    return [{'by': e.get('by', ''), 'id': e.get('id', '')}
            for e in msg.xml.findall('{%s}stanza-id' % NS_SID)]


def describe(msg):
    """What a scenario reports of a message: addresses, ids and payload,
    read through slixmpp's stanza interfaces."""
    return {
        'from': str(msg['from']),
        'to': str(msg['to']),
        'type': msg['type'],
        'id': msg['id'],
        'body': msg['body'],
        'origin_id': origin_id(msg),
        'stanza_ids': stanza_ids(msg),
        'children': ['%s' % child.tag for child in msg.xml],
    }


def occupant(pres):
    """What a scenario reports of an occupant's presence (XEP-0045 §7.2.3):
    its address and type, its muc#user item and status codes, read through
    slixmpp's xep_0045 stanza interface."""
    muc = pres['muc']
    return {
        'from': str(pres['from']),
        'type': pres['type'],
        'affiliation': muc['affiliation'],
        'role': muc['role'],
        'jid': str(muc['jid']),
        'statuses': sorted(muc['status_codes']),
    }


def error_of(stanza):
    """The stanza error of an error stanza (or of an IqError), as reported."""
    if isinstance(stanza, IqError):
        stanza = stanza.iq
    err = stanza['error']
    # slixmpp 1.8.3 knows the defined conditions of RFC 3920 only: for
    # RFC 6120's policy-violation err['condition'] is ''. Read the element.
    conditions = [child.tag.split('}', 1)[1] for child in err.xml
                  if child.tag.startswith('{%s}' % err.condition_ns)
                  and not child.tag.endswith('}text')]
    return {
        'type': err['type'],
        'condition': conditions[0] if conditions else '',
        'slixmpp_condition': err['condition'],
        'text': err['text'],
        'by': err.xml.get('by', ''),
        'from': str(stanza['from']),
        'id': stanza['id'],
    }


def run(scenario, native=True):
    """Logs in, runs scenario(member, args) and prints its result; native
    is whether to tell the service the resource is online."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format='slixmpp %(levelname)s %(name)s: %(message)s')
    # stdout carries the result only: slixmpp 1.8.3's join_muc_wait prints
    # every history message's delay there.
    result_out, sys.stdout = sys.stdout, sys.stderr
    env = os.environ
    args = json.loads(env.get('GC_ARGS') or '{}')
    member = Member(env['GC_JID'], env['GC_PASSWORD'], env['GC_SERVICE'])
    outcome = {}

    async def session_start(_event):
        try:
            if native:
                member.send_presence(pto=member.service)
            outcome['result'] = await asyncio.wait_for(
                scenario(member, args), SCENARIO_TIMEOUT)
        except Exception:
            outcome['error'] = traceback.format_exc()
        finally:
            member.disconnect()

    finished = member.loop.create_future()

    def finish(_event=None):
        if not finished.done():
            finished.set_result(None)

    def failed_auth(_event):
        outcome['error'] = 'authentication as %s failed' % env['GC_JID']
        member.disconnect()

    def connection_failed(reason):
        # slixmpp would retry for ever; the test wants to know now.
        outcome['error'] = 'cannot connect to %s:%s: %s' % (
            env['GC_HOST'], env['GC_PORT'], reason)
        finish()

    member.add_event_handler('session_start', session_start)
    member.add_event_handler('failed_auth', failed_auth)
    member.add_event_handler('connection_failed', connection_failed)
    member.add_event_handler('disconnected', finish)
    member.connect((env['GC_HOST'], int(env['GC_PORT'])),
                   force_starttls=False, disable_starttls=True)
    member.loop.run_until_complete(finished)
    if 'error' in outcome:
        sys.stderr.write(outcome['error'] + '\n')
        sys.exit(1)
    if 'result' not in outcome:
        sys.stderr.write('the connection ended before the scenario ran\n')
        sys.exit(1)
    json.dump(outcome['result'], result_out, sort_keys=True)
    result_out.write('\n')
