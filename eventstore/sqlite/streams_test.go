package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/eventstore/sqlite"
)

// logOnly hides every method but the Store's, as a backend that cannot
// list streams would.
type logOnly struct{ eventstore.Store }

func TestStreamsByPrefix(t *testing.T) {
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	// Several events per stream: each name is listed once.
	for _, stream := range []string{"push:b", "group", "push:a", "push", "push;x", "pushy", "push:c"} {
		for v := range 3 {
			exp := eventstore.NoStream()
			if v > 0 {
				exp = eventstore.Exact(uint64(v - 1))
			}
			if _, err := s.Append(ctx, stream, exp, eventstore.EventData{ID: uuid.NewString(), Type: "T"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		prefix, after string
		max           int
		want          []string
	}{
		{"push:", "", 10, []string{"push:a", "push:b", "push:c"}},
		{"push:", "push:a", 10, []string{"push:b", "push:c"}},
		{"push:", "", 2, []string{"push:a", "push:b"}},
		{"push", "", 10, []string{"push", "push:a", "push:b", "push:c", "push;x", "pushy"}},
		{"nothing", "", 10, nil},
		{"", "", 10, []string{"group", "push", "push:a", "push:b", "push:c", "push;x", "pushy"}},
	}
	for _, c := range cases {
		got, err := s.Streams(ctx, c.prefix, c.after, c.max)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("Streams(%q, %q, %d) = %q, %v; want %q", c.prefix, c.after, c.max, got, err, c.want)
		}
	}
	// ForEachStream lists the same through the index and through the log.
	for _, st := range []eventstore.Store{s, logOnly{s}} {
		var got []string
		err := eventstore.ForEachStream(ctx, st, "push:", func(n string) error { got = append(got, n); return nil })
		slices.Sort(got)
		if err != nil || fmt.Sprint(got) != "[push:a push:b push:c]" {
			t.Errorf("ForEachStream on %T = %q, %v", st, got, err)
		}
	}
}
