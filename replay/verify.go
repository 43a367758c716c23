package replay

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/projections"
)

// maxShown caps the differences Verify lists per table; the rest are
// counted in one last entry, since a table that differs wholesale is
// better summed up than printed.
const maxShown = 100

// Difference is a row on which a live projection database and its rebuild
// disagree.
type Difference struct {
	Table string
	// Key is the row's key columns, as projections.DB.Dump prints them.
	Key string
	// Live and Rebuilt are the row as each database has it, or "" where it
	// has no such row.
	Live, Rebuilt string
	// Omitted, when not zero, makes this entry stand for that many more
	// differences of Table that are not listed.
	Omitted int
}

// String describes the difference for a person: the table, the row's key,
// and each side's other columns.
func (d Difference) String() string {
	if d.Omitted > 0 {
		return fmt.Sprintf("%s: %d more rows differ", d.Table, d.Omitted)
	}
	side := func(row string) string {
		if row == "" {
			return "(no row)"
		}
		_, rest, _ := strings.Cut(row, "\t")
		return "{" + rest + "}"
	}
	return fmt.Sprintf("%s %s: live %s, rebuilt %s", d.Table, d.Key, side(d.Live), side(d.Rebuilt))
}

// Verify rebuilds the projections from store into a temporary file beside
// livePath, up to the live database's checkpoint, and compares every row of
// every table with the live database. No difference is expected: one means
// incremental application and the rebuild disagree, or the live file does
// not belong to this log. The live database may be in use; it is read in
// one transaction, at one checkpoint.
func Verify(ctx context.Context, store eventstore.Store, livePath string) ([]Difference, error) {
	if _, err := os.Stat(livePath); err != nil {
		return nil, fmt.Errorf("replay: verify: %w", err)
	}
	live, err := projections.Open(livePath)
	if err != nil {
		return nil, fmt.Errorf("replay: verify: %w", err)
	}
	liveDump, err := live.Dump(ctx)
	live.Close()
	if err != nil {
		return nil, fmt.Errorf("replay: verify: %w", err)
	}
	upto, err := projections.DumpCheckpoint(liveDump)
	if err != nil {
		return nil, fmt.Errorf("replay: verify: %w", err)
	}

	dir, err := os.MkdirTemp(filepath.Dir(livePath), ".verify-*")
	if err != nil {
		return nil, fmt.Errorf("replay: verify: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "rebuilt.db")
	if _, err := rebuild(ctx, store, path, upto, nil); err != nil {
		return nil, err
	}
	rebuilt, err := projections.Open(path)
	if err != nil {
		return nil, fmt.Errorf("replay: verify: %w", err)
	}
	rebuiltDump, err := rebuilt.Dump(ctx)
	if cerr := rebuilt.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("replay: verify: %w", err)
	}
	return Compare(liveDump, rebuiltDump), nil
}

// Compare lists the rows on which two dumps (projections.DB.Dump) differ,
// table by table, pairing rows by key.
func Compare(live, rebuilt map[string][]string) []Difference {
	var tables []string
	for t := range live {
		tables = append(tables, t)
	}
	for t := range rebuilt {
		if _, ok := live[t]; !ok {
			tables = append(tables, t)
		}
	}
	slices.Sort(tables)
	var out []Difference
	for _, t := range tables {
		out = append(out, compareTable(t, live[t], rebuilt[t])...)
	}
	return out
}

func rowKey(row string) string {
	k, _, _ := strings.Cut(row, "\t")
	return k
}

func byKey(rows []string) []string {
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b string) int { return cmp.Compare(rowKey(a), rowKey(b)) })
	return rows
}

func compareTable(table string, live, rebuilt []string) []Difference {
	live, rebuilt = byKey(live), byKey(rebuilt)
	var out []Difference
	omitted := 0
	add := func(key, l, r string) {
		if len(out) < maxShown {
			out = append(out, Difference{Table: table, Key: key, Live: l, Rebuilt: r})
		} else {
			omitted++
		}
	}
	i, j := 0, 0
	for i < len(live) || j < len(rebuilt) {
		switch {
		case j == len(rebuilt) || i < len(live) && rowKey(live[i]) < rowKey(rebuilt[j]):
			add(rowKey(live[i]), live[i], "")
			i++
		case i == len(live) || rowKey(rebuilt[j]) < rowKey(live[i]):
			add(rowKey(rebuilt[j]), "", rebuilt[j])
			j++
		default:
			if live[i] != rebuilt[j] {
				add(rowKey(live[i]), live[i], rebuilt[j])
			}
			i++
			j++
		}
	}
	if omitted > 0 {
		out = append(out, Difference{Table: table, Omitted: omitted})
	}
	return out
}
