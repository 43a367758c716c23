"""XEP-0085 chat states and XEP-0333 markers from slixmpp to a group: they
are relayed, not archived.

Arguments: group (a group JID), marked (the archive id of the message the
displayed marker names, as XEP-0333 §5.1 asks in a group that has
XEP-0359 ids), after (the id of a message sent after the signals).
Reports:
  composing, displayed  the ids the two signals were sent with, and their
                        reflections to this client
  after                 the reflection of a markable message with a body
                        sent after them
  archived              every archived message, through xep_0313, after
                        the reflection of that last message (which follows
                        the commit of everything the group stored before it)
"""

import member


def reflection(msg_id):
    return lambda msg: msg['id'] == msg_id and msg.xml.find('{urn:xmpp:mam:2}result') is None


async def scenario(m, args):
    group = args['group']
    out = {}

    composing = m.make_message(mto=group, mtype='groupchat')
    composing['chat_state'] = 'composing'
    composing.send()

    # A displayed marker with the store hint some clients add so that the
    # server archives it; XEP-0334 hints do not make a signal content.
    displayed = m.make_message(mto=group, mtype='groupchat')
    displayed['displayed']['id'] = args['marked']
    displayed.enable('store')
    displayed.send()

    after = m.make_message(mto=group, mbody='after the signals', mtype='groupchat')
    after['id'] = args['after']
    after.enable('markable')
    after.send()

    for name, sent in (('composing', composing), ('displayed', displayed)):
        got = await m.expect('the reflection of ' + name, reflection(sent['id']))
        out[name] = {'sent_id': sent['id'], 'reflection': member.describe(got)}
    out['after'] = member.describe(await m.expect('the reflection of the message after', reflection(args['after'])))

    archived = []
    async for msg in m['xep_0313'].iterate(jid=group, rsm={'max': 50}):
        archived.append(member.describe(msg['mam_result']['forwarded']['stanza']))
    out['archived'] = archived
    return out


member.run(scenario)
