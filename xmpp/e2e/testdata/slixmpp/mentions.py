"""XEP-0372 mentions from slixmpp (PROTOCOL.md §6.2). slixmpp 1.8.3 has no
xep_0372 plugin: the references are written as XEP-0372 §3 gives them.

Arguments: group (a group JID), id (the message's id), body, and
references: [{begin, end, uri}], each a mention.
Reports:
  reflection  the message's reflection to this client
"""

import xml.etree.ElementTree as ET

import member

NS_REFERENCE = 'urn:xmpp:reference:0'


async def scenario(m, args):
    msg = m.make_message(mto=args['group'], mbody=args['body'], mtype='groupchat')
    msg['id'] = args['id']
    for ref in args['references']:
        msg.append(ET.Element('{%s}reference' % NS_REFERENCE, {
            'type': 'mention',
            'begin': str(ref['begin']),
            'end': str(ref['end']),
            'uri': ref['uri'],
        }))
    msg.send()
    reflection = await m.expect('the reflection', lambda r: (
        r['id'] == args['id'] and r['type'] == 'groupchat'))
    return {'reflection': member.describe(reflection)}


member.run(scenario)
