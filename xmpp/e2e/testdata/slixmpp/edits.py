"""A correction (XEP-0308) and a reaction (XEP-0444) from slixmpp's
plugins: delivered and archived, but new to nobody (PROTOCOL.md §6.6).

Arguments: group (a group JID), mention (a JID the correction mentions
with an XEP-0372 reference).
Reports:
  original, correction, reaction  their reflections to this client
  archived                        every archived message, through xep_0313
"""

import xml.etree.ElementTree as ET

import member


def reflection(msg_id):
    return lambda msg: msg['id'] == msg_id and msg['type'] == 'groupchat'


async def scenario(m, args):
    group = args['group']
    out = {}

    original = m.make_message(mto=group, mbody='a tpyo', mtype='groupchat')
    original.send()
    got = await m.expect('the reflection of the original', reflection(original['id']))
    out['original'] = member.describe(got)
    archive_id = [s['id'] for s in member.stanza_ids(got) if s['by'] == group][0]

    # XEP-0308 names the corrected message by the id its sender gave it.
    correction = m.make_message(mto=group, mbody='a typo, and @bob', mtype='groupchat')
    correction['replace']['id'] = original['id']
    correction.append(ET.Element('{urn:xmpp:reference:0}reference', {
        'type': 'mention', 'begin': '13', 'end': '16', 'uri': 'xmpp:' + args['mention']}))
    correction.send()

    # XEP-0444 §4 names a group's message by its stanza-id; send_reactions
    # sends without a type, so the reaction is set on a groupchat message.
    reaction = m.make_message(mto=group, mtype='groupchat')
    m['xep_0444'].set_reactions(reaction, archive_id, ['👍'])
    reaction.enable('store')
    reaction.send()

    out['correction'] = member.describe(await m.expect('the reflection of the correction', reflection(correction['id'])))
    out['reaction'] = member.describe(await m.expect('the reflection of the reaction', reflection(reaction['id'])))

    archived = []
    async for msg in m['xep_0313'].iterate(jid=group, rsm={'max': 50}):
        archived.append(member.describe(msg['mam_result']['forwarded']['stanza']))
    out['archived'] = archived
    return out


member.run(scenario)
