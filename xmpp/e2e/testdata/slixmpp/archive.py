"""XEP-0313 through slixmpp's xep_0313 (and its XEP-0059 iteration) on a
group's archive.

Arguments: group (a group JID), page (RSM page size), with (a JID for the
form's with field).
Reports:
  pages     one entry per page the plugin fetched: its results (archived
            messages), and the <fin/>'s complete flag and RSM set
  with      the results of a query with the with field
  ids       the archive ids asked for, and the results of that ids query
  metadata  the <metadata/> answer's start and end ids
An archived message is {result_id, queryid, stamp, message}, message as
member.describe reports it.
"""

import member


def archived(msg):
    result = msg['mam_result']
    forwarded = result['forwarded']
    return {
        'result_id': result['id'],
        'queryid': result['queryid'],
        'stamp': forwarded.xml.find('{urn:xmpp:delay}delay').get('stamp', '')
        if forwarded.xml.find('{urn:xmpp:delay}delay') is not None else '',
        'message': member.describe(forwarded['stanza']),
    }


def rsm(fin):
    s = fin['rsm']
    return {
        'first': s['first'],
        'first_index': s['first_index'],
        'last': s['last'],
        'count': s['count'],
    }


async def scenario(m, args):
    mam = m['xep_0313']
    group = args['group']
    out = {'pages': []}

    pages = mam.retrieve(jid=group, iterator=True, rsm={'max': args['page']})
    async for page in pages:
        fin = page['mam_fin']
        out['pages'].append({
            'results': [archived(r) for r in fin['results']],
            'complete': fin.xml.get('complete', ''),
            'set': rsm(fin),
        })

    res = await mam.retrieve(jid=group, with_jid=args['with'], rsm={'max': 50})
    out['with'] = [archived(r) for r in res['mam']['results']]

    # The plugin has a stanza interface for the ids field but no call that
    # collects the results of such a query: send it and pick the results
    # by queryid from what arrived before the IQ result (XEP-0313 §4.2).
    seen = [r['result_id'] for p in out['pages'] for r in p['results']]
    wanted = [seen[1], seen[-1]]
    iq = m.make_iq_set(ito=group)
    iq['mam']['queryid'] = 'ids-' + iq['id']
    iq['mam']['ids'] = wanted
    await iq.send(timeout=member.WAIT)
    queryid = iq['mam']['queryid']
    results = m.take(lambda msg: msg.xml.find('{urn:xmpp:mam:2}result') is not None
                     and msg['mam_result']['queryid'] == queryid)
    out['ids'] = {'asked': wanted, 'results': [archived(r) for r in results]}

    meta = (await mam.get_archive_metadata(jid=group, timeout=member.WAIT))['mam_metadata']
    out['metadata'] = {'start': meta['start']['id'], 'end': meta['end']['id']}
    return out


member.run(scenario)
