"""A group entered as an XEP-0045 room through slixmpp's xep_0045, as a
MUC client does: no directed presence to the service first.

Arguments: group (a group JID), nick (the nick asked for), native (the
full JID of a Go member to chat with), stranger (true: only try to enter,
as a user who is not a member).
A member's script enters with <history maxstanzas="5"/>, tells the native
member "joined", waits for its message "live", posts "from-room", sends
a private message to its occupant JID, leaves, tells it "left", waits for
"posted" and enters again with <history maxstanzas="2"/>.
Reports, for a member:
  join, rejoin  what join_muc_wait returned: the self-presence and the
                occupants (member.occupant), the subject, and the history
                (member.describe, with the delay's from)
  live          the native member's message
  reflection    the reflection of this client's message
  private       the error answering the private message (member.error_of)
  exit          the presence confirming the exit
For a stranger:
  refusal       the presence error (member.error_of)
"""

from slixmpp.exceptions import PresenceError

import member


def history_entry(msg):
    out = member.describe(msg)
    out['delay_from'] = str(msg['delay']['from'])
    return out


async def enter(m, room, nick, maxstanzas):
    pres, subject, occupants, history = await m['xep_0045'].join_muc_wait(
        room, nick, maxstanzas=maxstanzas, timeout=member.WAIT)
    return {
        'self': member.occupant(pres),
        'occupants': [member.occupant(p) for p in occupants],
        'subject': {'from': str(subject['from']), 'type': subject['type'],
                    'subject': subject['subject']},
        'history': [history_entry(h) for h in history],
    }


async def scenario(m, args):
    room, nick = args['group'], args['nick']
    if args.get('stranger'):
        try:
            await m['xep_0045'].join_muc_wait(room, nick, timeout=member.WAIT)
        except PresenceError as e:
            return {'refusal': member.error_of(e.presence)}
        raise AssertionError('a stranger entered ' + room)

    native = args['native']
    out = {'join': await enter(m, room, nick, 5)}
    m.tell(native, 'joined')
    out['live'] = member.describe(await m.expect('the native member\'s message', lambda msg: (
        msg['type'] == 'groupchat' and msg['id'] == 'live')))

    msg = m.make_message(mto=room, mbody='hello from the room', mtype='groupchat')
    msg['id'] = 'from-room'
    msg.send()
    out['reflection'] = member.describe(await m.expect('the reflection', lambda r: (
        r['type'] == 'groupchat' and r['id'] == 'from-room')))

    # XEP-0045 §7.5: a private message to an occupant.
    pm = m.make_message(mto=str(out['live']['from']), mbody='psst', mtype='chat')
    pm['id'] = 'private'
    pm.send()
    out['private'] = member.error_of(await m.expect('the private message\'s answer', lambda r: (
        r['id'] == 'private' and r['type'] == 'error')))

    # The exit (XEP-0045 §7.14) to the nick the room assigned.
    m['xep_0045'].leave_muc(room, m['xep_0045'].our_nicks[room])
    out['exit'] = member.occupant(await m.expect_presence('the exit', lambda p: (
        p['type'] == 'unavailable' and p['from'].bare == room)))
    m.tell(native, 'left')
    await m.heard(member.bare(native), 'posted')
    out['rejoin'] = await enter(m, room, nick, 2)
    return out


member.run(scenario, native=False)
