"""A group message from slixmpp with a body and an XEP-0359 origin-id, its
reflection, and a resend of it with the same id (as after a reconnect).

Arguments: group (a group JID), id (the message's id and origin-id), body.
Reports:
  reflection  the first message back with that id
  resent      the message back after the resend
  others      any further message with that id (after a ping round trip)
  archived    the archived messages with that id or origin-id, read
              through xep_0313, and count, the RSM count of the archive
"""

import member


def with_id(msg_id):
    return lambda msg: msg['id'] == msg_id and msg.xml.find('{urn:xmpp:mam:2}result') is None


async def scenario(m, args):
    group, msg_id = args['group'], args['id']

    def send():
        msg = m.make_message(mto=group, mbody=args['body'], mtype='groupchat')
        # With use_origin_id, the id is also the message's origin-id.
        msg['id'] = msg_id
        msg.send()

    out = {}
    send()
    out['reflection'] = member.describe(await m.expect('the reflection', with_id(msg_id)))
    send()
    out['resent'] = member.describe(await m.expect('the reflection of the resend', with_id(msg_id)))
    await m.sync()
    out['others'] = [member.describe(x) for x in m.take(with_id(msg_id))]

    res = await m['xep_0313'].retrieve(jid=group, rsm={'max': 100})
    everything = [r['mam_result']['forwarded']['stanza'] for r in res['mam']['results']]
    out['archived'] = [member.describe(x) for x in everything
                       if x['id'] == msg_id or member.origin_id(x) == msg_id]
    out['count'] = res['mam_fin']['rsm']['count']
    return out


member.run(scenario)
