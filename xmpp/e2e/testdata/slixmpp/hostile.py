"""Invalid and oversized messages to a group, written by slixmpp (raw
elements where its stanza interfaces refuse to build them): each gets the
stanza error PROTOCOL.md §6.1 and §9 document, nothing is delivered, and
the group still works afterwards.

Arguments: group (a group JID), occupant (an occupant JID of the group),
limit (the body and extension limit in bytes), depth (the nesting limit).
Reports:
  errors     by case name, the error the case got
  delivered  messages with a case's id that came back as anything but an
             error (after a ping round trip)
  after      the reflection of an ordinary message sent after them all
"""

from slixmpp.xmlstream import ET

import member

NS_CLIENT = 'jabber:client'


def oversized_body(m, group, limit):
    return m.make_message(mto=group, mbody='x' * (limit + 1), mtype='groupchat')


def oversized_extension(m, group, limit):
    msg = m.make_message(mto=group, mbody='small', mtype='groupchat')
    blob = ET.SubElement(msg.xml, '{urn:example:blob}blob')
    blob.text = 'y' * (limit + 1)
    return msg


def empty_body(m, group, limit):
    msg = m.make_message(mto=group, mtype='groupchat')
    ET.SubElement(msg.xml, '{%s}body' % NS_CLIENT)
    return msg


def chat_type(m, group, limit):
    return m.make_message(mto=group, mbody='not groupchat', mtype='chat')


def deep_nesting(m, group, limit, depth):
    msg = m.make_message(mto=group, mbody='deep', mtype='groupchat')
    parent = msg.xml
    for _ in range(depth + 8):
        parent = ET.SubElement(parent, '{urn:example:nest}n')
    return msg


async def scenario(m, args):
    group, limit = args['group'], args['limit']
    cases = {
        'oversized-body': lambda: oversized_body(m, group, limit),
        'oversized-extension': lambda: oversized_extension(m, group, limit),
        'empty-body': lambda: empty_body(m, group, limit),
        'chat-type': lambda: chat_type(m, group, limit),
        'deep-nesting': lambda: deep_nesting(m, group, limit, args['depth']),
        'to-occupant': lambda: m.make_message(mto=args['occupant'], mbody='to an occupant', mtype='groupchat'),
    }
    sent = {}
    for name, build in cases.items():
        msg = build()
        msg['id'] = 'hostile-' + name
        if name == 'empty-body':
            # The case PROTOCOL.md §6.1 names: <body/> alone, without the
            # origin-id slixmpp adds to every message with an id.
            msg.xml.remove(msg.xml.find('{%s}origin-id' % member.NS_SID))
        sent[name] = msg['id']
        msg.send()

    out = {'errors': {}}
    for name, msg_id in sent.items():
        err = await m.expect('the error answering ' + name,
                             lambda msg: msg['id'] == msg_id and msg['type'] == 'error')
        out['errors'][name] = member.error_of(err)
    await m.sync()
    ids = set(sent.values())
    out['delivered'] = [member.describe(x) for x in m.take(lambda msg: msg['id'] in ids)]

    after = m.make_message(mto=group, mbody='still here', mtype='groupchat')
    after['id'] = 'hostile-after'
    after.send()
    out['after'] = member.describe(await m.expect('the reflection of the message after',
                                                  lambda msg: msg['id'] == 'hostile-after'))
    return out


member.run(scenario)
