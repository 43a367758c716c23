package projections

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
)

// tally computes the Builder's counters without keeping the log's
// messages in memory.
//
// By definition a member's unread count is the number of counted messages
// of others after its read-up-to version, and its mention count the number
// of its mentions after it (Apply keeps both incrementally, and the tests
// check it against this definition). Both depend only on the member's last
// read-up-to version, known once the fold is over: so the fold appends a
// record for each counted message (its group, version and sender) and each
// mention (its group, version and the member mentioned) to a file, and
// Finish reads the file once, in log order, and counts each record for the
// members it concerns. Memory holds one small number per member; the file
// grows with the log, on disk.
//
// A counted message counts for every member whose read-up-to version is
// less than its version, its sender aside. Each group's members are sorted
// by read-up-to version, so those members are a prefix of that order: the
// message adds one at the prefix's end (a binary search), and a suffix sum
// at the end gives each member the number of messages counting for it. The
// sender's own messages after its read-up-to version are counted apart and
// taken off.
type tally struct {
	f     *os.File
	w     *bufio.Writer
	path  string
	users map[string]uint32
	names []string
	rec   [tallyRecord]byte
}

// The kinds of records in the tally file.
const (
	tallyMessage = 1
	tallyMention = 2
)

// tallyRecord is the size of a record: kind, group index, version, user.
const tallyRecord = 1 + 4 + 8 + 4

// newTally creates the tally file of a build of path, beside it.
func newTally(path string) (*tally, error) {
	name := path + ".tally"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	return &tally{f: f, w: bufio.NewWriterSize(f, 1<<16), path: name, users: make(map[string]uint32)}, nil
}

// user returns the number naming jid in the file.
func (t *tally) user(jid string) uint32 {
	u, ok := t.users[jid]
	if !ok {
		u = uint32(len(t.names))
		t.users[jid] = u
		t.names = append(t.names, jid)
	}
	return u
}

func (t *tally) add(kind byte, group uint32, version uint64, user uint32) error {
	t.rec[0] = kind
	binary.LittleEndian.PutUint32(t.rec[1:], group)
	binary.LittleEndian.PutUint64(t.rec[5:], version)
	binary.LittleEndian.PutUint32(t.rec[13:], user)
	_, err := t.w.Write(t.rec[:])
	return err
}

// tallyGroup is a group's members sorted by read-up-to version, and
// after[k] the number of counted messages whose version is greater than
// the read-up-to versions of exactly the first k members.
type tallyGroup struct {
	sorted []*memMember
	after  []int
}

// count reads the file and sets every member's unread and mention counts.
// groups are the groups by index.
func (t *tally) count(groups []*memGroup) error {
	if err := t.w.Flush(); err != nil {
		return err
	}
	if _, err := t.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	byGroup := make([]tallyGroup, len(groups))
	// member is the member of g that user is, if any.
	member := func(g *memGroup, user uint32) *memMember {
		return g.members[t.names[user]]
	}
	r := bufio.NewReaderSize(t.f, 1<<16)
	var rec [tallyRecord]byte
	for {
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return fmt.Errorf("tally: %w", err)
		}
		gi := binary.LittleEndian.Uint32(rec[1:])
		version := binary.LittleEndian.Uint64(rec[5:])
		user := binary.LittleEndian.Uint32(rec[13:])
		if int(gi) >= len(groups) || int(user) >= len(t.names) {
			return errors.New("tally: bad record")
		}
		g := groups[gi]
		switch rec[0] {
		case tallyMessage:
			tg := &byGroup[gi]
			if tg.after == nil {
				tg.sorted = make([]*memMember, 0, len(g.members))
				for _, m := range g.members {
					tg.sorted = append(tg.sorted, m)
				}
				slices.SortFunc(tg.sorted, func(x, y *memMember) int {
					switch {
					case x.readUpto < y.readUpto:
						return -1
					case x.readUpto > y.readUpto:
						return 1
					}
					return 0
				})
				tg.after = make([]int, len(tg.sorted)+1)
			}
			k := sort.Search(len(tg.sorted), func(i int) bool { return tg.sorted[i].readUpto >= version })
			tg.after[k]++
			if m := member(g, user); m != nil && m.readUpto < version {
				m.own++
			}
		case tallyMention:
			if m := member(g, user); m != nil && m.readUpto < version {
				m.mentioned++
			}
		default:
			return errors.New("tally: bad record")
		}
	}
	for _, tg := range byGroup {
		n := 0
		for i := len(tg.sorted) - 1; i >= 0; i-- {
			n += tg.after[i+1]
			tg.sorted[i].unread = n - tg.sorted[i].own
		}
	}
	return nil
}

// close removes the file.
func (t *tally) close() {
	t.f.Close()
	os.Remove(t.path)
}
