"""XEP-0333 displayed markers from slixmpp are reads (PROTOCOL.md §6.3).

Arguments: group (a group JID), group_id (its id in #items), sender (the
full JID of the Go member who posts), ids (the ids of its messages).
The script tells the sender "ready" once online, waits for its messages,
marks the last one displayed by its stanza-id (XEP-0333 §5.1, a group with
XEP-0359 ids) and tells the sender "displayed" once the marker's reflection
came back; the sender answers "checked" when it has seen the receipt.
Reports:
  before     this member's #items entry for the group after the messages
  marked     the stanza-id the marker named
  reflection the marker's reflection to this client
  after      the #items entry after the sender said "checked"
"""

import member


async def scenario(m, args):
    group, sender = args['group'], args['sender']
    m.tell(sender, 'ready')
    last = None
    for msg_id in args['ids']:
        last = await m.expect('the message ' + msg_id, lambda msg, i=msg_id: (
            msg['type'] == 'groupchat' and msg['id'] == i))
    marked = [s['id'] for s in member.stanza_ids(last) if s['by'] == group]
    before = (await m.items()).get(args['group_id'])

    # send_marker would send it without a type, and XEP-0333 §5.1 asks
    # for groupchat in a group: the plugin's stanza interface, sent as one.
    displayed = m.make_message(mto=group, mtype='groupchat')
    displayed['displayed']['id'] = marked[0]
    displayed.send()
    reflection = await m.expect('the reflection of the marker', lambda msg: (
        msg['id'] == displayed['id'] and msg['type'] == 'groupchat'))
    m.tell(sender, 'displayed')
    await m.heard(member.bare(sender), 'checked')
    return {
        'before': before,
        'marked': marked[0],
        'reflection': member.describe(reflection),
        'after': (await m.items()).get(args['group_id']),
    }


member.run(scenario)
