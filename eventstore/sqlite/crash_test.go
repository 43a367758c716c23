package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/uuchat/groupchat/eventstore"
)

// crashChildEnv names the database a re-executed test binary appends to
// until it is killed.
const crashChildEnv = "EVENTSTORE_SQLITE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	code := m.Run()
	removeBenchLogs()
	os.Exit(code)
}

// crashChild appends from several goroutines and prints one line per
// acknowledged append. It stops by itself after a bounded number of appends
// in case nobody kills it.
func crashChild(path string) {
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	out := bufio.NewWriter(os.Stdout)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("group-%d", g)
			exp := eventstore.NoStream()
			for i := 0; i < 20000; i++ {
				id := fmt.Sprintf("%s-%d", stream, i)
				res, err := s.Append(context.Background(), stream, exp, eventstore.EventData{ID: id, Type: "msg", Data: []byte(id)})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				exp = eventstore.Exact(res.Version)
				mu.Lock()
				fmt.Fprintf(out, "%s %d %s\n", stream, res.Version, id)
				out.Flush() // the line leaves the process only after the ack
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	s.Close()
}

// TestKillNineKeepsAcknowledged kills a process that is appending, without
// any chance to shut down, and checks that every append it acknowledged is
// in the file afterwards.
func TestKillNineKeepsAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "events.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	type ack struct {
		stream  string
		version uint64
	}
	acked := make(map[string]ack)
	sc := bufio.NewScanner(stdout)
	killed := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			t.Fatalf("child printed %q", sc.Text())
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		acked[f[2]] = ack{f[0], v}
		if len(acked) == 2000 && !killed {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("child ended on its own after %d appends", len(acked))
	}

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open after kill: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	all, err := s.ReadAll(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	stored := make(map[string]eventstore.RecordedEvent, len(all))
	next := make(map[string]uint64)
	for _, e := range all {
		stored[e.ID] = e
		if e.Version != next[e.Stream] {
			t.Fatalf("%s: version %d, want %d", e.Stream, e.Version, next[e.Stream])
		}
		next[e.Stream]++
	}
	for id, a := range acked {
		e, ok := stored[id]
		if !ok {
			t.Fatalf("acknowledged %s (%s v%d) is missing after kill -9", id, a.stream, a.version)
		}
		if e.Stream != a.stream || e.Version != a.version {
			t.Fatalf("%s stored as %s v%d, acknowledged as %s v%d", id, e.Stream, e.Version, a.stream, a.version)
		}
	}
	// The store keeps working from where the file left off.
	last := all[len(all)-1].Position
	res, err := s.Append(ctx, "group-0", eventstore.Exact(next["group-0"]-1), eventstore.EventData{ID: "after-crash", Type: "msg"})
	if err != nil || res.Position <= last {
		t.Fatalf("append after crash = %+v, %v (last position %d)", res, err, last)
	}
	t.Logf("%d appends acknowledged, %d stored", len(acked), len(all))
}
