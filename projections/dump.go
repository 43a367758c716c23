package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Dump returns every row of every table, keyed by table name, as sorted
// strings: the key columns, a tab, then the other columns, each as
// name=value with text quoted (so a value never holds a raw tab). All
// tables are read in one transaction, at one checkpoint. Two databases
// built from the same events dump equal; package replay compares them.
func (db *DB) Dump(ctx context.Context) (map[string][]string, error) {
	tx, err := db.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, db.queryErr("dump", err)
	}
	defer tx.Rollback()
	out := make(map[string][]string, len(tableKeys))
	for _, t := range tableKeys {
		cols := append(slices.Clone(t.keys), t.cols...)
		rows, err := tx.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+t.name)
		if err != nil {
			return nil, db.queryErr("dump "+t.name, err)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		var lines []string
		var b strings.Builder
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, db.queryErr("dump "+t.name, err)
			}
			b.Reset()
			for i, c := range cols {
				switch {
				case i == len(t.keys):
					b.WriteByte('\t')
				case i > 0:
					b.WriteByte(' ')
				}
				b.WriteString(c)
				b.WriteByte('=')
				b.WriteString(formatValue(vals[i]))
			}
			lines = append(lines, b.String())
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, db.queryErr("dump "+t.name, err)
		}
		slices.Sort(lines)
		out[t.name] = lines
	}
	return out, nil
}

func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return strconv.FormatInt(v, 10)
	case string:
		return strconv.Quote(v)
	case []byte:
		return strconv.Quote(string(v))
	case bool:
		return strconv.FormatBool(v)
	default:
		return fmt.Sprint(v)
	}
}

// DumpCheckpoint returns the checkpoint a dump was taken at.
func DumpCheckpoint(dump map[string][]string) (uint64, error) {
	rows := dump["checkpoint"]
	if len(rows) != 1 {
		return 0, errors.New("projections: the dump has no checkpoint")
	}
	_, v, ok := strings.Cut(rows[0], "\tposition=")
	if !ok {
		return 0, fmt.Errorf("projections: checkpoint row %q", rows[0])
	}
	return strconv.ParseUint(v, 10, 64)
}
