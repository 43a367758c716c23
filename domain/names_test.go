package domain_test

import (
	"strings"
	"testing"

	"github.com/uuchat/groupchat/domain"
)

// nameCases hold for mids and nicks alike: both are stored in NFKC form under
// the same refusals. Every want is written out from the Unicode data, and
// says is a part of the refusal's text that tells what is wrong.
var nameCases = []struct {
	name, in string
	want     string // the stored form; "" when refused
	says     string
}{
	// Accepted, and already in NFKC form.
	{name: "ASCII", in: "alice", want: "alice"},
	{name: "Han", in: "张三", want: "张三"},
	{name: "precomposed e with diaeresis", in: "Zo\u00eb", want: "Zo\u00eb"},
	{name: "apostrophe", in: "o'brien", want: "o'brien"},
	{name: "emoji without a variation selector", in: "🙂", want: "🙂"},
	{name: "a run of spaces inside", in: "a  b", want: "a  b"},
	{name: "Arabic", in: "\u0639\u0644\u064a", want: "\u0639\u0644\u064a"},

	// Accepted in another form: NFKC.
	{name: "fullwidth Latin becomes ASCII", in: "\uff41\uff4c\uff49\uff43\uff45", want: "alice"},
	{name: "e and combining acute compose to e-acute", in: "caf" + "e\u0301", want: "caf\u00e9"},
	{name: "o and combining diaeresis compose", in: "Zoe\u0308", want: "Zo\u00eb"},
	{name: "no-break space inside becomes a space", in: "bob\u00a0x", want: "bob x"},
	{name: "ideographic space inside becomes a space", in: "张\u3000三", want: "张 三"},
	{name: "em space inside becomes a space", in: "a\u2003b", want: "a b"},
	{name: "the fi ligature becomes f and i", in: "\ufb01sh", want: "fish"},
	{name: "superscript two becomes a digit", in: "x\u00b2", want: "x2"},

	// Refused: characters XMPP servers drop (RFC 3454 table B.1).
	{name: "zero-width space", in: "al\u200bice", says: "U+200B"},
	{name: "zero-width space alone", in: "\u200b", says: "U+200B"},
	{name: "zero-width non-joiner", in: "al\u200cice", says: "U+200C"},
	{name: "zero-width joiner", in: "al\u200dice", says: "U+200D"},
	{name: "word joiner", in: "al\u2060ice", says: "U+2060"},
	{name: "byte order mark", in: "\ufeffalice", says: "U+FEFF"},
	{name: "soft hyphen", in: "al\u00adice", says: "U+00AD"},
	{name: "variation selector 16 after an emoji", in: "\u2764\ufe0f", says: "U+FE0F"},
	{name: "variation selector 1", in: "a\ufe00", says: "U+FE00"},
	{name: "combining grapheme joiner", in: "a\u034fb", says: "U+034F"},
	{name: "Mongolian todo soft hyphen", in: "a\u1806b", says: "U+1806"},
	{name: "Mongolian free variation selector", in: "a\u180bb", says: "U+180B"},
	// Refused: other invisible, format or ignorable characters.
	{name: "right-to-left mark", in: "alice\u200f", says: "U+200F"},
	{name: "left-to-right embedding", in: "\u202aalice", says: "U+202A"},
	{name: "Mongolian vowel separator", in: "a\u180eb", says: "U+180E"},
	{name: "variation selector supplement", in: "a\U000e0100", says: "U+E0100"},
	{name: "Hangul filler, named as the filler NFKC makes of it", in: "a\u3164b", says: "U+1160"},
	// Refused: control, private use, unassigned, separators, other spaces.
	{name: "a bell", in: "a\u0007b", says: "U+0007"},
	{name: "a tab", in: "a\tb", says: "U+0009"},
	{name: "a newline", in: "a\nb", says: "U+000A"},
	{name: "next line", in: "a\u0085b", says: "U+0085"},
	{name: "private use", in: "a\ue000b", says: "U+E000"},
	{name: "unassigned in the Greek block", in: "a\u0378b", says: "U+0378"},
	{name: "line separator", in: "a\u2028b", says: "U+2028"},
	{name: "paragraph separator", in: "a\u2029b", says: "U+2029"},
	{name: "Ogham space mark, a space NFKC keeps", in: "a\u1680b", says: "U+1680"},
	// Refused: empty, blank, surrounding white space, not UTF-8.
	{name: "empty", in: "", says: "empty"},
	{name: "a space", in: " ", says: "blank"},
	{name: "a no-break space, blank after NFKC", in: "\u00a0", says: "blank"},
	{name: "an ideographic space, blank after NFKC", in: "\u3000", says: "blank"},
	{name: "a leading space", in: " alice", says: "white space"},
	{name: "a trailing space", in: "alice ", says: "white space"},
	{name: "a trailing ideographic space, a space after NFKC", in: "alice\u3000", says: "white space"},
	{name: "a trailing no-break space, a space after NFKC", in: "alice\u00a0", says: "white space"},
	{name: "not UTF-8", in: "a\xffb", says: "UTF-8"},
	{name: "an encoded surrogate, not UTF-8", in: "a\xed\xa0\x80b", says: "UTF-8"},
}

func TestNormalizeNames(t *testing.T) {
	funcs := []struct {
		what string
		f    func(string) (string, error)
	}{{"mid", domain.NormalizeMID}, {"nick", domain.NormalizeNick}}
	for _, fn := range funcs {
		for _, tc := range nameCases {
			t.Run(fn.what+"/"+tc.name, func(t *testing.T) {
				got, err := fn.f(tc.in)
				if tc.want != "" {
					if err != nil || got != tc.want {
						t.Fatalf("%q gave %q, %v; want %q", tc.in, got, err, tc.want)
					}
					return
				}
				if err == nil {
					t.Fatalf("%q was accepted as %q, want a bad request", tc.in, got)
				}
				if k := domain.KindOf(err); k != domain.KindBadRequest {
					t.Fatalf("%q was refused as %q (%v), want %q", tc.in, k, err, domain.KindBadRequest)
				}
				if !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), fn.what) {
					t.Errorf("%q was refused with %q, which should name the %s and say %q", tc.in, err, fn.what, tc.says)
				}
			})
		}
	}
}

func TestMIDsAndNicksAreStoredNormalized(t *testing.T) {
	team := createTeam()
	add := func(ms ...domain.Member) domain.AddMembers { return domain.AddMembers{By: owner, Members: ms} }
	added := func(ms ...domain.Member) []domain.Event {
		return []domain.Event{domain.MemberAdded{By: owner, At: now, Members: ms}}
	}
	plain := func(jid, mid, nick string) domain.Member {
		return domain.Member{JID: jid, MID: mid, Nick: nick, Role: domain.RoleMember}
	}
	dave := "dave@example.org"
	runAccepted(t, []accepted{
		{name: "a fullwidth mid and nick are stored in ASCII", history: []domain.Command{team},
			cmd:  add(domain.Member{JID: carol, MID: "\uff43\uff41\uff52\uff4f\uff4c", Nick: "\uff23\uff41\uff52\uff4f\uff4c\u3000\uff38"}),
			want: added(plain(carol, "carol", "Carol X"))},
		{name: "a nick defaults to the normalized mid", history: []domain.Command{team},
			cmd: add(domain.Member{JID: carol, MID: "caf" + "e\u0301"}), want: added(plain(carol, "caf\u00e9", "caf\u00e9"))},
		{name: "non-Latin mids are kept as they are", history: []domain.Command{team},
			cmd: add(domain.Member{JID: carol, MID: "张三"}, domain.Member{JID: dave, MID: "Zo\u00eb", Nick: "🙂"},
				domain.Member{JID: "eve@example.org", MID: "o'brien", Nick: "O'Brien"}, domain.Member{JID: "fay@example.org", MID: "🙂"}),
			want: added(plain(carol, "张三", "张三"), plain(dave, "Zo\u00eb", "🙂"),
				plain("eve@example.org", "o'brien", "O'Brien"), plain("fay@example.org", "🙂", "🙂"))},
		{name: "a mid with a space and one with a no-break space normalize alike, so the second is free after the first leaves",
			history: []domain.Command{team, add(domain.Member{JID: carol, MID: "bob x"}), domain.RemoveMembers{By: carol, Members: []domain.MemberSelector{{JID: carol}}}},
			cmd:     add(domain.Member{JID: dave, MID: "bob\u00a0x"}), want: added(plain(dave, "bob x", "bob x"))},
		{name: "the length limit counts characters after normalization: three decomposed e-acutes are three",
			lim: withLimits(func(l *domain.Limits) { l.MaxMIDChars, l.MaxNickChars = 3, 3 }), history: []domain.Command{
				domain.CreateGroup{GroupID: "team", Name: "Team", Creator: domain.Member{JID: owner, MID: "own"}}},
			cmd:  add(domain.Member{JID: carol, MID: "e\u0301e\u0301e\u0301", Nick: "e\u0301e\u0301e\u0301"}),
			want: added(plain(carol, "\u00e9\u00e9\u00e9", "\u00e9\u00e9\u00e9"))},
		{name: "an assigned mid is the normalized local part", history: []domain.Command{team},
			cmd: add(domain.Member{JID: "\uff43\uff41\uff52\uff4f\uff4c@example.org"}), want: added(plain("\uff43\uff41\uff52\uff4f\uff4c@example.org", "carol", "carol"))},
		{name: "an assigned mid avoids a taken mid in its normal form", history: []domain.Command{team},
			cmd:  add(domain.Member{JID: "\uff41\uff4c\uff49\uff43\uff45@elsewhere.example"}),
			want: added(plain("\uff41\uff4c\uff49\uff43\uff45@elsewhere.example", "alice-2", "alice-2"))},
		{name: "an assigned mid stands in for a local part the rules refuse", history: []domain.Command{team},
			cmd: add(domain.Member{JID: "ca\u200brol@example.org"}), want: added(plain("ca\u200brol@example.org", "member", "member"))},
		{name: "an assigned mid is cut to the limit after normalization",
			lim: withLimits(func(l *domain.Limits) { l.MaxMIDChars = 3 }), history: []domain.Command{
				domain.CreateGroup{GroupID: "team", Name: "Team", Creator: domain.Member{JID: owner, MID: "own"}}},
			cmd: add(domain.Member{JID: "\uff5a\uff4fe\u0308x@example.org"}), want: added(plain("\uff5a\uff4fe\u0308x@example.org", "zo\u00eb", "zo\u00eb"))},
	})
	runAccepted(t, []accepted{
		{name: "the creator's own mid and nick are stored normalized",
			cmd: domain.CreateGroup{GroupID: "team", Name: "Team", Creator: domain.Member{JID: owner, MID: "\uff42\uff4f\uff53\uff53", Nick: "Zoe\u0308"}},
			want: []domain.Event{domain.GroupCreated{GroupID: "team", Name: "Team", Type: domain.TypeCustomized, By: owner, At: now,
				Members: []domain.Member{{JID: owner, MID: "boss", Nick: "Zo\u00eb", Role: domain.RoleOwner}}}}},
		{name: "the mid and nick the creator gives in its list entry are stored normalized",
			cmd: domain.CreateGroup{GroupID: "team", Name: "Team", Creator: domain.Member{JID: owner},
				Members: []domain.Member{{JID: owner, MID: "b\u00f6ss", Nick: "B\u00d6SS\u00a0X"}}},
			want: []domain.Event{domain.GroupCreated{GroupID: "team", Name: "Team", Type: domain.TypeCustomized, By: owner, At: now,
				Members: []domain.Member{{JID: owner, MID: "b\u00f6ss", Nick: "B\u00d6SS X", Role: domain.RoleOwner}}}}},
	})

	withMID := func(mid string) domain.AddMembers { return add(domain.Member{JID: dave, MID: mid}) }
	withCarol := func(mid string) []domain.Command {
		return []domain.Command{team, add(domain.Member{JID: carol, MID: mid})}
	}
	runRefused(t, []refused{
		{name: "a no-break space against a space in an existing mid is a conflict", history: withCarol("bob x"),
			cmd: withMID("bob\u00a0x"), want: domain.KindConflict},
		{name: "a space against a no-break space in one request is a conflict", history: []domain.Command{team},
			cmd: add(domain.Member{JID: carol, MID: "bob x"}, domain.Member{JID: dave, MID: "bob\u00a0x"}), want: domain.KindConflict},
		{name: "a fullwidth mid against an ASCII one is a conflict", history: []domain.Command{team},
			cmd: withMID("\uff41\uff4c\uff49\uff43\uff45"), want: domain.KindConflict},
		{name: "a fullwidth mid against an ASCII one in one request is a conflict", history: []domain.Command{team},
			cmd: add(domain.Member{JID: carol, MID: "eve"}, domain.Member{JID: dave, MID: "\uff45\uff56\uff45"}), want: domain.KindConflict},
		{name: "a decomposed e-acute against a precomposed one is a conflict", history: withCarol("caf\u00e9"),
			cmd: withMID("cafe\u0301"), want: domain.KindConflict},
		{name: "an ideographic space against a space is a conflict", history: withCarol("张 三"),
			cmd: withMID("张\u3000三"), want: domain.KindConflict},
		{name: "a creator's fullwidth mid against a member's ASCII mid is a conflict",
			cmd: domain.CreateGroup{GroupID: "team", Name: "Team", Creator: domain.Member{JID: owner, MID: "\uff42\uff4f\uff53\uff53"},
				Members: []domain.Member{{JID: carol, MID: "boss"}}}, want: domain.KindConflict},
		{name: "a zero-width space in a mid is a bad request", history: []domain.Command{team}, cmd: withMID("da\u200bve"), want: domain.KindBadRequest},
		{name: "a zero-width joiner in a nick is a bad request", history: []domain.Command{team},
			cmd: add(domain.Member{JID: dave, Nick: "Da\u200dve"}), want: domain.KindBadRequest},
		{name: "a byte order mark in a mid is a bad request", history: []domain.Command{team}, cmd: withMID("\ufeffdave"), want: domain.KindBadRequest},
		{name: "a soft hyphen in a mid is a bad request", history: []domain.Command{team}, cmd: withMID("da\u00adve"), want: domain.KindBadRequest},
		{name: "a variation selector in a nick is a bad request", history: []domain.Command{team},
			cmd: add(domain.Member{JID: dave, Nick: "\u2764\ufe0f"}), want: domain.KindBadRequest},
		{name: "a right-to-left mark in a mid is a bad request", history: []domain.Command{team}, cmd: withMID("dave\u200f"), want: domain.KindBadRequest},
		{name: "a control character in a mid is a bad request", history: []domain.Command{team}, cmd: withMID("da\u0001ve"), want: domain.KindBadRequest},
		{name: "a mid blank after normalization is a bad request", history: []domain.Command{team}, cmd: withMID("\u3000"), want: domain.KindBadRequest},
		{name: "a nick blank after normalization is a bad request", history: []domain.Command{team},
			cmd: add(domain.Member{JID: dave, Nick: "\u00a0\u3000"}), want: domain.KindBadRequest},
		{name: "a nick with a trailing space is a bad request", history: []domain.Command{team},
			cmd: add(domain.Member{JID: dave, Nick: "Dave "}), want: domain.KindBadRequest},
		{name: "a creator's own mid with a zero-width space is a bad request",
			cmd: domain.CreateGroup{GroupID: "team", Name: "Team", Creator: domain.Member{JID: owner, MID: "bo\u200bss"}}, want: domain.KindBadRequest},
		{name: "a creator's own nick with a soft hyphen is a bad request",
			cmd: domain.CreateGroup{GroupID: "team", Name: "Team", Creator: domain.Member{JID: owner, Nick: "Bo\u00adss"}}, want: domain.KindBadRequest},
		{name: "the mid limit counts characters after normalization: three fi ligatures are six",
			lim: withLimits(func(l *domain.Limits) { l.MaxMIDChars = 5 }), history: []domain.Command{
				domain.CreateGroup{GroupID: "team", Name: "Team", Creator: domain.Member{JID: owner, MID: "own"}}},
			cmd: withMID("\ufb01\ufb01\ufb01"), want: domain.KindLimit},
		{name: "the nick limit counts characters after normalization: three fi ligatures are six",
			lim: withLimits(func(l *domain.Limits) { l.MaxNickChars = 5 }), history: []domain.Command{
				domain.CreateGroup{GroupID: "team", Name: "Team", Creator: domain.Member{JID: owner, MID: "own"}}},
			cmd: add(domain.Member{JID: dave, Nick: "\ufb01\ufb01\ufb01"}), want: domain.KindLimit},
	})
}

func TestSelectorsFindMembersInAnyForm(t *testing.T) {
	team := createTeam()
	aliceM := teamMembers()[2]
	removed := func(ms ...domain.Member) []domain.Event {
		return []domain.Event{domain.MemberRemoved{By: owner, At: now, Members: ms}}
	}
	runAccepted(t, []accepted{
		{name: "a fullwidth mid selects the member", history: []domain.Command{team},
			cmd:  domain.RemoveMembers{By: owner, Members: []domain.MemberSelector{{MID: "\uff41\uff4c\uff49\uff43\uff45"}}},
			want: removed(aliceM)},
		{name: "a fullwidth nick selects the member", history: []domain.Command{team},
			cmd:  domain.RemoveMembers{By: owner, Members: []domain.MemberSelector{{Nick: "\uff21\uff4c\uff49\uff43\uff45"}}},
			want: removed(aliceM)},
		{name: "a mid with a character the server drops selects the member the server would address", history: []domain.Command{team},
			cmd:  domain.RemoveMembers{By: owner, Members: []domain.MemberSelector{{MID: "al\u200bice"}}},
			want: removed(aliceM)},
	})

	g := build(t, domain.DefaultLimits(), team, domain.AddMembers{By: owner, Members: []domain.Member{{JID: carol, MID: "caf\u00e9", Nick: "Zo\u00eb"}}})
	carolM := domain.Member{JID: carol, MID: "caf\u00e9", Nick: "Zo\u00eb", Role: domain.RoleMember}
	for _, mid := range []string{"caf\u00e9", "cafe\u0301", "\uff43\uff41\uff46\u00e9"} {
		if m, ok := g.MemberByMID(mid); !ok || m != carolM {
			t.Errorf("MemberByMID(%q) = %+v, %v; want %+v", mid, m, ok, carolM)
		}
	}
	for _, nick := range []string{"Zo\u00eb", "Zoe\u0308", "\uff3a\uff4f\u00eb"} {
		if m, ok := g.MemberByNick(nick); !ok || m != carolM {
			t.Errorf("MemberByNick(%q) = %+v, %v; want %+v", nick, m, ok, carolM)
		}
	}
	for _, mid := range []string{"cafe", "caf\u00e9 ", "Caf\u00e9"} {
		if m, ok := g.MemberByMID(mid); ok {
			t.Errorf("MemberByMID(%q) found %+v, want nobody", mid, m)
		}
	}
}

// TestMIDsStoredBeforeNormalization builds a group from events that hold mids
// the rules now refuse or would store in another form, as events written
// before mids were normalized may: they still evolve, find their members and
// conflict by the form the XMPP server knows them by.
func TestMIDsStoredBeforeNormalization(t *testing.T) {
	lim := domain.DefaultLimits()
	fullwidth := domain.Member{JID: alice, MID: "\uff41\uff4c\uff49\uff43\uff45", Nick: "\uff21\uff4c\uff49\uff43\uff45", Role: domain.RoleMember}
	zeroWidth := domain.Member{JID: bob, MID: "b\u200bob", Nick: "B\u200bob", Role: domain.RoleMember}
	created := domain.GroupCreated{GroupID: "team", Name: "Team", Type: domain.TypeCustomized, By: owner, At: now,
		Members: []domain.Member{{JID: owner, MID: "boss", Nick: "Boss", Role: domain.RoleOwner}, fullwidth, zeroWidth}}
	g := domain.Evolve(domain.NewGroup(lim), created)

	for _, tc := range []struct {
		mid  string
		want domain.Member
	}{
		{"\uff41\uff4c\uff49\uff43\uff45", fullwidth}, {"alice", fullwidth},
		{"b\u200bob", zeroWidth}, {"bob", zeroWidth},
	} {
		if m, ok := g.MemberByMID(tc.mid); !ok || m != tc.want {
			t.Errorf("MemberByMID(%q) = %+v, %v; want %+v", tc.mid, m, ok, tc.want)
		}
	}
	for _, tc := range []struct {
		nick string
		want domain.Member
	}{{"Alice", fullwidth}, {"Bob", zeroWidth}} {
		if m, ok := g.MemberByNick(tc.nick); !ok || m != tc.want {
			t.Errorf("MemberByNick(%q) = %+v, %v; want %+v", tc.nick, m, ok, tc.want)
		}
	}

	for _, tc := range []struct {
		name string
		cmd  domain.Command
		want domain.Kind
	}{
		{"an ASCII mid conflicts with a stored fullwidth one",
			domain.AddMembers{By: owner, Members: []domain.Member{{JID: carol, MID: "alice"}}}, domain.KindConflict},
		{"a mid conflicts with a stored one that differs by a zero-width space",
			domain.AddMembers{By: owner, Members: []domain.Member{{JID: carol, MID: "bob"}}}, domain.KindConflict},
	} {
		if _, err := domain.Decide(g, tc.cmd, now, lim); domain.KindOf(err) != tc.want {
			t.Errorf("%s: %+v gave %v, want %q", tc.name, tc.cmd, err, tc.want)
		}
	}
	d := decideOK(t, g, domain.AddMembers{By: owner, Members: []domain.Member{{JID: "alice@elsewhere.example"}}}, lim)
	if want := (domain.Member{JID: "alice@elsewhere.example", MID: "alice-2", Nick: "alice-2", Role: domain.RoleMember}); d.Events[0].(domain.MemberAdded).Members[0] != want {
		t.Errorf("the assigned member is %+v, want %+v", d.Events[0].(domain.MemberAdded).Members[0], want)
	}
	d = decideOK(t, g, domain.RemoveMembers{By: owner, Members: []domain.MemberSelector{{MID: "bob"}}}, lim)
	g = apply(g, d)
	if _, ok := g.Member(bob); ok {
		t.Errorf("the member stored as %q is still there after removing it by %q", zeroWidth.MID, "bob")
	}
	if m, ok := g.MemberByMID("alice"); !ok || m != fullwidth {
		t.Errorf("after a removal MemberByMID(alice) = %+v, %v; want %+v", m, ok, fullwidth)
	}
}

// TestTwoStoredMIDsOfOneNormalForm covers a log holding two members whose
// mids only differ in form: the exact mid finds each, the normal form finds
// the one who joined first, and the other once the first has left.
func TestTwoStoredMIDsOfOneNormalForm(t *testing.T) {
	ascii := domain.Member{JID: alice, MID: "alice", Nick: "alice", Role: domain.RoleMember}
	fullwidth := domain.Member{JID: carol, MID: "\uff41\uff4c\uff49\uff43\uff45", Nick: "carol", Role: domain.RoleMember}
	g := domain.Evolve(nil, domain.GroupCreated{GroupID: "team", Name: "Team", Type: domain.TypeCustomized, By: owner, At: now,
		Members: []domain.Member{{JID: owner, MID: "boss", Role: domain.RoleOwner}, ascii}})
	g = domain.Evolve(g, domain.MemberAdded{Members: []domain.Member{fullwidth}, By: owner, At: now})
	for _, tc := range []struct {
		mid  string
		want domain.Member
	}{{"alice", ascii}, {"\uff41\uff4c\uff49\uff43\uff45", fullwidth}, {"al\u200bice", ascii}} {
		if m, ok := g.MemberByMID(tc.mid); !ok || m != tc.want {
			t.Errorf("MemberByMID(%q) = %+v, %v; want %+v", tc.mid, m, ok, tc.want)
		}
	}
	g = domain.Evolve(g, domain.MemberRemoved{Members: []domain.Member{ascii}, By: alice, At: now})
	if m, ok := g.MemberByMID("alice"); !ok || m != fullwidth {
		t.Errorf("after the first left, MemberByMID(alice) = %+v, %v; want %+v", m, ok, fullwidth)
	}
}

func TestValidGroupIDRefusesInvisibleCharacters(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"team", true}, {"张三", true}, {"zo\u00eb", true}, {"🙂", true}, {"o-brien.2", true},
		{"te\u200bam", false}, {"te\u200cam", false}, {"te\u200dam", false}, {"te\u2060am", false},
		{"\ufeffteam", false}, {"te\u00adam", false}, {"team\ufe0f", false}, {"team\U000e0100", false},
		{"te\u200fam", false}, {"te\u202eam", false}, {"te\u034fam", false}, {"te\u1806am", false},
		{"te\u180bam", false}, {"te\u3164am", false}, {"team\u0007", false}, {"team\u007f", false},
		{"te\ue000am", false}, {"te\u0378am", false}, {"te\u2028am", false}, {"te\u2029am", false},
		{"te\u00a0am", false}, {"te\u3000am", false},
	} {
		if got := domain.ValidGroupID(tc.id); got != tc.want {
			t.Errorf("ValidGroupID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}
