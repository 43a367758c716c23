"""XEP-0424 retraction and XEP-0425 moderation seen from slixmpp
(PROTOCOL.md §6.7). slixmpp 1.8.3's xep_0424 and xep_0425 speak the
earlier versions (urn:xmpp:message-retract:0 through XEP-0422 fastening),
which the group does not: the retraction is written as XEP-0424 §4 gives
it for urn:xmpp:message-retract:1.

Arguments: group (a group JID), owner (the Go owner's full JID), reason
(the moderation's reason).
The script posts "oops" and "spam", retracts "oops" by its stanza-id,
tells the owner "retracted", waits for the moderation of "spam", then
reads the archive.
Reports:
  posted      the reflections of oops and spam, by id
  retraction  the retraction's reflection, with its <retract/>
  moderation  the moderation as received, with its <retract/>
  archived    every archived message, with its <retract/> or <retracted/>
"""

import xml.etree.ElementTree as ET

import member

NS_RETRACT = 'urn:xmpp:message-retract:1'
NS_MODERATE = 'urn:xmpp:message-moderate:1'


def withdrawal(msg):
    """The message as member.describe reports it, with what its
    <retract/> or <retracted/> says."""
    out = member.describe(msg)
    for name in ('retract', 'retracted'):
        el = msg.xml.find('{%s}%s' % (NS_RETRACT, name))
        if el is None:
            continue
        moderated = el.find('{%s}moderated' % NS_MODERATE)
        reason = el.find('{%s}reason' % NS_RETRACT)
        out[name] = {
            'id': el.get('id', ''),
            'stamp': el.get('stamp', ''),
            'moderated_by': moderated.get('by', '') if moderated is not None else '',
            'reason': reason.text if reason is not None else '',
        }
    return out


def retracts(archive_id):
    def match(msg):
        el = msg.xml.find('{%s}retract' % NS_RETRACT)
        return el is not None and el.get('id') == archive_id
    return match


async def scenario(m, args):
    group = args['group']
    out = {'posted': {}}
    sids = {}
    for msg_id in ('oops', 'spam'):
        msg = m.make_message(mto=group, mbody=msg_id, mtype='groupchat')
        msg['id'] = msg_id
        msg.send()
        got = await m.expect('the reflection of ' + msg_id, lambda r, i=msg_id: (
            r['id'] == i and r['type'] == 'groupchat'))
        out['posted'][msg_id] = member.describe(got)
        sids[msg_id] = [s['id'] for s in member.stanza_ids(got) if s['by'] == group][0]

    retraction = m.make_message(mto=group, mtype='groupchat',
                                mbody="/me retracted a previous message, but it's unsupported by your client.")
    retraction['id'] = 'slix-retract'
    retraction.append(ET.Element('{%s}retract' % NS_RETRACT, {'id': sids['oops']}))
    retraction.append(ET.Element('{urn:xmpp:fallback:0}fallback', {'for': NS_RETRACT}))
    retraction.enable('store')
    retraction.send()
    out['retraction'] = withdrawal(await m.expect('the retraction', retracts(sids['oops'])))

    m.tell(args['owner'], 'retracted')
    out['moderation'] = withdrawal(await m.expect('the moderation', retracts(sids['spam'])))

    archived = []
    async for msg in m['xep_0313'].iterate(jid=group, rsm={'max': 50}):
        archived.append(withdrawal(msg['mam_result']['forwarded']['stanza']))
    out['archived'] = archived
    return out


member.run(scenario)
