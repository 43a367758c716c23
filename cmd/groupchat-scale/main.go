// Command groupchat-scale measures what the log's length costs the
// service: it builds an event log of a chosen size through the domain
// (projectionstest's Chat mix: mostly messages, some reads and membership
// changes), then starts "groupchat serve" on it twice and reports the time
// from start to the groups being loaded and the peak memory, first with
// the projections rebuilt from the log, then as a restart.
//
//	go run ./cmd/groupchat-scale --events 1000000 --groups 10000 --users 20000
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/uuchat/groupchat/eventstore"
	"github.com/uuchat/groupchat/eventstore/sqlite"
	"github.com/uuchat/groupchat/projections/projectionstest"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("groupchat-scale", flag.ContinueOnError)
	events := fs.Int("events", 1_000_000, "events in the log")
	groups := fs.Int("groups", 10_000, "groups")
	users := fs.Int("users", 20_000, "users")
	seed := fs.Uint64("seed", 1, "seed of the log's randomness (the same seed gives the same log)")
	dir := fs.String("dir", "", "keep the data directory here, and measure a log already there instead of building one (default: a temporary directory, removed)")
	binary := fs.String("binary", "", "a prebuilt groupchat binary (default: go build one)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := measure(*events, *groups, *users, *seed, *dir, *binary); err != nil {
		fmt.Fprintln(os.Stderr, "groupchat-scale:", err)
		return 1
	}
	return 0
}

func measure(events, groups, users int, seed uint64, dir, binary string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "groupchat-scale-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	if binary == "" {
		binary = filepath.Join(dir, "groupchat")
		if out, err := exec.Command("go", "build", "-o", binary, "./cmd/groupchat").CombinedOutput(); err != nil {
			return fmt.Errorf("building groupchat: %v\n%s", err, out)
		}
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	log := filepath.Join(data, "events.db")
	if _, err := os.Stat(log); err == nil {
		fmt.Printf("log: %s, kept from an earlier run\n", log)
	} else {
		started := time.Now()
		if err := generate(log, events, groups, users, seed); err != nil {
			return err
		}
		fmt.Printf("log: %d events, %d groups, %d users (seed %d), built in %s\n", events, groups, users, seed, time.Since(started).Round(time.Millisecond))
	}
	// The first start rebuilds the projections, as on a new machine; a
	// kept log's projections and snapshots go first.
	for _, f := range []string{"projections.db", "projections.db-wal", "projections.db-shm", "snapshots.db", "snapshots.db-wal", "snapshots.db-shm"} {
		if err := os.Remove(filepath.Join(data, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	for _, run := range []string{"first start (projections rebuilt)", "restart"} {
		took, rss, err := start(binary, data)
		if err != nil {
			return fmt.Errorf("%s: %w", run, err)
		}
		fmt.Printf("%-34s start to groups loaded %8s   peak RSS %5d MB\n", run+":", took.Round(10*time.Millisecond), rss>>20)
	}
	return nil
}

// generate writes a log of n events to a new SQLite store at path.
func generate(path string, n, groups, users int, seed uint64) error {
	// Building is not serving: no sync per commit.
	store, err := sqlite.Open(path, sqlite.Options{Synchronous: "normal"})
	if err != nil {
		return err
	}
	defer store.Close()
	// In chunks: the events of a long log do not fit in memory at once.
	// The same seed gives the same log whatever the chunk.
	const chunk = 250_000
	l := projectionstest.NewLog()
	r := rand.New(rand.NewPCG(seed, 0))
	for l.Len() < n {
		l.Random(r, min(l.Len()+chunk, n), groups, users, projectionstest.Chat)
		if err := appendConcurrently(store, l.Events); err != nil {
			return err
		}
		l.Drop()
	}
	return nil
}

// start runs "groupchat serve" on data until it has loaded the groups
// (no XMPP server is needed for that: the link comes after), and returns
// how long that took and the process's peak resident memory.
func start(binary, data string) (time.Duration, uint64, error) {
	cmd := exec.Command(binary, "serve", "--data", data, "--domain", "groupchat.example.org",
		"--secret", "scale", "--server", "127.0.0.1:1", "--log-format", "json")
	cmd.Env = os.Environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return 0, 0, err
	}
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	lines := bufio.NewScanner(stderr)
	lines.Buffer(make([]byte, 1<<16), 1<<20)
	for lines.Scan() {
		if strings.Contains(lines.Text(), "groups loaded from the event log") {
			took := time.Since(begin)
			rss, err := peakRSS(cmd.Process.Pid)
			go func() {
				for lines.Scan() {
				}
			}()
			return took, rss, err
		}
	}
	return 0, 0, fmt.Errorf("serve ended before loading the groups: %v", lines.Err())
}

// peakRSS reads a process's peak resident set size (VmHWM) in bytes.
func peakRSS(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// appendConcurrently appends events, each stream's in order, from many
// goroutines at once, so that the store commits many appends together.
// Positions follow the order of the commits, not of events.
func appendConcurrently(store eventstore.Store, events []eventstore.RecordedEvent) error {
	const workers = 64
	var parts [workers][]eventstore.RecordedEvent
	for _, e := range events {
		i := maphash.String(hashSeed, e.Stream) % workers
		parts[i] = append(parts[i], e)
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range parts {
		wg.Go(func() {
			for _, e := range parts[i] {
				expected := eventstore.NoStream()
				if e.Version > 0 {
					expected = eventstore.Exact(e.Version - 1)
				}
				data := eventstore.EventData{ID: e.ID, Type: e.Type, Data: e.Data, Metadata: e.Metadata}
				if _, err := store.Append(context.Background(), e.Stream, expected, data); err != nil {
					errs[i] = fmt.Errorf("append %s version %d: %w", e.Stream, e.Version, err)
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

var hashSeed = maphash.MakeSeed()
