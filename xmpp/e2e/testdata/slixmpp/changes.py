"""Group changes as a native member running slixmpp receives them live,
and where each places itself (PROTOCOL.md §5, §5.6).

Arguments: group (a group JID), owner (the full JID of the Go owner),
between (the id of a message posted between the changes).
The script tells the owner "ready" once online, then waits for the
group's creation, an addition and a rename, and for the message.
Reports:
  changes  per operation (creategroup, addmember, updategroup): the
           presence's from and type, its <x/>'s previous attribute, and
           its stanza-ids
  between  the message posted between the changes (member.describe)
"""

import member

NS_GC = 'http://jabber.org/protocol/groupchat'


def change(op):
    x = '{%s#%s}x' % (NS_GC, op)
    return lambda pres: pres.xml.find(x) is not None


async def scenario(m, args):
    group = args['group']
    m.tell(args['owner'], 'ready')
    out = {'changes': {}}
    for op in ('creategroup', 'addmember', 'updategroup'):
        pres = await m.expect_presence('the ' + op + ' broadcast', change(op))
        x = pres.xml.find('{%s#%s}x' % (NS_GC, op))
        out['changes'][op] = {
            'from': str(pres['from']),
            'type': pres['type'],
            'has_previous': 'previous' in x.attrib,
            'previous': x.get('previous', ''),
            'stanza_ids': member.stanza_ids(pres),
        }
    out['between'] = member.describe(await m.expect('the message between', lambda msg: (
        msg['type'] == 'groupchat' and msg['id'] == args['between'])))
    return out


member.run(scenario)
