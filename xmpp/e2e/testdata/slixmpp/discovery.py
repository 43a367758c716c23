"""XEP-0030 through slixmpp's xep_0030: the service's and a group's
disco#info, and disco#info naming a node on each.

Arguments: group (a group JID).
Reports: service and group ({identities: [[category, type, lang, name]],
features}), and service_node and group_node (the stanza error, or null).
"""

from slixmpp.exceptions import IqError

import member


async def scenario(m, args):
    disco = m['xep_0030']
    out = {}
    for name, jid in (('service', m.service), ('group', args['group'])):
        info = (await disco.get_info(jid=jid, cached=False))['disco_info']
        out[name] = {
            'identities': [list(i) for i in info['identities']],
            'features': sorted(info['features']),
        }
        try:
            await disco.get_info(jid=jid, node='urn:xmpp:mam:2', cached=False)
            out[name + '_node'] = None
        except IqError as e:
            out[name + '_node'] = member.error_of(e)
    return out


member.run(scenario)
